using FactoryEdge.Core;
using FactoryEdge.Recordings;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace FactoryEdge.Gateway.Hosting;

/// <summary>
/// Sources the gateway itself provides (section <c>FactoryEdge:Sources</c>): recordings replayed as
/// live sensors and physics-based simulated machines. Protocol adapters (OPC UA, Modbus) register
/// their own sources.
/// </summary>
public sealed class SourcesOptions
{
    public const string SectionName = "FactoryEdge:Sources";

    public List<RecordingSourceConfig> Recordings { get; set; } = [];

    public List<SimulatedMachineConfig> Simulated { get; set; } = [];
}

/// <summary>A recording replayed as if a sensor delivered it.</summary>
public sealed class RecordingSourceConfig
{
    public string Path { get; set; } = string.Empty;

    public string Machine { get; set; } = string.Empty;

    /// <summary>Machine file with bearing and nominal speed (optional; the recording header is used otherwise).</summary>
    public string? MachineFile { get; set; }

    /// <summary>Replay speed: 1 = real time, 10 = ten times faster.</summary>
    public double Speed { get; set; } = 1.0;

    public bool Loop { get; set; } = true;
}

/// <summary>A simulated machine (see docs/simulation.md).</summary>
public sealed class SimulatedMachineConfig
{
    public string Machine { get; set; } = string.Empty;

    public double SampleRateHz { get; set; } = 25600;

    public double ShaftRpm { get; set; } = 1480;

    public string Bearing { get; set; } = "SKF 6205-2RS JEM";

    /// <summary>None, OuterRace, InnerRace, Ball, Imbalance, Misalignment, Looseness.</summary>
    public string Fault { get; set; } = "None";

    public double FaultOnsetSeconds { get; set; } = 20;

    public double FaultRampSeconds { get; set; } = 5;

    public double FaultSeverity { get; set; } = 1.0;

    public int Seed { get; set; } = 1;
}

public sealed class SourcesOptionsValidator : IValidateOptions<SourcesOptions>
{
    public ValidateOptionsResult Validate(string? name, SourcesOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        var machines = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < options.Recordings.Count; i++)
        {
            var r = options.Recordings[i];
            var key = $"{SourcesOptions.SectionName}:Recordings:{i}";
            if (string.IsNullOrWhiteSpace(r.Path) || !File.Exists(r.Path))
            {
                failures.Add($"{key}:Path = '{r.Path}': file not found.");
            }

            GatewayOptionsValidator.Check(failures, "Machine", r.Machine, key);
            if (!machines.Add(r.Machine))
            {
                failures.Add($"{key}:Machine = '{r.Machine}' is used twice; machine names must be unique.");
            }

            if (!(r.Speed is > 0 and <= 1000))
            {
                failures.Add($"{key}:Speed = {r.Speed} is not allowed: use a factor from above 0 to 1000 (1 = real time).");
            }
        }

        for (var i = 0; i < options.Simulated.Count; i++)
        {
            var s = options.Simulated[i];
            var key = $"{SourcesOptions.SectionName}:Simulated:{i}";
            GatewayOptionsValidator.Check(failures, "Machine", s.Machine, key);
            if (!machines.Add(s.Machine))
            {
                failures.Add($"{key}:Machine = '{s.Machine}' is used twice; machine names must be unique.");
            }

            if (!(s.SampleRateHz is >= 1000 and <= 1_000_000))
            {
                failures.Add($"{key}:SampleRateHz = {s.SampleRateHz} is not allowed: use 1000 to 1000000.");
            }

            if (!(s.ShaftRpm is >= 60 and <= 100_000))
            {
                failures.Add($"{key}:ShaftRpm = {s.ShaftRpm} is not allowed: use 60 to 100000.");
            }

            if (!SimulatedSources.TryParseFault(s.Fault, out _))
            {
                failures.Add($"{key}:Fault = '{s.Fault}' is not allowed: use {SimulatedSources.FaultNames}.");
            }

            if (!Signal.BearingCatalog.TryGet(s.Bearing, out _))
            {
                failures.Add($"{key}:Bearing = '{s.Bearing}' is not in the catalogue: use {string.Join(", ", Signal.BearingCatalog.All.Select(b => b.Name))}.");
            }

            if (!(s.FaultSeverity is >= 0 and <= 10) || !(s.FaultOnsetSeconds >= 0) || !(s.FaultRampSeconds >= 0))
            {
                failures.Add($"{key}: FaultSeverity must be 0–10, FaultOnsetSeconds and FaultRampSeconds at least 0.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

public static class SourcesServiceCollectionExtensions
{
    private static RecordingSource CreateRecordingSource(IServiceProvider sp, int index)
    {
        var r = sp.GetRequiredService<IOptions<SourcesOptions>>().Value.Recordings[index];
        var gateway = sp.GetRequiredService<IOptions<GatewayOptions>>().Value;
        var time = sp.GetRequiredService<TimeProvider>();
        var recording = RecordingReader.Load(r.Path);
        var descriptors = recording.ToChannelDescriptors(gateway.Site, gateway.Line, r.Machine);
        if (r.MachineFile is { Length: > 0 } file)
        {
            var profile = MachineProfile.Load(file);
            var bearing = profile.ResolveBearing(file);
            descriptors = [.. descriptors.Select(d => d with
            {
                Bearing = bearing ?? d.Bearing,
                NominalShaftHz = profile.NominalRpm / 60.0 ?? d.NominalShaftHz,
                MachineGroup = profile.MachineGroup ?? d.MachineGroup,
                Support = profile.Support ?? d.Support,
            })];
        }

        return new RecordingSource(recording, descriptors, new RecordingSourceOptions
        {
            Name = "recording-" + r.Machine,
            Pacing = ReplayPacing.Speed,
            SpeedFactor = r.Speed,
            Loop = r.Loop,
            StartTime = time.GetUtcNow(),
        }, time);
    }

    /// <summary>Registers the configured recordings and simulated machines as <see cref="ISensorSource"/>s.</summary>
    public static IServiceCollection AddFactoryEdgeSources(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<SourcesOptions>()
            .Bind(configuration.GetSection(SourcesOptions.SectionName), o => o.ErrorOnUnknownConfiguration = true)
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<SourcesOptions>, SourcesOptionsValidator>();
        // One registration per configured entry (other adapters add their own ISensorSources).
        var configured = configuration.GetSection(SourcesOptions.SectionName).Get<SourcesOptions>() ?? new SourcesOptions();
        for (var i = 0; i < configured.Recordings.Count; i++)
        {
            var index = i;
            services.AddSingleton<ISensorSource>(sp => CreateRecordingSource(sp, index));
        }

        if (configured.Simulated.Count > 0)
        {
            services.AddSingleton<ISensorSource>(sp =>
            {
                var gateway = sp.GetRequiredService<IOptions<GatewayOptions>>().Value;
                var sources = sp.GetRequiredService<IOptions<SourcesOptions>>().Value;
                return SimulatedSources.Create(sources.Simulated, gateway.Site, gateway.Line, sp.GetRequiredService<TimeProvider>());
            });
        }

        return services;
    }
}
