using FactoryEdge.Core;
using FactoryEdge.OpcUa.Client;
using FactoryEdge.OpcUa.Encoding;
using FactoryEdge.OpcUa.Protocol;
using FactoryEdge.OpcUa.SecureChannel;
using Microsoft.Extensions.Options;

namespace FactoryEdge.OpcUa;

/// <summary>A configured node after parsing.</summary>
public sealed record OpcUaChannelPoint
{
    public required int ChannelIndex { get; init; }

    public required ChannelId Channel { get; init; }

    public required ChannelKind Kind { get; init; }

    public required NodeIdText Node { get; init; }

    public required bool Polling { get; init; }

    public SignalUnit? Unit { get; init; }

    public double? SampleRateHz { get; init; }

    public string? SampleRateNode { get; init; }

    public double SamplingIntervalMs { get; init; }

    public uint QueueSize { get; init; } = 1;

    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(1);

    public bool Contiguous { get; init; }

    public string? IndexRange { get; init; }

    public DeadbandType Deadband { get; init; }

    public double DeadbandValue { get; init; }

    public double FullScale { get; init; }
}

/// <summary>A server after parsing: how to connect and its points.</summary>
public sealed record OpcUaServerDefinition(string Name, OpcUaConnectionOptions Connection, SubscriptionSettings Subscription, IReadOnlyList<OpcUaChannelPoint> Points)
{
    public string? UserName { get; init; }

    public string? PasswordFile { get; init; }

    internal string? Password { get; init; }

    /// <summary>The security asked for (null: <see cref="OpcUaConnectionOptions.Security"/> as given).</summary>
    public ClientSecurityOptions? Security { get; init; }

    /// <summary>The session identity: anonymous, or the user with the password from the file (read now) or the configuration.</summary>
    public UserIdentity ResolveIdentity()
    {
        if (string.IsNullOrEmpty(UserName))
        {
            return UserIdentity.Anonymous;
        }

        var password = Password ?? File.ReadAllText(PasswordFile!).TrimEnd('\r', '\n');
        return UserIdentity.FromUserName(UserName, password);
    }
}

/// <summary>Parses and checks <see cref="OpcUaOptions"/>; every problem names its configuration key and the allowed values.</summary>
public static class OpcUaChannelMap
{
    public static IReadOnlyList<string> Build(OpcUaOptions options, out IReadOnlyList<OpcUaServerDefinition> servers)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        var list = new List<OpcUaServerDefinition>();
        servers = list;
        if (!options.Enabled)
        {
            return errors;
        }

