using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using FactoryEdge.Core;
using FactoryEdge.Pipeline.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FactoryEdge.Dashboard;

/// <summary>
/// Runs the dashboard's own Kestrel server inside the gateway host (own bind, own middleware), and
/// pushes live data to the connected browsers at <see cref="DashboardOptions.PushIntervalMs"/>. The
/// gateway keeps monitoring if the dashboard cannot bind (the port is taken): it logs the error.
/// </summary>
public sealed partial class DashboardServer : BackgroundService
{
    private readonly DashboardOptions _options;
    private readonly DisplayTap _tap;
    private readonly LiveHub _hub;
    private readonly DashboardViews _views;
    private readonly DashboardAuthenticator _auth;
    private readonly IServiceProvider _services;
    private readonly ILoggerFactory _loggerFactory;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly TaskCompletionSource<IReadOnlyList<string>> _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private WebApplication? _app;
    private long _boardVersion;

    public DashboardServer(
        IOptions<DashboardOptions> options, DisplayTap tap, LiveHub hub, IServiceProvider services, ILoggerFactory loggerFactory, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        _options = options.Value;
        _tap = tap;
        _hub = hub;
        _services = services;
        _loggerFactory = loggerFactory;
        _time = time;
        _logger = loggerFactory.CreateLogger<DashboardServer>();
        _views = new DashboardViews(tap, time, services);
        _auth = new DashboardAuthenticator(_options, time);
    }

    /// <summary>The addresses the server listens on (with the real port when 0 was configured); completes when started.</summary>
    public Task<IReadOnlyList<string>> Addresses => _started.Task;

    /// <summary>The page's URL for people (first address; 0.0.0.0 shown as the host's name).</summary>
    public static string DisplayUrl(string address) =>
        address.Replace("0.0.0.0", Dns.GetHostName(), StringComparison.Ordinal).Replace("[::]", Dns.GetHostName(), StringComparison.Ordinal) + "/";

    internal DashboardViews Views => _views;

    /// <summary>One line for a console: where the page is, or why it is not there (for <c>demo</c>).</summary>
    public static string Describe(IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (services.GetService<DashboardServer>() is not { } server)
        {
            return "Dashboard: disabled (FactoryEdge:Dashboard:Enabled).";
        }

        var addresses = server.Addresses;
        return addresses.IsCompletedSuccessfully && addresses.Result.Count > 0
            ? "Dashboard: " + DisplayUrl(addresses.Result[0]) + (server._auth.RequiresAuthentication ? " (log in)" : "")
            : "Dashboard: not available (" + (addresses.Exception?.GetBaseException().Message ?? "not started") + "; set FactoryEdge:Dashboard:Urls).";
    }

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            _app = BuildApp();
            await _app.StartAsync(cancellationToken).ConfigureAwait(false);
            var addresses = _app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.ToList() ?? [];
            foreach (var address in addresses)
            {
                LogListening(_logger, address, _auth.RequiresAuthentication ? "credentials required" : $"no login on loopback (role {_auth.AnonymousRole})");
            }

            if (!_options.IsLoopbackOnly() && _options.ParseUrls().Any(u => !u.Https))
            {
                LogPlainHttp(_logger);
            }

