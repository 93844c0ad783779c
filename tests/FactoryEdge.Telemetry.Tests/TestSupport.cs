using System.Collections.Concurrent;
using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using FactoryEdge.Core;
using FactoryEdge.Telemetry.LineProtocol;
using FactoryEdge.Telemetry.Transport;
using Microsoft.Extensions.Logging;

namespace FactoryEdge.Telemetry.Tests;

/// <summary>A transport that records batches and answers what the test scripts.</summary>
internal sealed class FakeTransport : IInfluxTransport
{
    private readonly ConcurrentQueue<WriteResult> _script = new();

    public List<string> Batches { get; } = [];

    public List<TimestampPrecision> Precisions { get; } = [];

    /// <summary>Answer when nothing is scripted.</summary>
    public WriteResult Default { get; set; } = WriteResult.Success();

    public int Calls { get; private set; }

    public string Description => "fake";

    public bool Disposed { get; private set; }

    public void Script(params WriteResult[] results)
    {
        foreach (var r in results)
        {
            _script.Enqueue(r);
        }
    }

    /// <summary>Lines the fake acknowledged, in the order they arrived.</summary>
    public List<string> AcceptedLines { get; } = [];

    public Task<WriteResult> WriteAsync(ReadOnlyMemory<byte> lines, TimestampPrecision precision, CancellationToken cancellationToken)
    {
        Calls++;
        var text = Encoding.UTF8.GetString(lines.Span);
        Batches.Add(text);
        Precisions.Add(precision);
        var result = _script.TryDequeue(out var scripted) ? scripted : Default;
        if (result.Status == WriteStatus.Ok)
        {
            AcceptedLines.AddRange(text.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        }

        return Task.FromResult(result);
    }

    public void Dispose() => Disposed = true;
}

/// <summary>Collects log messages (to check what is and is not logged).</summary>
internal sealed class ListLoggerProvider : ILoggerProvider
{
    public ConcurrentQueue<(LogLevel Level, int EventId, string Message)> Entries { get; } = new();

    public ILogger CreateLogger(string categoryName) => new ListLogger(this);

    public void Dispose()
    {
    }

    public string All => string.Join("\n", Entries.Select(e => e.Message));

    private sealed class ListLogger(ListLoggerProvider owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Entries.Enqueue((logLevel, eventId.Id, formatter(state, exception) + (exception is null ? "" : " | " + exception.Message)));
    }
}

internal static class TestData
{
    public static readonly string[] FeatureNames = ["rms", "peak", "kurtosis", "crest_factor", "band_10_100_hz", "velocity_rms_mm_s"];

    public static readonly ChannelId ChannelA = new("plant", "line-1", "pump-1", "de", "x");

    public static readonly ChannelId ChannelB = new("plant", "line-1", "fan-2", "nde", "y");

    /// <summary>A window result with deterministic values from its number.</summary>
    public static WindowResult Window(ChannelId channel, long number, long startTicks = 0, int index = 0)
    {
        var r = new WindowResult(FeatureNames.Length)
        {
            ChannelIndex = index,
            Channel = channel,
            WindowNumber = number,
            FirstSampleIndex = number * 2048,
            WindowSize = 4096,
            SampleRateHz = 25600,
            Score = 1.5f + (number % 7),
            Threshold = 6,
            MachineState = MachineState.Running,
        };
        for (var i = 0; i < r.Features.Length; i++)
        {
            r.Features[i] = (float)((number * 0.137) + (i * 1.01) + 0.001);
        }

        r.Timestamps.SourceStartTicks = (startTicks == 0 ? new DateTime(2026, 5, 1, 8, 0, 0, DateTimeKind.Utc).Ticks : startTicks) + (number * TimeSpan.TicksPerMillisecond * 80);
        return r;
    }

    public static Alert Alert(ChannelId channel, int n, AlertState state = AlertState.Raised) => new()
    {
        AlertId = "a" + n.ToString("D31", CultureInfo.InvariantCulture),
        Channel = channel,
        State = state,
        Severity = AlertSeverity.Alarm,
        SourceTime = new DateTimeOffset(2026, 5, 1, 9, 0, 0, TimeSpan.Zero).AddSeconds(n),
        Score = 12.5f,
        Threshold = 6,
        ModelId = "baseline",
        Message = "pump-1: anomalous vibration on de/x, \"score\" 12.5",
        TopFeatures = [new("rms", 0.5f), new("kurtosis", 7.25f)],
    };

    public static TempDirectory Temp() => new();
}

internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "fe-telemetry-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>One HTTP request as the loopback server saw it.</summary>
internal sealed record SeenRequest(string Method, string Target, Dictionary<string, string> Headers, byte[] Body)
{
    /// <summary>The body, gunzipped when it was sent with Content-Encoding: gzip.</summary>
    public string Text
    {
        get
        {
            if (Headers.TryGetValue("content-encoding", out var enc) && enc.Contains("gzip", StringComparison.OrdinalIgnoreCase))
            {
                using var gz = new GZipStream(new MemoryStream(Body), CompressionMode.Decompress);
                using var ms = new MemoryStream();
                gz.CopyTo(ms);
                return Encoding.UTF8.GetString(ms.ToArray());
            }

            return Encoding.UTF8.GetString(Body);
        }
    }
}

/// <summary>A scripted response.</summary>
internal sealed record CannedResponse(int Status, string Body = "", params (string Name, string Value)[] Headers);

/// <summary>
/// A minimal HTTP/1.1 server on 127.0.0.1 (optionally TLS with a given certificate) that records
/// requests and answers from a script (default 204). One request per connection.
/// </summary>
internal sealed class LoopbackHttpServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly X509Certificate2? _certificate;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<CannedResponse> _script = new();
    private readonly Task _loop;