        Check(errors, options.DiscoveryTimeoutMs is >= 100 and <= 600_000, Key("DiscoveryTimeoutMs"), options.DiscoveryTimeoutMs, "100..600000");
        var names = new HashSet<string>(StringComparer.Ordinal);
        var channels = new HashSet<ChannelId>();
        var channelIndex = 0;
        for (var s = 0; s < options.Servers.Count; s++)
        {
            var server = options.Servers[s];
            var key = Key($"Servers:{s}");
            if (server is null)
            {
                errors.Add($"{key}: empty server entry");
                continue;
            }

            var before = errors.Count;
            if (string.IsNullOrWhiteSpace(server.Name))
            {
                errors.Add($"{key}:Name: required");
            }
            else if (!names.Add(server.Name))
            {
                errors.Add($"{key}:Name: '{server.Name}' is used by another server; names must be unique");
            }

            if (!EndpointUrls.TryParse(server.EndpointUrl, out _, out _, out var urlError))
            {
                errors.Add($"{key}:EndpointUrl: {urlError}");
            }

            var security = ParseSecurity(server, key, errors);

            if (!string.IsNullOrEmpty(server.UserName) && string.IsNullOrEmpty(server.PasswordFile) && server.Password is null)
            {
                errors.Add($"{key}:PasswordFile: required with UserName (or set Password, e.g. from an environment variable)");
            }

            Check(errors, server.SessionTimeoutMs is >= 10_000 and <= 3_600_000, $"{key}:SessionTimeoutMs", server.SessionTimeoutMs, "10000..3600000");
            Check(errors, server.RequestTimeoutMs is >= 100 and <= 600_000, $"{key}:RequestTimeoutMs", server.RequestTimeoutMs, "100..600000");
            Check(errors, server.ConnectTimeoutMs is >= 100 and <= 600_000, $"{key}:ConnectTimeoutMs", server.ConnectTimeoutMs, "100..600000");
            Check(errors, server.PublishingIntervalMs is >= 10 and <= 3_600_000, $"{key}:PublishingIntervalMs", server.PublishingIntervalMs, "10..3600000");
            Check(errors, server.KeepAliveCount is >= 1 and <= 1000, $"{key}:KeepAliveCount", server.KeepAliveCount, "1..1000");
            Check(errors, server.ReconnectInitialDelayMs is >= 10 and <= 60_000, $"{key}:ReconnectInitialDelayMs", server.ReconnectInitialDelayMs, "10..60000");
            Check(errors, server.ReconnectMaxDelayMs >= server.ReconnectInitialDelayMs && server.ReconnectMaxDelayMs <= 600_000, $"{key}:ReconnectMaxDelayMs", server.ReconnectMaxDelayMs, "ReconnectInitialDelayMs..600000");
            if (server.Waveforms.Count == 0 && server.Scalars.Count == 0)
            {
                errors.Add($"{key}: declares no Waveforms and no Scalars");
            }

            var points = new List<OpcUaChannelPoint>();
            for (var w = 0; w < server.Waveforms.Count; w++)
            {
                var point = ParseWaveform(server.Waveforms[w], $"{key}:Waveforms:{w}", channelIndex + points.Count, channels, errors);
                if (point is not null)
                {
                    points.Add(point);
                }
            }

            for (var c = 0; c < server.Scalars.Count; c++)
            {
                var point = ParseScalar(server.Scalars[c], server, $"{key}:Scalars:{c}", channelIndex + points.Count, channels, errors);
                if (point is not null)
                {
                    points.Add(point);
                }
            }

            if (errors.Count != before)
            {
                continue;
            }

            channelIndex += points.Count;
            list.Add(new OpcUaServerDefinition(server.Name, new OpcUaConnectionOptions
            {
                EndpointUrl = server.EndpointUrl,
                Session = new SessionOptions
                {
                    SessionName = "FactoryEdge " + server.Name,
                    SessionTimeout = TimeSpan.FromMilliseconds(server.SessionTimeoutMs),
                    RequestTimeout = TimeSpan.FromMilliseconds(server.RequestTimeoutMs),
                },
                Channel = new SecureChannelOptions
                {
                    ConnectTimeout = TimeSpan.FromMilliseconds(server.ConnectTimeoutMs),
                    RequestTimeout = TimeSpan.FromMilliseconds(server.RequestTimeoutMs),
                },
                ReconnectInitialDelay = TimeSpan.FromMilliseconds(server.ReconnectInitialDelayMs),
                ReconnectMaxDelay = TimeSpan.FromMilliseconds(server.ReconnectMaxDelayMs),
            },
            new SubscriptionSettings { PublishingIntervalMs = server.PublishingIntervalMs, MaxKeepAliveCount = (uint)server.KeepAliveCount },
            points)
            {
                UserName = string.IsNullOrEmpty(server.UserName) ? null : server.UserName,
                PasswordFile = server.PasswordFile,
                Password = server.Password,
                Security = security,
            });
        }

