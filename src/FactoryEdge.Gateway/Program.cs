using System.CommandLine;
using FactoryEdge.Gateway.Cli;
using FactoryEdge.Gateway.Hosting;

namespace FactoryEdge.Gateway;

public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (args.Length > 0 && args[0] == "probe")
        {
            // The probe parses its own words (URI, tables, types, orders): hand them over as they are.
            using var cts = new CancellationTokenSource();
            Console.CancelKeyPress += (_, e) =>
            {
                e.Cancel = true;
                cts.Cancel();
            };
            return await RunProbeAsync(args[1..], cts.Token).ConfigureAwait(false);
        }

        var root = BuildCommandLine();
        return await root.Parse(args).InvokeAsync().ConfigureAwait(false);
    }

    internal static RootCommand BuildCommandLine()
    {
        var root = new RootCommand("FactoryEdge: vibration monitoring at the edge. With no verb it runs as a service (see 'run').");

        var config = new Option<string?>("--config") { Description = "Configuration file (default: FACTORYEDGE_CONFIG, else appsettings.json beside the executable)." };
        var run = new Command("run", "Run the gateway (service mode; the default with no verb).") { config };
        run.SetAction((parse, ct) => GatewayHost.RunAsync(parse.GetValue(config), ct));
        root.Subcommands.Add(run);
        root.Options.Add(config);
        root.SetAction((parse, ct) => GatewayHost.RunAsync(parse.GetValue(config), ct));

        root.Subcommands.Add(BuildAnalyze());
        root.Subcommands.Add(BuildTrain());
        root.Subcommands.Add(BuildModel());
        root.Subcommands.Add(BuildDemo());
        root.Subcommands.Add(BuildBench());
        var probe = new Command("probe", "Commissioning: read a device (modbus://…) or an OPC UA server (opc.tcp://…) and print decoded values.\n" + Modbus.ModbusProbe.Usage + "\n" + OpcUa.OpcUaProbe.Usage)
        {
            TreatUnmatchedTokensAsErrors = false,
        };
        probe.SetAction((parse, ct) => RunProbeAsync([.. parse.UnmatchedTokens], ct));
        root.Subcommands.Add(probe);
        return root;
    }

    internal static async Task<int> RunProbeAsync(IReadOnlyList<string> words, CancellationToken cancellationToken)
    {
        if (words.Count == 0 || words[0] is "-h" or "--help" or "-?")
        {
            await Console.Out.WriteLineAsync(Modbus.ModbusProbe.Usage + Environment.NewLine + OpcUa.OpcUaProbe.Usage).ConfigureAwait(false);
            return words.Count == 0 ? Cli.ExitCodes.Usage : Cli.ExitCodes.Ok;
        }

        // The target's scheme picks the protocol: modbus://, modbus+rtu://…, or opc.tcp://.
        using var loggerFactory = CliLogging.CreateStderrLoggerFactory();
        var target = words.FirstOrDefault(w => w.Contains("://", StringComparison.Ordinal)) ?? string.Empty;
        if (target.StartsWith("opc.tcp://", StringComparison.OrdinalIgnoreCase))
        {
            return await new OpcUa.OpcUaProbe(loggerFactory).RunAsync(words, Console.Out, Console.Error, cancellationToken).ConfigureAwait(false);
        }

        return await new Modbus.ModbusProbe(loggerFactory).RunAsync(words, Console.Out, Console.Error, cancellationToken).ConfigureAwait(false);
    }

    private static Command BuildAnalyze()
    {
        var input = new Option<string>("--input", "-i") { Description = "Recording to analyse (CSV as in docs/recordings.md, or WAV).", Required = true };
        var model = new Option<string?>("--model") { Description = "ONNX model (from 'train'): scores every window with it instead of the statistical baseline." };
        var baseline = new Option<string?>("--baseline") { Description = "A normal recording of the same machine to learn the baseline from first." };
        var machine = new Option<string?>("--machine") { Description = "Machine file (bearing, nominal rpm, ISO group/support), e.g. config/machines/cwru-drive-end.json." };
        var bearing = new Option<string?>("--bearing") { Description = "Bearing catalogue name (overrides the machine file and the recording header)." };
        var rpm = new Option<double?>("--rpm") { Description = "Nominal shaft speed in rpm (overrides the machine file and the recording header)." };
        var window = new Option<int>("--window") { Description = "Window size (power of two, 1024–65536).", DefaultValueFactory = _ => 4096 };
        var overlap = new Option<double>("--overlap") { Description = "Window overlap, 0–0.9.", DefaultValueFactory = _ => 0.5 };
        var warmup = new Option<int?>("--warmup") { Description = "Windows the baseline learns from (default: all of --baseline, else a quarter of the input, at most 100)." };
        var threshold = new Option<double?>("--threshold") { Description = "Baseline score threshold (max upward z-score)." };
        var json = new Option<bool>("--json") { Description = "One JSON object per window on stdout and nothing else; logs go to stderr." };
        var command = new Command("analyze", "Run a recording through the same pipeline as live data and print the result per window.")
        {
            input, model, baseline, machine, bearing, rpm, window, overlap, warmup, threshold, json,
        };
        command.SetAction(async (parse, ct) =>
        {
            using var loggerFactory = CliLogging.CreateStderrLoggerFactory();
            var settings = new AnalyzeSettings
            {
                Input = parse.GetValue(input)!,
                Model = parse.GetValue(model),
                Baseline = parse.GetValue(baseline),
                MachineFile = parse.GetValue(machine),
                Bearing = parse.GetValue(bearing),
                Rpm = parse.GetValue(rpm),
                WindowSize = parse.GetValue(window),
                Overlap = parse.GetValue(overlap),
                WarmupWindows = parse.GetValue(warmup),
                Threshold = parse.GetValue(threshold),
                Json = parse.GetValue(json),
            };
            return await AnalyzeCommand.RunAsync(settings, Console.Out, Console.Error, loggerFactory, ct).ConfigureAwait(false);
        });
        return command;
    }

    private static Command BuildTrain()
    {
        var input = new Option<string[]>("--input", "-i") { Description = "Normal recording(s) to learn from (CSV or WAV); repeat for several.", Required = true, AllowMultipleArgumentsPerToken = false };
        var output = new Option<string>("--out", "-o") { Description = "Model file to write (MODEL.onnx; the manifest goes beside it).", Required = true };
        var window = new Option<int>("--window") { Description = "Window size (power of two, 1024–65536); must match the gateway's.", DefaultValueFactory = _ => 4096 };
        var overlap = new Option<double>("--overlap") { Description = "Window overlap, 0–0.9.", DefaultValueFactory = _ => 0.5 };
        var modelId = new Option<string?>("--model-id") { Description = "Model line (default: the output file name)." };
        var version = new Option<long?>("--version") { Description = "Model version (default: seconds since 1970)." };
        var clusters = new Option<int>("--clusters") { Description = "KMeans clusters (0 = automatic).", DefaultValueFactory = _ => 0 };
        var holdBack = new Option<double>("--holdback") { Description = "Share of the normal windows held back for the threshold.", DefaultValueFactory = _ => 0.2 };
        var margin = new Option<double>("--margin") { Description = "Threshold = largest held-back score × margin.", DefaultValueFactory = _ => 1.5 };
        var features = new Option<string[]>("--feature") { Description = "Model input feature (repeat; band_* = every band). Default: amplitude, shape, band and envelope features." };
        var bearing = new Option<string?>("--bearing") { Description = "Bearing catalogue name (overrides the recordings' headers)." };
        var rpm = new Option<double?>("--rpm") { Description = "Nominal shaft speed in rpm (overrides the recordings' headers)." };
        var noProgress = new Option<bool>("--no-progress") { Description = "No progress display on stderr." };
        var command = new Command("train", "Train an anomaly model from normal recordings (same pipeline and features as live scoring) and write MODEL.onnx + manifest.")
        {
            input, output, window, overlap, modelId, version, clusters, holdBack, margin, features, bearing, rpm, noProgress,
        };
        command.SetAction((parse, ct) => Training.TrainCommand.RunAsync(
            new Training.TrainSettings
            {
                Inputs = parse.GetValue(input) ?? [],
                Out = parse.GetValue(output)!,
                WindowSize = parse.GetValue(window),
                Overlap = parse.GetValue(overlap),
                ModelId = parse.GetValue(modelId),
                Version = parse.GetValue(version),
                Clusters = parse.GetValue(clusters),
                HoldBack = parse.GetValue(holdBack),
                Margin = parse.GetValue(margin),
                Features = parse.GetValue(features) is { Length: > 0 } f ? f : null,
                Bearing = parse.GetValue(bearing),
                Rpm = parse.GetValue(rpm),
                NoProgress = parse.GetValue(noProgress),
            },
            Console.Out, Console.Error, ct));
        return command;
    }

    private static Command BuildModel()
    {
        var command = new Command("model", "Model keys and signatures: keygen, sign, verify.");

        var keyOut = new Option<string>("--out", "-o") { Description = "Base name of the key files (writes NAME.key.pem and NAME.pub.pem).", Required = true };
        var force = new Option<bool>("--force") { Description = "Overwrite existing key files." };
        var keygen = new Command("keygen", "Create an ECDSA P-256 signing key pair.") { keyOut, force };
        keygen.SetAction((parse, ct) => Scoring.ModelCommand.KeygenAsync(new Scoring.ModelKeygenSettings { Out = parse.GetValue(keyOut)!, Force = parse.GetValue(force) }, Console.Out, Console.Error, ct));

        var key = new Option<string>("--key", "-k") { Description = "Private key (PEM) from 'model keygen'.", Required = true };
        var signModel = new Argument<string>("MODEL") { Description = "The model (MODEL.onnx with MODEL.onnx.manifest.json beside it)." };
        var sign = new Command("sign", "Sign a model and its manifest (writes MODEL.onnx.sig).") { key, signModel };
        sign.SetAction((parse, ct) => Scoring.ModelCommand.SignAsync(new Scoring.ModelSignSettings { Key = parse.GetValue(key)!, Model = parse.GetValue(signModel)! }, Console.Out, Console.Error, ct));

        var trusted = new Option<string[]>("--trusted", "-t") { Description = "Trusted public key (PEM); repeat for several. Without one the signature is not required." };
        var verifyModel = new Argument<string>("MODEL") { Description = "The model to check as the gateway would." };
        var verify = new Command("verify", "Run every load check of the gateway (hashes, signature, ONNX Runtime, self-test) and print the manifest.") { trusted, verifyModel };
        verify.SetAction((parse, ct) => Scoring.ModelCommand.VerifyAsync(new Scoring.ModelVerifySettings { Model = parse.GetValue(verifyModel)!, TrustedKeys = parse.GetValue(trusted) ?? [] }, Console.Out, Console.Error, ct));

        command.Subcommands.Add(keygen);
        command.Subcommands.Add(sign);
        command.Subcommands.Add(verify);
        return command;
    }

    private static Command BuildDemo()
    {
        var duration = new Option<double?>("--duration") { Description = "Seconds to run (default: until Ctrl+C)." };
        var faultAt = new Option<double>("--fault-at") { Description = "Seconds until the faulty machine's fault starts.", DefaultValueFactory = _ => 20 };
        var command = new Command("demo", "The gateway with three simulated machines; one develops a bearing fault after ~20 s. Needs no external service.")
        {
            duration, faultAt,
        };
        command.SetAction((parse, ct) => DemoCommand.RunAsync(parse.GetValue(duration), parse.GetValue(faultAt), Console.Out, ct));
        return command;
    }

    private static Command BuildBench()
    {
        var channels = new Option<int>("--channels") { Description = "Simulated channels.", DefaultValueFactory = _ => 100 };
        var rate = new Option<double>("--rate") { Description = "Sample rate per channel (Hz).", DefaultValueFactory = _ => 25600 };
        var seconds = new Option<double>("--seconds") { Description = "Measured duration (after a warm-up).", DefaultValueFactory = _ => 20 };
        var window = new Option<int>("--window") { Description = "Window size.", DefaultValueFactory = _ => 4096 };
        var overlap = new Option<double>("--overlap") { Description = "Window overlap.", DefaultValueFactory = _ => 0.5 };
        var publish = new Option<double>("--publish-ms") { Description = "Publishing interval: every channel's block arrives together at this period (ms).", DefaultValueFactory = _ => 100 };
        var workers = new Option<int>("--workers") { Description = "Feature workers (0 = one per core).", DefaultValueFactory = _ => 0 };
        var command = new Command("bench", "Drive simulated channels through the whole pipeline in real time and print latency, throughput, CPU and memory.")
        {
            channels, rate, seconds, window, overlap, publish, workers,
        };
        command.SetAction((parse, ct) => BenchCommand.RunAsync(
            new BenchSettings
            {
                Channels = parse.GetValue(channels),
                SampleRateHz = parse.GetValue(rate),
                Seconds = parse.GetValue(seconds),
                WindowSize = parse.GetValue(window),
                Overlap = parse.GetValue(overlap),
                PublishMilliseconds = parse.GetValue(publish),
                Workers = parse.GetValue(workers),
            },
            Console.Out,
            ct));
        return command;
    }
}