    public LoopbackHttpServer(X509Certificate2? certificate = null)
    {
        _certificate = certificate;
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _loop = Task.Run(AcceptLoop);
    }

    public int Port { get; }

    public string Url => (_certificate is null ? "http" : "https") + "://127.0.0.1:" + Port.ToString(CultureInfo.InvariantCulture);

    public ConcurrentQueue<SeenRequest> Requests { get; } = new();

    public ConcurrentQueue<string> Errors { get; } = new();

    public void Script(params CannedResponse[] responses)
    {
        foreach (var r in responses)
        {
            _script.Enqueue(r);
        }
    }

    private async Task AcceptLoop()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception)
            {
                return;
            }

            _ = Task.Run(() => Serve(client));
        }
    }

    private async Task Serve(TcpClient client)
    {
        using (client)
        {
            try
            {
                Stream stream = client.GetStream();
                if (_certificate is not null)
                {
                    var ssl = new SslStream(stream);
                    await ssl.AuthenticateAsServerAsync(_certificate, false, false);
                    stream = ssl;
                }

                var head = await ReadHeadAsync(stream);
                var lines = head.Split("\r\n");
                var parts = lines[0].Split(' ');
                var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
                foreach (var line in lines.Skip(1))
                {
                    var colon = line.IndexOf(':', StringComparison.Ordinal);
                    if (colon > 0)
                    {
                        headers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
                    }
                }

                byte[] body;
                if (headers.TryGetValue("content-length", out var cl))
                {
                    body = await ReadExactly(stream, int.Parse(cl, CultureInfo.InvariantCulture));
                }
                else if (headers.TryGetValue("transfer-encoding", out var te) && te.Contains("chunked", StringComparison.OrdinalIgnoreCase))
                {
                    body = await ReadChunked(stream);
                }
                else
                {
                    body = [];
                }

                Requests.Enqueue(new SeenRequest(parts[0], parts[1], headers, body));
                var response = _script.TryDequeue(out var r) ? r : new CannedResponse(204);
                var text = new StringBuilder();
                text.Append(CultureInfo.InvariantCulture, $"HTTP/1.1 {response.Status} X\r\n");
                foreach (var (name, value) in response.Headers)
                {
                    text.Append(CultureInfo.InvariantCulture, $"{name}: {value}\r\n");
                }

                var payload = Encoding.UTF8.GetBytes(response.Body);
                text.Append(CultureInfo.InvariantCulture, $"Content-Length: {payload.Length}\r\nConnection: close\r\n\r\n");
                await stream.WriteAsync(Encoding.ASCII.GetBytes(text.ToString()));
                await stream.WriteAsync(payload);
                await stream.FlushAsync();
            }
            catch (Exception ex)
            {
                Errors.Enqueue(ex.Message);
            }
        }
    }

    private static async Task<string> ReadHeadAsync(Stream stream)
    {
        var buffer = new List<byte>();
        var one = new byte[1];
        while (true)
        {
            if (await stream.ReadAsync(one) == 0)
            {
                throw new IOException("connection closed in headers");
            }

            buffer.Add(one[0]);
            var n = buffer.Count;
            if (n >= 4 && buffer[n - 4] == '\r' && buffer[n - 3] == '\n' && buffer[n - 2] == '\r' && buffer[n - 1] == '\n')
            {
                return Encoding.ASCII.GetString([.. buffer], 0, n - 4);
            }
        }
    }

    private static async Task<byte[]> ReadExactly(Stream stream, int count)
    {
        var data = new byte[count];
        await stream.ReadExactlyAsync(data);
        return data;
    }

    private static async Task<byte[]> ReadChunked(Stream stream)
    {
        using var body = new MemoryStream();
        while (true)
        {
            var sizeLine = await ReadLine(stream);
            var size = int.Parse(sizeLine.Split(';')[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            if (size == 0)
            {
                await ReadLine(stream);
                return body.ToArray();
            }

            body.Write(await ReadExactly(stream, size));
            await ReadLine(stream);
        }
    }

    private static async Task<string> ReadLine(Stream stream)
    {
        var sb = new StringBuilder();
        var one = new byte[1];
        while (await stream.ReadAsync(one) > 0)
        {
            if (one[0] == '\n')
            {
                return sb.ToString().TrimEnd('\r');
            }

            sb.Append((char)one[0]);
        }

        return sb.ToString();
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
        _certificate?.Dispose();
    }
}

internal static class Certificates
{
    /// <summary>A self-signed server certificate for the given names (with private key, usable by SslStream).</summary>
    public static X509Certificate2 SelfSigned(string subject, params string[] ipOrDns)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=" + subject, key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        foreach (var name in ipOrDns)
        {
            if (IPAddress.TryParse(name, out var ip))
            {
                san.AddIpAddress(ip);
            }
            else
            {
                san.AddDnsName(name);
            }
        }

        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var now = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        using var cert = request.CreateSelfSigned(now.AddYears(-1), now.AddYears(5));
        // Round-trip through PKCS#12 so the key is usable by SslStream on every platform.
        return X509CertificateLoader.LoadPkcs12(cert.Export(X509ContentType.Pkcs12), null);
    }

    public static string WritePem(X509Certificate2 certificate, string path)
    {
        File.WriteAllText(path, certificate.ExportCertificatePem());
        return path;
    }
}
