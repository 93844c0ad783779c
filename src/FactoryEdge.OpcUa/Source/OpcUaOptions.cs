namespace FactoryEdge.OpcUa;

/// <summary>
/// OPC UA servers the gateway reads (configuration section <see cref="SectionName"/>). Strings stand
/// for enumerations so that a bad value is reported with its key and the allowed values;
/// <see cref="OpcUaOptionsValidator"/> checks everything at start-up.
/// </summary>
public sealed class OpcUaOptions
{
    public const string SectionName = "FactoryEdge:OpcUa";

    /// <summary>False turns the OPC UA source off (it declares no channels).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>How long start-up may wait for a server to read units (EUInformation) and sample-rate nodes, in ms.</summary>
    public int DiscoveryTimeoutMs { get; set; } = 10_000;

    /// <summary>
    /// The PKI directory (own/, trusted/, rejected/, issuers/): our application certificate is made
    /// there at first run. Default: FACTORYEDGE_PKI, else factoryedge/pki under the local application data.
    /// </summary>
    public string? PkiDirectory { get; set; }

    /// <summary>Application URI written into a new certificate (default urn:HOST:factoryedge).</summary>
    public string? ApplicationUri { get; set; }

    public List<OpcUaServerOptions> Servers { get; set; } = [];
}

/// <summary>One server: endpoint, session, subscription and the nodes it maps to channels.</summary>
public sealed class OpcUaServerOptions
{
    /// <summary>Unique name, used in logs.</summary>
    public string Name { get; set; } = "";

    /// <summary>opc.tcp://HOST:PORT[/PATH]. The host given here is used even when the server advertises another.</summary>
    public string EndpointUrl { get; set; } = "";

    /// <summary>
    /// Auto (default: the strongest endpoint the server offers), Basic256Sha256, Aes128_Sha256_RsaOaep,
    /// Aes256_Sha256_RsaPss, or None (needs <see cref="AllowSecurityPolicyNone"/>).
    /// </summary>
    public string SecurityPolicy { get; set; } = "Auto";

    /// <summary>Auto (default: SignAndEncrypt when offered), Sign or SignAndEncrypt.</summary>
    public string SecurityMode { get; set; } = "Auto";

    /// <summary>SecurityPolicy None may be used with this server (logged as a warning): explicitly, or with Auto when the server offers nothing else.</summary>
    public bool AllowSecurityPolicyNone { get; set; }

    /// <summary>Commissioning only: connect even when the server's certificate is not trusted (logged as a warning). Off by default.</summary>
    public bool AcceptUntrustedCertificates { get; set; }

    /// <summary>User name; anonymous when empty.</summary>
    public string? UserName { get; set; }

    /// <summary>File holding the password (preferred: keeps it out of the configuration).</summary>
    public string? PasswordFile { get; set; }

    /// <summary>The password itself (e.g. from an environment variable FactoryEdge__OpcUa__Servers__0__Password).</summary>
    public string? Password { get; set; }

    public int SessionTimeoutMs { get; set; } = 60_000;

    public int RequestTimeoutMs { get; set; } = 10_000;

    public int ConnectTimeoutMs { get; set; } = 5_000;

    /// <summary>Publishing interval of the server's subscription, in ms.</summary>
    public int PublishingIntervalMs { get; set; } = 100;

    /// <summary>Publishing intervals without data before the server sends a keep-alive (the watchdog allows 1.5 × this period).</summary>
    public int KeepAliveCount { get; set; } = 10;

    public int ReconnectInitialDelayMs { get; set; } = 100;

    /// <summary>Cap of the reconnect backoff; data resumes within about this long after the server returns.</summary>
    public int ReconnectMaxDelayMs { get; set; } = 2_000;

    public List<OpcUaWaveformOptions> Waveforms { get; set; } = [];

    public List<OpcUaScalarOptions> Scalars { get; set; } = [];
}

/// <summary>A waveform: a Float or Double array node, one block of samples per update.</summary>
public sealed class OpcUaWaveformOptions
{
    /// <summary>Channel id site/line/machine/sensor/axis.</summary>
    public string Channel { get; set; } = "";

    /// <summary>nsu=URI;s=NAME (recommended: namespace indexes may change when the server restarts), ns=N;s=NAME or i=N.</summary>
    public string NodeId { get; set; } = "";

    /// <summary>Samples per second; or give <see cref="SampleRateNodeId"/>.</summary>
    public double? SampleRateHz { get; set; }

    /// <summary>A node holding the sample rate: an absolute node id, or ../NAME for a sibling of the waveform node.</summary>
    public string? SampleRateNodeId { get; set; }

    /// <summary>Unit (g, m/s2, mm/s, um); when empty the node's EngineeringUnits (EUInformation) decide, else g.</summary>
    public string? Unit { get; set; }

    /// <summary>Subscription (default) or Polling.</summary>
    public string Mode { get; set; } = "Subscription";

    /// <summary>Sampling interval requested for the monitored item, in ms (0 = every change).</summary>
    public double SamplingIntervalMs { get; set; }

    /// <summary>Queue size of the monitored item: blocks the server keeps between publishes.</summary>
    public int QueueSize { get; set; } = 4;

    /// <summary>Read interval in Polling mode, in ms.</summary>
    public int PollIntervalMs { get; set; } = 1000;

    /// <summary>True when consecutive arrays are back to back in time (streaming); false for snapshots, each after a gap.</summary>
    public bool Contiguous { get; set; }

    /// <summary>Optional IndexRange of the array to read (e.g. 0:2047).</summary>
    public string? IndexRange { get; set; }

    public double FullScale { get; set; }
}

/// <summary>A scalar (overall level, temperature, speed...): one sample per change or poll.</summary>
public sealed class OpcUaScalarOptions
{
    public string Channel { get; set; } = "";

    public string NodeId { get; set; } = "";

    /// <summary>Unit (g, m/s2, mm/s, um, rpm, Hz, degC, 1); when empty the node's EngineeringUnits decide, else 1.</summary>
    public string? Unit { get; set; }

    /// <summary>Subscription (default) or Polling.</summary>
    public string Mode { get; set; } = "Subscription";

    public double SamplingIntervalMs { get; set; } = 1000;

    /// <summary>None, Absolute or Percent (of the node's EURange).</summary>
    public string DeadbandType { get; set; } = "None";

    public double DeadbandValue { get; set; }

    public int PollIntervalMs { get; set; } = 1000;
}