        return errors;
    }

    /// <summary>Secure by default: Auto picks the strongest endpoint; None only with AllowSecurityPolicyNone.</summary>
    private static ClientSecurityOptions ParseSecurity(OpcUaServerOptions server, string key, List<string> errors)
    {
        var policy = server.SecurityPolicy;
        var allowedPolicies = "Auto, " + string.Join(", ", Security.SecurityPolicy.All.Select(static p => p.Name)) + ", None";
        if (string.IsNullOrEmpty(policy) || string.Equals(policy, "Auto", StringComparison.OrdinalIgnoreCase))
        {
            policy = null;
        }
        else if (string.Equals(policy, "None", StringComparison.OrdinalIgnoreCase))
        {
            policy = "None";
            if (!server.AllowSecurityPolicyNone)
            {
                errors.Add($"{key}:SecurityPolicy: 'None' needs {key}:AllowSecurityPolicyNone: true (connections are secure by default; None sends data and passwords unprotected)");
            }
        }
        else if (Security.SecurityPolicy.Find(policy) is { } found)
        {
            policy = found.Name;
        }
        else
        {
            errors.Add($"{key}:SecurityPolicy: '{server.SecurityPolicy}' is not allowed; allowed: {allowedPolicies}");
        }

        MessageSecurityMode? mode = null;
        if (string.Equals(server.SecurityMode, "Sign", StringComparison.OrdinalIgnoreCase))
        {
            mode = MessageSecurityMode.Sign;
        }
        else if (string.Equals(server.SecurityMode, "SignAndEncrypt", StringComparison.OrdinalIgnoreCase))
        {
            mode = MessageSecurityMode.SignAndEncrypt;
        }
        else if (!string.IsNullOrEmpty(server.SecurityMode) && !string.Equals(server.SecurityMode, "Auto", StringComparison.OrdinalIgnoreCase))
        {
            errors.Add($"{key}:SecurityMode: '{server.SecurityMode}' is not allowed; allowed: Auto, Sign, SignAndEncrypt");
        }

        return new ClientSecurityOptions
        {
            SecurityPolicy = policy,
            SecurityMode = policy == "None" ? null : mode,
            AllowNone = server.AllowSecurityPolicyNone,
            AcceptUntrustedCertificates = server.AcceptUntrustedCertificates,
        };
    }

    private static OpcUaChannelPoint? ParseWaveform(OpcUaWaveformOptions? waveform, string key, int channelIndex, HashSet<ChannelId> channels, List<string> errors)
    {
        if (waveform is null)
        {
            errors.Add($"{key}: empty waveform entry");
            return null;
        }

        var before = errors.Count;
        var id = ParseChannel(waveform.Channel, key, channels, errors);
        var node = ParseNode(waveform.NodeId, $"{key}:NodeId", errors);
        var polling = ParseMode(waveform.Mode, $"{key}:Mode", errors);
        SignalUnit? unit = null;
        if (!string.IsNullOrWhiteSpace(waveform.Unit))
        {
            if (!SignalUnits.TryParse(waveform.Unit, out var u) || !u.IsVibration())
            {
                errors.Add($"{key}:Unit: '{waveform.Unit}' is not allowed for a waveform; allowed: g, m/s2, mm/s, um");
            }
            else
            {
                unit = u;
            }
        }

        if (waveform.SampleRateHz is null && string.IsNullOrWhiteSpace(waveform.SampleRateNodeId))
        {
            errors.Add($"{key}:SampleRateHz: required (or give SampleRateNodeId, a node holding the rate)");
        }
        else if (waveform.SampleRateHz is { } rate && !(rate > 0 && rate <= 10_000_000))
        {
            errors.Add($"{key}:SampleRateHz: {rate} is not allowed; allowed: 0 < rate <= 10000000");
        }

        if (waveform.SampleRateHz is null && !string.IsNullOrWhiteSpace(waveform.SampleRateNodeId) && !waveform.SampleRateNodeId.StartsWith("../", StringComparison.Ordinal))
        {
            ParseNode(waveform.SampleRateNodeId, $"{key}:SampleRateNodeId", errors);
        }

        Check(errors, waveform.SamplingIntervalMs is >= 0 and <= 3_600_000, $"{key}:SamplingIntervalMs", waveform.SamplingIntervalMs, "0..3600000");
        Check(errors, waveform.QueueSize is >= 1 and <= 1000, $"{key}:QueueSize", waveform.QueueSize, "1..1000");
        Check(errors, waveform.PollIntervalMs is >= 10 and <= 3_600_000, $"{key}:PollIntervalMs", waveform.PollIntervalMs, "10..3600000");
        if (waveform.IndexRange is not null && !NumericRange.TryParse(waveform.IndexRange, out _, out var rangeError))
        {
            errors.Add($"{key}:IndexRange: '{waveform.IndexRange}' is invalid: {rangeError}; allowed: N or LOW:HIGH, e.g. 0:2047");
        }

        if (errors.Count != before)
        {
            return null;
        }

        return new OpcUaChannelPoint
        {
            ChannelIndex = channelIndex,
            Channel = id!,
            Kind = ChannelKind.Waveform,
            Node = node!,
            Polling = polling,
            Unit = unit,
            SampleRateHz = waveform.SampleRateHz,
            SampleRateNode = waveform.SampleRateHz is null ? waveform.SampleRateNodeId : null,
            SamplingIntervalMs = waveform.SamplingIntervalMs,
            QueueSize = (uint)waveform.QueueSize,
            PollInterval = TimeSpan.FromMilliseconds(waveform.PollIntervalMs),
            Contiguous = waveform.Contiguous,
            IndexRange = waveform.IndexRange,
            FullScale = waveform.FullScale,
        };
    }

    private static OpcUaChannelPoint? ParseScalar(OpcUaScalarOptions? scalar, OpcUaServerOptions server, string key, int channelIndex, HashSet<ChannelId> channels, List<string> errors)
    {
        if (scalar is null)
        {
            errors.Add($"{key}: empty scalar entry");
            return null;
        }

        var before = errors.Count;
        var id = ParseChannel(scalar.Channel, key, channels, errors);
        var node = ParseNode(scalar.NodeId, $"{key}:NodeId", errors);
        var polling = ParseMode(scalar.Mode, $"{key}:Mode", errors);
        SignalUnit? unit = null;
        if (!string.IsNullOrWhiteSpace(scalar.Unit))
        {
            if (!SignalUnits.TryParse(scalar.Unit, out var u))
            {
                errors.Add($"{key}:Unit: '{scalar.Unit}' is not allowed; allowed: {SignalUnits.AllowedNames}");
            }
            else
            {
                unit = u;
            }
        }

        if (!Enum.TryParse<DeadbandType>(scalar.DeadbandType, ignoreCase: true, out var deadband) || !Enum.IsDefined(deadband) || int.TryParse(scalar.DeadbandType, out _))
        {
            errors.Add($"{key}:DeadbandType: '{scalar.DeadbandType}' is not allowed; allowed: None, Absolute, Percent");
        }
        else if (deadband != DeadbandType.None && !(scalar.DeadbandValue >= 0) || deadband == DeadbandType.Percent && scalar.DeadbandValue > 100)
        {
            errors.Add($"{key}:DeadbandValue: {scalar.DeadbandValue} is not allowed; allowed: >= 0 (Percent: 0..100)");
        }

        Check(errors, scalar.SamplingIntervalMs is >= 0 and <= 3_600_000, $"{key}:SamplingIntervalMs", scalar.SamplingIntervalMs, "0..3600000");
        Check(errors, scalar.PollIntervalMs is >= 10 and <= 3_600_000, $"{key}:PollIntervalMs", scalar.PollIntervalMs, "10..3600000");
        if (errors.Count != before)
        {
            return null;
        }

        var interval = polling ? scalar.PollIntervalMs : Math.Max(scalar.SamplingIntervalMs, server.PublishingIntervalMs);
        return new OpcUaChannelPoint
        {
            ChannelIndex = channelIndex,
            Channel = id!,
            Kind = ChannelKind.Scalar,
            Node = node!,
            Polling = polling,
            Unit = unit,
            SampleRateHz = 1000.0 / Math.Max(1, interval),
            SamplingIntervalMs = scalar.SamplingIntervalMs,
            PollInterval = TimeSpan.FromMilliseconds(scalar.PollIntervalMs),
            Deadband = deadband,
            DeadbandValue = scalar.DeadbandValue,
        };
    }

    private static ChannelId? ParseChannel(string text, string key, HashSet<ChannelId> channels, List<string> errors)
    {
        try
        {
            var id = ChannelId.Parse(text);
            if (!channels.Add(id))
            {
                errors.Add($"{key}:Channel: '{text}' is declared twice; channel ids must be unique");
            }

            return id;
        }
        catch (FormatException ex)
        {
            errors.Add($"{key}:Channel: {ex.Message}");
            return null;
        }
    }

    private static NodeIdText? ParseNode(string? text, string key, List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            errors.Add($"{key}: required, e.g. nsu=urn:vendor:plc;s=Machine1.Waveform");
            return null;
        }

        try
        {
            return NodeIdText.Parse(text);
        }
        catch (FormatException ex)
        {
            errors.Add($"{key}: {ex.Message}");
            return null;
        }
    }

    private static bool ParseMode(string? mode, string key, List<string> errors)
    {
        if (string.Equals(mode, "Subscription", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        if (string.Equals(mode, "Polling", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        errors.Add($"{key}: '{mode}' is not allowed; allowed: Subscription, Polling");
        return false;
    }

    private static void Check<T>(List<string> errors, bool ok, string key, T value, string allowed)
    {
        if (!ok)
        {
            errors.Add($"{key}: {value} is not allowed; allowed: {allowed}");
        }
    }

    private static string Key(string path) => OpcUaOptions.SectionName + ":" + path;
}

/// <summary>Start-up validation of <see cref="OpcUaOptions"/> (ValidateOnStart).</summary>
public sealed class OpcUaOptionsValidator : IValidateOptions<OpcUaOptions>
{
    public ValidateOptionsResult Validate(string? name, OpcUaOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = OpcUaChannelMap.Build(options, out _);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
