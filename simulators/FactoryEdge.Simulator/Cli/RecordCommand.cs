using System.CommandLine;
using System.Globalization;
using System.Text;
using FactoryEdge.Core;
using FactoryEdge.Modbus;
using FactoryEdge.OpcUa;
using FactoryEdge.OpcUa.Client;
using FactoryEdge.OpcUa.Pki;
using FactoryEdge.OpcUa.Protocol;
using FactoryEdge.OpcUa.SecureChannel;
using FactoryEdge.Recordings;
using FactoryEdge.Simulator.OpcUa;
using Microsoft.Extensions.Logging;

namespace FactoryEdge.Simulator.Cli;

/// <summary>
/// <c>record</c>: captures one waveform channel from any OPC UA server (a Float/Double array node) or
/// Modbus server (a waveform block in the layout of docs/modbus.md) into a CSV (the recordings text
/// format) or WAV (float32) file, through the gateway's own sources (<see cref="OpcUaSensorSource"/>,
/// <see cref="ModbusSensorSource"/>): engineers record on site and replay in the lab with
/// <c>--recording</c>. Consecutive blocks are joined; a gap (missed blocks, reconnect) is counted and
/// reported, the samples on both sides kept. OPC UA security works as in the gateway's <c>probe</c>
/// verb (<c>--security POLICY:MODE</c>, <c>--accept-server-certificate</c>, <c>--pki DIR</c>,
/// <c>--user NAME --password-file FILE</c>): without <c>--security</c>, None when the server offers
/// it, else the strongest endpoint offered; a refused server certificate is reported with its
/// thumbprint and the trust command (exit <see cref="ExitCodes.Certificate"/>).
/// </summary>
internal static class RecordCommand
{
    public static Command Build(TextWriter output, TextWriter error, TimeProvider timeProvider)
    {
        var from = new Option<string>("--from") { Description = "opc.tcp://HOST:PORT or modbus://HOST:PORT/UNIT.", Required = true };
        var outFile = new Option<string>("--out", "-o") { Description = "FILE.csv (text format, docs/recordings.md) or FILE.wav (float32).", Required = true };
        var seconds = new Option<double>("--seconds") { Description = "Signal seconds to record.", DefaultValueFactory = _ => 10 };
        var node = new Option<string?>("--node") { Description = "OPC UA: the waveform node (nsu=URI;s=NAME); default the simulator's MACHINE.Waveform." };
        var machine = new Option<string?>("--machine") { Description = "OPC UA: a factoryedge-sim machine name (node nsu=urn:factoryedge:simulator;s=MACHINE.Waveform).", DefaultValueFactory = _ => null };
        var rate = new Option<double?>("--rate") { Description = "Sample rate in Hz (OPC UA default: the node's sibling SampleRate; Modbus default: the block header)." };
        var address = new Option<int>("--address") { Description = "Modbus: address of the waveform block (head sequence register).", DefaultValueFactory = _ => 1000 };
        var table = new Option<string>("--table") { Description = "Modbus: input or holding.", DefaultValueFactory = _ => "input" };
        var order = new Option<string>("--order") { Description = "Modbus: float32 order ABCD, CDAB, BADC or DCBA.", DefaultValueFactory = _ => "ABCD" };
        var rpm = new Option<double?>("--rpm") { Description = "Shaft speed to write into the CSV header (rpm_measured)." };
        var timeout = new Option<double>("--timeout") { Description = "Give up when no data arrives for this many seconds.", DefaultValueFactory = _ => 15 };
        var security = new Option<string?>("--security") { Description = "OPC UA: POLICY:MODE, e.g. Basic256Sha256:SignAndEncrypt, or None; default None when offered, else the strongest endpoint offered." };
        var acceptServerCertificate = new Option<bool>("--accept-server-certificate") { Description = "OPC UA, commissioning only: accept an untrusted (but otherwise valid) server certificate." };
        var pki = new Option<string?>("--pki") { Description = "OPC UA: PKI directory (own/, trusted/, rejected/); default as the gateway's (FACTORYEDGE_PKI, else factoryedge/pki under local application data)." };
        var user = new Option<string?>("--user") { Description = "OPC UA: user name (with --password-file); anonymous otherwise." };
        var passwordFile = new Option<string?>("--password-file") { Description = "OPC UA: file holding the password for --user." };
        var command = new Command("record", "Record a waveform channel from an OPC UA or Modbus server into CSV/WAV, for replay with --recording (docs/simulators.md).")
        {
            from, outFile, seconds, node, machine, rate, address, table, order, rpm, timeout, security, acceptServerCertificate, pki, user, passwordFile,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            try
            {
                var settings = new RecordSettings
                {
                    From = parse.GetValue(from)!,
                    Out = parse.GetValue(outFile)!,
                    Seconds = parse.GetValue(seconds),
                    Node = parse.GetValue(node),
                    Machine = parse.GetValue(machine),
                    RateHz = parse.GetValue(rate),
                    Address = parse.GetValue(address),
                    Table = parse.GetValue(table)!,
                    Order = parse.GetValue(order)!,
                    Rpm = parse.GetValue(rpm),
                    Timeout = TimeSpan.FromSeconds(parse.GetValue(timeout)),
                    Security = parse.GetValue(security),
                    AcceptServerCertificate = parse.GetValue(acceptServerCertificate),
                    PkiDirectory = parse.GetValue(pki),
                    UserName = parse.GetValue(user),
                    PasswordFile = parse.GetValue(passwordFile),
                };
                return await RunAsync(settings, output, error, timeProvider, cancellationToken).ConfigureAwait(false);
            }
            catch (SimulatorUsageException ex)
            {
                await error.WriteLineAsync($"factoryedge-sim record: {ex.Message}").ConfigureAwait(false);
                return ex.ExitCode;
            }
        });
        return command;
    }

    internal sealed record RecordSettings
    {
        public required string From { get; init; }

        public required string Out { get; init; }

        public double Seconds { get; init; } = 10;

        public string? Node { get; init; }

        public string? Machine { get; init; }

        public double? RateHz { get; init; }

        public int Address { get; init; } = 1000;

        public string Table { get; init; } = "input";

        public string Order { get; init; } = "ABCD";

        public double? Rpm { get; init; }

        public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(15);

        /// <summary>OPC UA <c>POLICY[:MODE]</c> or None, as the probe's <c>--security</c>; null: None when offered, else the strongest.</summary>
        public string? Security { get; init; }

        public bool AcceptServerCertificate { get; init; }

        public string? PkiDirectory { get; init; }

        public string? UserName { get; init; }

        public string? PasswordFile { get; init; }
    }

    internal static async Task<int> RunAsync(RecordSettings settings, TextWriter output, TextWriter error, TimeProvider time, CancellationToken cancellationToken)
    {
        var extension = Path.GetExtension(settings.Out).ToLowerInvariant();
        if (extension is not (".csv" or ".wav"))
        {
            throw new SimulatorUsageException($"--out '{settings.Out}': the file must end in .csv or .wav");
        }

        if (!(settings.Seconds > 0 && settings.Seconds <= 86_400))
        {
            throw new SimulatorUsageException(string.Create(CultureInfo.InvariantCulture, $"--seconds {settings.Seconds} is out of range (0, 86400]"));
        }

        if (settings.RateHz is { } r && !(r > 0))
        {
            throw new SimulatorUsageException("--rate must be a positive number of Hz");
        }

        using var loggerFactory = LoggerFactory.Create(builder => builder.SetMinimumLevel(LogLevel.Warning).AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace).AddSimpleConsole(o => o.SingleLine = true));
        ISensorSource source;
        string description;
        if (settings.From.StartsWith("opc.tcp://", StringComparison.OrdinalIgnoreCase))
        {
            var nodeId = settings.Node ?? (settings.Machine is { Length: > 0 } m
                ? SimulatorNodes.Id(m, SimulatorNodes.Waveform)
                : throw new SimulatorUsageException("--from opc.tcp://…: give --node NODEID (or --machine NAME for a factoryedge-sim server)"));
            var waveform = new OpcUaWaveformOptions { Channel = "record/record/record/record/x", NodeId = nodeId, Contiguous = true, QueueSize = 64, Unit = "g" };
            if (settings.RateHz is { } hz)
            {
                waveform.SampleRateHz = hz;
            }
            else
            {
                waveform.SampleRateNodeId = "../" + SimulatorNodes.SampleRate;
            }

            var (choice, code) = await ChooseEndpointAsync(settings, output, error, loggerFactory.CreateLogger("FactoryEdge.Simulator.Record"), time, cancellationToken).ConfigureAwait(false);
            if (choice is null)
            {
                return code;
            }

            var options = new OpcUaOptions
            {
                PkiDirectory = settings.PkiDirectory,
                Servers =
                [
                    new OpcUaServerOptions
                    {
                        Name = "record", EndpointUrl = settings.From, PublishingIntervalMs = 50, Waveforms = [waveform],
                        SecurityPolicy = choice.IsNone ? "None" : choice.Policy!.Name,
                        SecurityMode = choice.IsNone ? "Auto" : choice.Endpoint.SecurityMode.ToString(),
                        AllowSecurityPolicyNone = choice.IsNone,
                        AcceptUntrustedCertificates = settings.AcceptServerCertificate,
                        UserName = settings.UserName,
                        PasswordFile = settings.PasswordFile,
                    },
                ],
            };
            source = new OpcUaSensorSource(options, loggerFactory, time);
            description = $"source={settings.From} node={nodeId}";
        }
        else if (settings.From.StartsWith("modbus://", StringComparison.OrdinalIgnoreCase))
        {
            var uri = new Uri(settings.From);
            var unit = uri.AbsolutePath.Trim('/') is { Length: > 0 } u && byte.TryParse(u, CultureInfo.InvariantCulture, out var parsed) ? parsed : (byte)1;
            var port = uri.IsDefaultPort || uri.Port < 0 ? 502 : uri.Port;
            if (!ModbusValueFormat.TryParseOrder(settings.Order, out var byteOrder, out var wordOrder))
            {
                throw new SimulatorUsageException($"--order '{settings.Order}' is not one of {ModbusValueFormat.AllowedOrders}");
            }

            var modbusTable = settings.Table.Trim().ToLowerInvariant() switch
            {
                "input" => ModbusTable.InputRegisters,
                "holding" => ModbusTable.HoldingRegisters,
                _ => throw new SimulatorUsageException($"--table '{settings.Table}' is not one of input, holding"),
            };

            // The block header: head sequence, sample count N, sample rate (float32).
            int count;
            double rate;
            await using (var client = new ModbusClient(new ModbusClientOptions { Host = uri.Host, Port = port }, null, time))
            {
                ushort[] header;
                try
                {
                    header = await client.ReadRegistersAsync(modbusTable, unit, (ushort)settings.Address, 4, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    await error.WriteLineAsync($"factoryedge-sim record: cannot read the block header at {settings.Address} from {settings.From}: {ex.Message}").ConfigureAwait(false);
                    return ExitCodes.BadInput;
                }

                count = header[1];
                rate = settings.RateHz ?? RegisterCodec.DecodeSingle(header.AsSpan(2, 2), byteOrder, wordOrder);
            }

            if (count < 1 || !(rate > 0))
            {
                await error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"factoryedge-sim record: the block header at {settings.Address} says {count} samples at {rate} Hz; give --address (and --rate)")).ConfigureAwait(false);
                return ExitCodes.BadInput;
            }

            var options = new ModbusOptions
            {
                Devices =
                [
                    new ModbusDeviceOptions
                    {
                        Name = "record", Host = uri.Host, Port = port, UnitId = unit, AddressBase = 0,
                        Waveforms = [new ModbusWaveformOptions { Channel = "record/record/record/record/x", Table = modbusTable == ModbusTable.InputRegisters ? "Input" : "Holding", Address = settings.Address, SampleCount = count, SampleRateHz = rate, Order = settings.Order, PollIntervalMs = 10, Contiguous = true }],
                    },
                ],
            };
            source = new ModbusSensorSource(options, loggerFactory, time);
            description = $"source={settings.From} address={settings.Address}";
        }
        else
        {
            throw new SimulatorUsageException($"--from '{settings.From}' is neither opc.tcp://HOST:PORT nor modbus://HOST:PORT/UNIT");
        }

        IReadOnlyList<ChannelDescriptor> channels;
        try
        {
            channels = source.Channels;
        }
        catch (Exception ex) when (ex is InvalidOperationException or Microsoft.Extensions.Options.OptionsValidationException)
        {
            await error.WriteLineAsync($"factoryedge-sim record: {ex.Message}").ConfigureAwait(false);
            return ExitCodes.BadInput;
        }

        var descriptor = channels[0];
        var wanted = (long)Math.Ceiling(settings.Seconds * descriptor.SampleRateHz);
        var capture = new CaptureWriter(descriptor, wanted, time);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var run = source.RunAsync([capture], stop.Token);
        var started = time.GetTimestamp();
        while (!capture.Done && !run.IsCompleted && !cancellationToken.IsCancellationRequested)
        {
            if (time.GetElapsedTime(capture.LastData == 0 ? started : capture.LastData) > settings.Timeout)
            {
                break;
            }

            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(50), time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        await stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await run.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        var samples = capture.Samples;
        if (samples.Length == 0)
        {
            await error.WriteLineAsync($"factoryedge-sim record: no data from {settings.From} within {settings.Timeout.TotalSeconds:0} s").ConfigureAwait(false);
            return ExitCodes.BadInput;
        }

        if (extension == ".wav")
        {
            WavWriter.Write(settings.Out, (int)Math.Round(descriptor.SampleRateHz), [samples], WavSampleFormat.Float32);
        }
        else
        {
            WriteCsv(settings.Out, descriptor.SampleRateHz, settings.Rpm, description, capture.StartTime, samples);
        }

        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"recorded {samples.Length} samples ({samples.Length / descriptor.SampleRateHz:0.###} s at {descriptor.SampleRateHz} Hz, {capture.Blocks} blocks, {capture.Gaps} gap(s)) to {settings.Out}")).ConfigureAwait(false);
        return samples.Length >= wanted ? ExitCodes.Ok : ExitCodes.Failure;
    }

    /// <summary>
    /// The probe's endpoint choice: GetEndpoints over a None channel; with <c>--security</c> that
    /// policy and mode, else None when offered (said on stdout), else the strongest endpoint offered;
    /// for a secure endpoint the server's certificate is checked against the PKI first, so a refusal
    /// is reported with its thumbprint and trust command. Null choice: the exit code to return.
    /// </summary>
    private static async Task<(EndpointChoice? Choice, int Code)> ChooseEndpointAsync(RecordSettings settings, TextWriter output, TextWriter error, ILogger logger, TimeProvider time, CancellationToken cancellationToken)
    {
        string? policy = null;
        MessageSecurityMode? mode = null;
        if (settings.Security is { } text)
        {
            try
            {
                var parsed = OpcUaProbeRequest.Parse([settings.From, "--security", text]);
                (policy, mode) = (parsed.SecurityPolicy, parsed.SecurityMode);
            }
            catch (FormatException ex)
            {
                throw new SimulatorUsageException(ex.Message);
            }
        }

        if ((settings.UserName is null) != (settings.PasswordFile is null))
        {
            throw new SimulatorUsageException("--user and --password-file go together");
        }

        EndpointDescription[] endpoints;
        try
        {
            var channelOptions = new SecureChannelOptions { ConnectTimeout = settings.Timeout, RequestTimeout = settings.Timeout };
            endpoints = await SecureEndpoints.DiscoverAsync(settings.From, channelOptions, logger, time, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            await error.WriteLineAsync($"factoryedge-sim record: cannot get the endpoints of {settings.From}: {ex.Message}").ConfigureAwait(false);
            return (null, ExitCodes.BadInput);
        }

        EndpointChoice choice;
        try
        {
            var none = policy is null ? Array.Find(endpoints, static e => e.SecurityPolicyUri == SecurityPolicyUris.None && e.SecurityMode == MessageSecurityMode.None) : null;
            if (none is not null)
            {
                choice = new EndpointChoice(none, null, null, "record default");
                await output.WriteLineAsync("security: SecurityPolicy None (no --security given and the server offers None; give --security POLICY:MODE for a secure channel)").ConfigureAwait(false);
            }
            else
            {
                choice = SecureEndpoints.Choose(endpoints, new ClientSecurityOptions { SecurityPolicy = policy, SecurityMode = mode });
                var why = policy is null ? " (no --security given and the server offers no None endpoint: the strongest it offers)" : "";
                await output.WriteLineAsync($"security: {choice}{why}").ConfigureAwait(false);
            }
        }
        catch (ServiceResultException ex)
        {
            await error.WriteLineAsync($"factoryedge-sim record: {settings.From}: {ex.Message}").ConfigureAwait(false);
            return (null, ExitCodes.BadInput);
        }

        if (choice.IsNone)
        {
            return (choice, ExitCodes.Ok);
        }

        var pki = settings.PkiDirectory ?? PkiStore.DefaultRoot;
        ApplicationIdentity application;
        try
        {
            application = ApplicationIdentity.LoadOrCreate(new PkiStore(pki), null, logger, time);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
        {
            throw new SimulatorUsageException($"--pki {pki}: {ex.Message}", ExitCodes.BadInput);
        }

        using (application)
        {
            if (application.Created)
            {
                await output.WriteLineAsync($"created the application certificate {application.Certificate.Thumbprint} in {application.Store.OwnCertificatePath}").ConfigureAwait(false);
            }

            try
            {
                SecureEndpoints.CheckServerCertificate(choice, settings.From, new ClientSecurityOptions { Application = application, AcceptUntrustedCertificates = settings.AcceptServerCertificate }, logger);
            }
            catch (CertificateRejectedException ex)
            {
                await OpcUaProbe.WriteCertificateRefusedAsync(error, $"factoryedge-sim record: {settings.From}", ex, settings.PkiDirectory).ConfigureAwait(false);
                return (null, ExitCodes.Certificate);
            }
        }

        return (choice, ExitCodes.Ok);
    }

    private static void WriteCsv(string path, double rate, double? rpm, string description, DateTimeOffset start, float[] samples)
    {
        using var writer = new StreamWriter(path, false, new UTF8Encoding(false));
        var header = new StringBuilder(string.Create(CultureInfo.InvariantCulture, $"# sampling_rate_hz={rate} units=g"));
        if (rpm is { } speed)
        {
            header.Append(CultureInfo.InvariantCulture, $" rpm_measured={speed}");
        }

        header.Append(CultureInfo.InvariantCulture, $" samples={samples.Length} start_time={start.UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffZ} {description}");
        writer.Write(header.ToString());
        writer.Write('\n');
        foreach (var v in samples)
        {
            writer.Write(v.ToString("R", CultureInfo.InvariantCulture));
            writer.Write('\n');
        }
    }

    /// <summary>Joins the blocks of one channel until enough samples are in.</summary>
    private sealed class CaptureWriter(ChannelDescriptor descriptor, long wanted, TimeProvider time) : IChannelWriter
    {
        private readonly Lock _gate = new();
        private readonly List<float> _samples = [];

        public ChannelDescriptor Descriptor { get; } = descriptor;

        public int Blocks { get; private set; }

        public int Gaps { get; private set; }

        public long LastData { get; private set; }

        public DateTimeOffset StartTime { get; private set; }

        public bool Done
        {
            get
            {
                lock (_gate)
                {
                    return _samples.Count >= wanted;
                }
            }
        }

        public float[] Samples
        {
            get
            {
                lock (_gate)
                {
                    return [.. _samples.Take((int)Math.Min(wanted, _samples.Count))];
                }
            }
        }

        public bool TryWrite(in SampleBlock block)
        {
            lock (_gate)
            {
                if (_samples.Count >= wanted)
                {
                    return true;
                }

                if (Blocks == 0)
                {
                    StartTime = new DateTimeOffset(block.SourceTimestampTicks, TimeSpan.Zero);
                }

                Blocks++;
                LastData = time.GetTimestamp();
                foreach (var v in block.Samples)
                {
                    _samples.Add(v);
                }
            }

            return true;
        }

        public void Write(in SampleBlock block, CancellationToken cancellationToken) => TryWrite(block);

        public void MarkGap()
        {
            lock (_gate)
            {
                if (Blocks > 0)
                {
                    Gaps++;
                }
            }
        }
    }
}
