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
        root.Subcommands.Add(BuildTelemetry());
        root.Subcommands.Add(Dashboard.DashboardCommands.Build());
        root.Subcommands.Add(ConfigCommand.Build());
        root.Subcommands.Add(CertCommand.Build());
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
        var window = new Option<int?>("--window") { Description = "Window size (power of two, 1024–65536); default: the model's with --model, else 4096." };
        var overlap = new Option<double?>("--overlap") { Description = "Window overlap, 0–0.9; default: the model's with --model, else 0.5." };
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
        var input = new Option<string[]>("--input", "-i") { Description = "Normal recording(s) to learn from (CSV or WAV); repeat for several.", AllowMultipleArgumentsPerToken = false };
        var inputBatches = new Option<string[]>("--input-batches") { Description = "Folder(s) of received training batches (docs/uplink.md): their normal samples are learned from.", AllowMultipleArgumentsPerToken = false };
        var output = new Option<string>("--out", "-o") { Description = "Model file to write (MODEL.onnx; the manifest goes beside it).", Required = true };
        var window = new Option<int>("--window") { Description = "Window size (power of two, 1024–65536); must match the gateway's.", DefaultValueFactory = _ => 4096 };
        var overlap = new Option<double>("--overlap") { Description = "Window overlap, 0–0.9.", DefaultValueFactory = _ => 0.5 };
        var modelId = new Option<string?>("--model-id") { Description = "Model line (default: the output file name)." };
        var version = new Option<long?>("--version") { Description = "Model version (default: seconds since 1970)." };
        var clusters = new Option<int>("--clusters") { Description = "KMeans clusters (0 = automatic).", DefaultValueFactory = _ => 0 };
        var holdBack = new Option<double>("--holdback") { Description = "Share of the normal windows held back for the threshold.", DefaultValueFactory = _ => 0.2 };
        var margin = new Option<double>("--margin") { Description = "Threshold = largest held-back score × margin.", DefaultValueFactory = _ => Training.ModelTrainingOptions.DefaultMargin };
        var features = new Option<string[]>("--feature") { Description = "Model input feature (repeat; band_* = every band). Default: amplitude, shape, band and envelope features." };
        var bearing = new Option<string?>("--bearing") { Description = "Bearing catalogue name (overrides the recordings' headers)." };
        var rpm = new Option<double?>("--rpm") { Description = "Nominal shaft speed in rpm (overrides the recordings' headers)." };
        var noProgress = new Option<bool>("--no-progress") { Description = "No progress display on stderr." };
        var command = new Command("train", "Train an anomaly model from normal recordings (same pipeline and features as live scoring) and write MODEL.onnx + manifest.")
        {
            input, output, window, overlap, modelId, version, clusters, holdBack, margin, features, bearing, rpm, noProgress,
        };
        command.Options.Add(inputBatches);
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
                InputBatches = parse.GetValue(inputBatches) ?? [],
            },
            Console.Out, Console.Error, ct));
        return command;
    }

    private static Command BuildModel()
    {
        var command = new Command("model", "Model keys and signatures (keygen, sign, verify) and a running gateway's models (list, status, promote, rollback, shadow-report, stop-shadow).");

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

        // Operator verbs on a running gateway's models folder (command files, docs/models.md).
        Option<string> ModelsDir() => new("--models-dir", "-d") { Description = "The gateway's models folder (Scoring:ModelsDirectory).", Required = true };
        var listDir = ModelsDir();
        var list = new Command("list", "List the model files in a models folder and what the gateway watching it runs.") { listDir };
        list.SetAction((parse, ct) => Scoring.ModelOperatorCommand.ListAsync(new Scoring.ModelListSettings { ModelsDirectory = parse.GetValue(listDir)! }, Console.Out, Console.Error, ct));
        command.Subcommands.Add(list);
        foreach (var (name, verb, help) in new[]
        {
            ("status", Scoring.ModelControlCommand.Status, "Ask the running gateway which models it runs."),
            ("promote", Scoring.ModelControlCommand.Promote, "Make a model line's shadow candidate active."),
            ("rollback", Scoring.ModelControlCommand.Rollback, "Roll a model line back (to --version, or the newest older version that verifies)."),
            ("shadow-report", Scoring.ModelControlCommand.ShadowReport, "A model line's shadow candidate: would-be alert rate beside the active model."),
            ("stop-shadow", Scoring.ModelControlCommand.StopShadow, "Stop a model line's shadow candidate without promoting it."),
        })
        {
            var dir = ModelsDir();
            var line = new Argument<string?>("MODEL_ID") { Description = "The model line (manifest model_id).", Arity = verb == Scoring.ModelControlCommand.Status ? ArgumentArity.ZeroOrOne : ArgumentArity.ExactlyOne };
            var version = new Option<long?>("--version") { Description = "Rollback target version." };
            var timeout = new Option<double>("--timeout") { Description = "Seconds to wait for the gateway's answer (default 30).", DefaultValueFactory = _ => 30 };
            var sub = new Command(name, help) { dir, line, timeout };
            if (verb == Scoring.ModelControlCommand.Rollback)
            {
                sub.Options.Add(version);
            }

            sub.SetAction((parse, ct) => Scoring.ModelOperatorCommand.RunAsync(
                new Scoring.ModelOperatorSettings { ModelsDirectory = parse.GetValue(dir)!, Command = verb, ModelId = parse.GetValue(line), Version = parse.GetValue(version), TimeoutSeconds = parse.GetValue(timeout) },
                Console.Out, Console.Error, TimeProvider.System, ct));
            command.Subcommands.Add(sub);
        }
        return command;
    }

    private static Command BuildDemo()
    {
        var duration = new Option<double?>("--duration") { Description = "Seconds to run (default: until Ctrl+C)." };
        var faultAt = new Option<double>("--fault-at") { Description = "Seconds until the faulty machine's fault starts.", DefaultValueFactory = _ => 20 };
        var influx = new Option<string?>("--influx") { Description = "Write telemetry to this InfluxDB URL instead of the embedded store." };
        var influxApi = new Option<string?>("--influx-api") { Description = "v2 (InfluxDB 2.x/3.x/Cloud, 1.8+) or v1 (/write, InfluxDB 1.x)." };
        var influxBucket = new Option<string?>("--influx-bucket") { Description = "Bucket (v2)." };
        var influxDb = new Option<string?>("--influx-db") { Description = "Database (v1)." };
        var mqtt = new Option<string?>("--mqtt") { Description = "Publish the alerts to this MQTT broker: mqtt://HOST:PORT (mqtts:// for TLS; same keys as FactoryEdge:Alerts:Mqtt for 'run')." };
        mqtt.Validators.Add(r =>
        {
            try
            {
                _ = r.GetValueOrDefault<string?>() is { Length: > 0 } u ? Alerts.AlertsCommandLine.MqttOverrides(u) : null;
            }
            catch (FormatException ex)
            {
                r.AddError(ex.Message);
            }
        });
        var replay = new Option<string?>("--replay") { Description = "Serve this recording (CSV or WAV, looping) over OPC UA instead of the generated machines, e.g. ../shared/data/cwru/cwru_48k_normal_0hp_97.csv." };
        var command = new Command("demo", "The gateway reading six simulated machines over the wire (OPC UA and Modbus, in process on loopback); one develops a bearing fault after ~20 s. Needs no external service.")
        {
            duration, faultAt, influx, influxApi, influxBucket, influxDb, mqtt, replay,
        };
        command.SetAction((parse, ct) => DemoCommand.RunAsync(
            parse.GetValue(duration),
            parse.GetValue(faultAt),
            Console.Out,
            ct,
            (parse.GetValue(influx) is { Length: > 0 } url
                ? Telemetry.Cli.TelemetryCommands.InfluxOverrides(url, parse.GetValue(influxApi), parse.GetValue(influxBucket), parse.GetValue(influxDb))
                : []).Concat(parse.GetValue(mqtt) is { Length: > 0 } broker ? Alerts.AlertsCommandLine.MqttOverrides(broker) : []),
            parse.GetValue(replay)));
        return command;
    }

    private static Command BuildTelemetry()
    {
        var telemetry = new Command("telemetry", "Read the telemetry kept on this gateway (the embedded store / spool): tail, query, status.");

        Option<string?> Config() => new("--config") { Description = "Gateway configuration file (to find the store), as for 'run'." };
        Option<string?> Spool() => new("--spool") { Description = "The store file itself (overrides the configuration)." };
        string Path(ParseResult p, Option<string?> spool, Option<string?> config) =>
            Telemetry.Cli.TelemetryCommands.ResolveSpoolPath(p.GetValue(spool), GatewayHost.ResolveConfigPath(p.GetValue(config)));

        {
            var config = Config();
            var spool = Spool();
            var machine = new Option<string?>("--machine") { Description = "Only this machine (name or site/line/machine)." };
            var measurement = new Option<string?>("--measurement") { Description = "Only this measurement (see docs/telemetry.md)." };
            var count = new Option<int>("--count", "-n") { Description = "Records to show.", DefaultValueFactory = _ => 20 };
            var follow = new Option<bool>("--follow", "-f") { Description = "Keep printing new records until Ctrl+C." };
            var format = new Option<string>("--format") { Description = "table, csv, json or lp (line protocol).", DefaultValueFactory = _ => "table" };
            var tail = new Command("tail", "The newest records.") { config, spool, machine, measurement, count, follow, format };
            tail.SetAction((p, ct) => Telemetry.Cli.TelemetryCommands.TailAsync(
                new Telemetry.Cli.TelemetryTailSettings
                {
                    SpoolPath = Path(p, spool, config),
                    Machine = p.GetValue(machine),
                    Measurement = p.GetValue(measurement),
                    Count = p.GetValue(count),
                    Follow = p.GetValue(follow),
                    Format = p.GetValue(format)!,
                },
                Console.Out,
                Console.Error,
                ct));
            telemetry.Subcommands.Add(tail);
        }

        {
            var config = Config();
            var spool = Spool();
            var measurement = new Option<string>("--measurement") { Description = "Measurement.", DefaultValueFactory = _ => Telemetry.LineProtocol.TelemetrySchema.WindowMeasurement };
            var machine = new Option<string?>("--machine") { Description = "Machine (name or site/line/machine)." };
            var sensor = new Option<string?>("--sensor") { Description = "Sensor." };
            var axis = new Option<string?>("--axis") { Description = "Axis." };
            var field = new Option<string[]>("--field") { Description = "Field to show (repeatable; * for all).", AllowMultipleArgumentsPerToken = false };
            var since = new Option<string?>("--since") { Description = "From (ISO time, or 90s/15m/2h/7d ago)." };
            var until = new Option<string?>("--until") { Description = "Until (ISO time, or 90s/15m/2h/7d ago)." };
            var limit = new Option<int>("--limit") { Description = "At most this many records.", DefaultValueFactory = _ => 1000 };
            var format = new Option<string>("--format") { Description = "table, csv, json or lp.", DefaultValueFactory = _ => "table" };
            var quarantine = new Option<bool>("--quarantine") { Description = "Show the batches the server rejected instead." };
            var query = new Command("query", "Records by measurement, machine, time range and fields.") { config, spool, measurement, machine, sensor, axis, field, since, until, limit, format, quarantine };
            query.SetAction((p, ct) => Telemetry.Cli.TelemetryCommands.QueryAsync(
                new Telemetry.Cli.TelemetryQuerySettings
                {
                    SpoolPath = Path(p, spool, config),
                    Measurement = p.GetValue(measurement)!,
                    Machine = p.GetValue(machine),
                    Sensor = p.GetValue(sensor),
                    Axis = p.GetValue(axis),
                    Fields = p.GetValue(field) ?? [],
                    Since = p.GetValue(since),
                    Until = p.GetValue(until),
                    Limit = p.GetValue(limit),
                    Format = p.GetValue(format)!,
                    Quarantine = p.GetValue(quarantine),
                },
                Console.Out,
                Console.Error,
                TimeProvider.System,
                ct));
            telemetry.Subcommands.Add(query);
        }

        {
            var config = Config();
            var spool = Spool();
            var status = new Command("status", "Depth, oldest record, quarantine and size of the store.") { config, spool };
            status.SetAction((p, ct) => Telemetry.Cli.TelemetryCommands.StatusAsync(Path(p, spool, config), Console.Out, Console.Error, TimeProvider.System, ct));
            telemetry.Subcommands.Add(status);
        }

        return telemetry;
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