            _started.TrySetResult(addresses);
        }
        catch (Exception ex) when (ex is IOException or SocketException or InvalidOperationException or System.Security.Cryptography.CryptographicException)
        {
            LogBindFailed(_logger, _options.Urls, ex);
            _started.TrySetException(ex);
            if (_app is not null)
            {
                await _app.DisposeAsync().ConfigureAwait(false);
                _app = null;
            }

            return;
        }

        if (_services.GetService<IAlarmBoard>() is { } board)
        {
            board.Changed += OnBoardChanged;
        }

        await base.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_services.GetService<IAlarmBoard>() is { } board)
        {
            board.Changed -= OnBoardChanged;
        }

        foreach (var client in _hub.Clients)
        {
            _hub.Disconnect(client);
        }

        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        if (_app is not null)
        {
            await _app.StopAsync(cancellationToken).ConfigureAwait(false);
            await _app.DisposeAsync().ConfigureAwait(false);
            _app = null;
        }
    }

    public override void Dispose()
    {
        _wake.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Attach the tap to the pipeline's (enriched) channels once it runs.
        var pipelineService = _services.GetService<PipelineHostedService>();
        if (pipelineService is not null)
        {
            await pipelineService.Ready.WaitAsync(stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            if (pipelineService.Pipeline is { } pipeline)
            {
                _tap.Attach(pipeline.Channels, pipeline.FeatureNames, pipeline.Options.WindowSize, pipeline.Options.Hop);
            }
        }

        var interval = TimeSpan.FromMilliseconds(_options.PushIntervalMs);
        var lastAlarmVersion = -1L;
        var lastFrames = new Dictionary<int, object?>();
        var lastPing = _time.GetTimestamp();
        var tick = 0L;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await _wake.WaitAsync(interval, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            try
            {
                tick++;
                PushOnce(ref lastAlarmVersion, lastFrames, ref lastPing, tick);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogPushFailed(_logger, ex);
            }
        }
    }

    /// <summary>One push: alarms when they changed, the overview, and each watched machine's live frame.</summary>
    internal void PushOnce(ref long lastAlarmVersion, Dictionary<int, object?> lastFrames, ref long lastPing, long tick)
    {
        var clients = _hub.Clients;
        var machines = clients.Select(c => c.Machine).Where(m => m is not null).Distinct(StringComparer.Ordinal).ToList();
        var channels = _tap.Channels;
        for (var i = 0; i < channels.Count; i++)
        {
            if (machines.Contains(channels[i].Id.MachineKey))
            {
                _tap.Watch(i);
            }
        }

        if (clients.Count == 0)
        {
            return;
        }

        var alarmVersion = Interlocked.Read(ref _boardVersion) + _tap.AlertVersion;
        if (alarmVersion != lastAlarmVersion)
        {
            lastAlarmVersion = alarmVersion;
            _hub.Publish(LiveHub.Format("alarms", JsonSerializer.Serialize(_views.Alarms(), DashboardViews.Json)));
        }

        if (tick % Math.Max(1, 1000 / _options.PushIntervalMs) == 0)
        {
            _hub.Publish(LiveHub.Format("overview", JsonSerializer.Serialize(_views.Overview(), DashboardViews.Json)));
        }

        var trendAfter = _time.GetUtcNow().ToUnixTimeMilliseconds() - 30_000;
        foreach (var machine in machines)
        {
            var live = _views.MachineLive(machine!, trendAfter, i =>
            {
                var frame = _tap.Spectrum(i);
                if (frame is null || (lastFrames.TryGetValue(i, out var last) && ReferenceEquals(last, frame)))
                {
                    return false;
                }

                lastFrames[i] = frame;
                return true;
            });
            var message = LiveHub.Format("machine", JsonSerializer.Serialize(live, DashboardViews.Json));
            _hub.Publish(message, c => c.Machine == machine);
        }

        var now = _time.GetTimestamp();
        if (_time.GetElapsedTime(lastPing, now) > TimeSpan.FromSeconds(15))
        {
            lastPing = now;
            _hub.Publish(": ping\n\n"u8.ToArray());
        }
    }

    private void OnBoardChanged(object? sender, AlarmView alarm)
    {
        Interlocked.Increment(ref _boardVersion);
        try
        {
            if (_wake.CurrentCount == 0)
            {
                _wake.Release();
            }
        }
        catch (SemaphoreFullException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private WebApplication BuildApp()
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(DashboardServer).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
            EnvironmentName = Environments.Production,
            Args = [],
        });
        builder.Configuration.Sources.Clear();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(_loggerFactory);
        builder.Services.AddSingleton(_time);
        var urls = _options.ParseUrls();
        var certificate = urls.Any(u => u.Https) ? LoadCertificate(_options) : null;
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = 64 * 1024;
            foreach (var url in urls)
            {
                void Configure(ListenOptions listen)
                {
                    // HTTP/2 needs TLS (ALPN); plain http stays HTTP/1.1 (EventSource works on both).
                    listen.Protocols = url.Https ? HttpProtocols.Http1AndHttp2 : HttpProtocols.Http1;
                    if (url.Https)
                    {
                        listen.UseHttps(certificate!);
                    }
                }

                if (url.Address is null)
                {
                    k.ListenLocalhost(url.Port, Configure);
                }
                else if (url.IsAny && url.Address.Equals(IPAddress.Any))
                {
                    k.Listen(IPAddress.Any, url.Port, Configure);
                }
                else
                {
                    k.Listen(url.Address, url.Port, Configure);
                }
            }
        });

        var app = builder.Build();
        var endpoints = new DashboardEndpoints(_options, _auth, _views, _hub, _tap, _loggerFactory.CreateLogger<DashboardEndpoints>());
        endpoints.Map(app);
        return app;
    }

    internal static X509Certificate2 LoadCertificate(DashboardOptions options)
    {
        var path = options.CertificatePath;
        var password = options.CertificatePassword.Length == 0 ? null : options.CertificatePassword;
        if (path.EndsWith(".pfx", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".p12", StringComparison.OrdinalIgnoreCase))
        {
            return X509CertificateLoader.LoadPkcs12FromFile(path, password);
        }

        var pem = password is null
            ? X509Certificate2.CreateFromPemFile(path, options.CertificateKeyPath.Length == 0 ? null : options.CertificateKeyPath)
            : X509Certificate2.CreateFromEncryptedPemFile(path, password, options.CertificateKeyPath.Length == 0 ? null : options.CertificateKeyPath);
        // Re-import so that the private key is usable by SslStream on every platform.
        using (pem)
        {
            return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        }
    }

    [LoggerMessage(EventId = 9501, Level = LogLevel.Information, Message = "Dashboard listening on {Address} ({Access})")]
    private static partial void LogListening(ILogger logger, string address, string access);

    [LoggerMessage(EventId = 9502, Level = LogLevel.Error, Message = "Dashboard cannot listen on {Urls}; the gateway goes on monitoring without it (set FactoryEdge:Dashboard:Urls)")]
    private static partial void LogBindFailed(ILogger logger, string urls, Exception exception);

    [LoggerMessage(EventId = 9503, Level = LogLevel.Warning, Message = "Dashboard on a non-loopback address without TLS: passwords and tokens cross the network in clear (set an https URL and FactoryEdge:Dashboard:CertificatePath)")]
    private static partial void LogPlainHttp(ILogger logger);

    [LoggerMessage(EventId = 9504, Level = LogLevel.Error, Message = "Dashboard push failed")]
    private static partial void LogPushFailed(ILogger logger, Exception exception);
}
