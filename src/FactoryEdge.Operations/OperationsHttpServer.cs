using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Metrics;

namespace FactoryEdge.Operations;

/// <summary>
/// The operations endpoint: its own Kestrel on <see cref="OperationsOptions.Urls"/> (loopback by
/// default), GET/HEAD only, three paths: <c>/healthz</c> (liveness), <c>/readyz</c> (readiness),
/// <c>/metrics</c> (Prometheus text through the OpenTelemetry exporter, every meter named
/// <c>FactoryEdge.*</c>). No UI, no writes, no request bodies. A port already in use is logged as an
/// error and the gateway goes on monitoring without it.
/// </summary>
public sealed partial class OperationsHttpServer : IHostedService, IAsyncDisposable
{
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        WriteIndented = false,
    };

    private readonly OperationsMonitor _monitor;
    private readonly OperationsOptions _options;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private WebApplication? _app;
    private MeterProvider? _meters;

    public OperationsHttpServer(OperationsMonitor monitor, IOptions<OperationsOptions> options, ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        _monitor = monitor;
        _options = options.Value;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<OperationsHttpServer>();
    }

    /// <summary>The addresses actually bound (with the real port when 0 was asked for); empty when not serving.</summary>
    public IReadOnlyList<string> BoundUrls { get; private set; } = [];

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!_options.Enabled)
        {
            return;
        }

        _meters = Sdk.CreateMeterProviderBuilder()
            .AddMeter("FactoryEdge.*")
            .AddView("factoryedge.pipeline.stage.duration", new ExplicitBucketHistogramConfiguration { Boundaries = OperationsMonitor.LatencyBounds })
            .AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0)
            .Build();

        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = "factoryedge-operations", ContentRootPath = AppContext.BaseDirectory });
        builder.Services.AddSingleton(_loggerFactory);
        builder.Services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxConcurrentConnections = 32;
            k.Limits.MaxRequestBodySize = 0;
            k.Limits.MaxRequestHeadersTotalSize = 16 * 1024;
            foreach (var uri in _options.ParsedUrls())
            {
                if (uri.Host is "localhost")
                {
                    k.ListenLocalhost(uri.Port);
                }
                else if (uri.Host is "*" or "+" or "0.0.0.0")
                {
                    k.ListenAnyIP(uri.Port);
                }
                else
                {
                    k.Listen(IPAddress.Parse(uri.Host.Trim('[', ']')), uri.Port);
                }
            }
        });

        var app = builder.Build();
        app.UseOpenTelemetryPrometheusScrapingEndpoint(_meters, ctx => ctx.Request.Path == "/metrics" && IsRead(ctx.Request.Method), path: null, configureBranchedPipeline: null, optionsName: null);
        app.Run(HandleAsync);
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or InvalidOperationException)
        {
            LogBindFailed(_logger, _options.Urls, ex);
            await app.DisposeAsync().ConfigureAwait(false);
            return;
        }

        _app = app;
        BoundUrls = [.. app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? []];
        LogListening(_logger, string.Join(", ", BoundUrls));
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_app is { } app)
        {
            _app = null;
            await app.StopAsync(cancellationToken).ConfigureAwait(false);
            await app.DisposeAsync().ConfigureAwait(false);
        }

        _meters?.Dispose();
        _meters = null;
    }

    public async ValueTask DisposeAsync() => await StopAsync(CancellationToken.None).ConfigureAwait(false);

    private static bool IsRead(string method) => HttpMethods.IsGet(method) || HttpMethods.IsHead(method);

    private async Task HandleAsync(HttpContext context)
    {
        var response = context.Response;
        response.Headers.CacheControl = "no-store";
        response.Headers["X-Content-Type-Options"] = "nosniff";
        var path = context.Request.Path.Value;
        if (path is not ("/healthz" or "/readyz"))
        {
            response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        if (!IsRead(context.Request.Method))
        {
            response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            response.Headers.Allow = "GET, HEAD";
            return;
        }

        var report = _monitor.Report;
        var ok = path == "/healthz" ? report.Alive : report.Ready;
        response.StatusCode = ok ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable;
        response.ContentType = "application/json; charset=utf-8";
        if (HttpMethods.IsHead(context.Request.Method))
        {
            return;
        }

        if (path == "/healthz")
        {
            await JsonSerializer.SerializeAsync(response.Body, new { report.Status, report.Alive, report.LivenessAgeSeconds, report.Reason }, Json, context.RequestAborted).ConfigureAwait(false);
        }
        else
        {
            await JsonSerializer.SerializeAsync(response.Body, report, Json, context.RequestAborted).ConfigureAwait(false);
        }
    }

    [LoggerMessage(EventId = 12201, Level = LogLevel.Information, Message = "Health and metrics on {Urls} (/healthz, /readyz, /metrics)")]
    private static partial void LogListening(ILogger logger, string urls);

    [LoggerMessage(EventId = 12202, Level = LogLevel.Error, Message = "Health and metrics endpoint could not listen on {Urls}; the gateway runs on without it (FactoryEdge:Operations:Urls)")]
    private static partial void LogBindFailed(ILogger logger, string urls, Exception exception);
}
