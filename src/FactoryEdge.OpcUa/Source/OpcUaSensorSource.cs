using FactoryEdge.Core;
using FactoryEdge.OpcUa.Client;
using FactoryEdge.OpcUa.Encoding;
using FactoryEdge.OpcUa.Protocol;
using FactoryEdge.OpcUa.SecureChannel;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace FactoryEdge.OpcUa;

/// <summary>Counters of the OPC UA source, across all servers. Updated without locks.</summary>
public sealed class OpcUaSourceStatistics
{
    private long _notifications;
    private long _samplesWritten;
    private long _samplesDropped;
    private long _badSamples;
    private long _gaps;
    private long _missedBlocks;
    private long _polls;
    private long _failedPolls;

    /// <summary>Values received (data changes and poll results).</summary>
    public long Notifications => Interlocked.Read(ref _notifications);

    public long SamplesWritten => Interlocked.Read(ref _samplesWritten);

    /// <summary>Samples the pipeline had no room for.</summary>
    public long SamplesDropped => Interlocked.Read(ref _samplesDropped);

    public long BadSamples => Interlocked.Read(ref _badSamples);

    /// <summary>Gaps flagged to the pipeline (reconnects, lost notifications, missed blocks, queue overflows).</summary>
    public long Gaps => Interlocked.Read(ref _gaps);

    /// <summary>Waveform blocks that never arrived (from the timestamps of contiguous waveforms).</summary>
    public long MissedBlocks => Interlocked.Read(ref _missedBlocks);

    public long Polls => Interlocked.Read(ref _polls);

    public long FailedPolls => Interlocked.Read(ref _failedPolls);

    internal void OnNotification() => Interlocked.Increment(ref _notifications);

    internal void OnSamples(long count) => Interlocked.Add(ref _samplesWritten, count);

    internal void OnDropped(long count) => Interlocked.Add(ref _samplesDropped, count);

    internal void OnBad() => Interlocked.Increment(ref _badSamples);

    internal void OnGap() => Interlocked.Increment(ref _gaps);

    internal void OnMissed(long count) => Interlocked.Add(ref _missedBlocks, count);

    internal void OnPoll(bool failed)
    {
        Interlocked.Increment(ref _polls);
        if (failed)
        {
            Interlocked.Increment(ref _failedPolls);
        }
    }
}

/// <summary>
/// The OPC UA sensor source: one self-healing <see cref="OpcUaConnection"/> per configured server,
/// one subscription per server for the subscribed nodes, a poll loop for the polled ones. Waveform
/// arrays (Float or Double) become sample blocks stamped with the value's source timestamp (else the
/// server's, else receipt); scalars become one-sample blocks of <see cref="ChannelKind.Scalar"/>
/// channels. Sample indices carry the sequence: a contiguous waveform's next block continues the
/// previous one when its timestamp is one block later, and jumps by the missed blocks otherwise
/// (with a gap flagged); reconnects, lost notifications and queue overflows flag gaps too.
/// </summary>
/// <remarks>
/// Units and sample rates that come from the server (EngineeringUnits, a sample-rate node) are read
/// once before the channels are declared: <see cref="PrepareAsync"/>, or on first use of
/// <see cref="Channels"/> within <see cref="OpcUaOptions.DiscoveryTimeoutMs"/>.
/// </remarks>
public sealed partial class OpcUaSensorSource : ISensorSource
{
    private readonly IReadOnlyList<OpcUaServerDefinition> _servers;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly TimeSpan _discoveryTimeout;
    private readonly ChannelDescriptor[] _descriptors;
    private readonly SemaphoreSlim _prepareLock = new(1, 1);
    private readonly List<OpcUaConnection> _connections = [];
    private volatile bool _prepared;

    public OpcUaSensorSource(IOptions<OpcUaOptions> options, ILoggerFactory? loggerFactory = null, TimeProvider? timeProvider = null)
        : this(options?.Value!, loggerFactory, timeProvider)
    {
    }

    public OpcUaSensorSource(OpcUaOptions options, ILoggerFactory? loggerFactory = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = OpcUaChannelMap.Build(options, out var servers);
        if (errors.Count > 0)
        {
            throw new OptionsValidationException(OpcUaOptions.SectionName, typeof(OpcUaOptions), errors);
        }

        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _logger = _loggerFactory.CreateLogger<OpcUaSensorSource>();
        _time = timeProvider ?? TimeProvider.System;
        _servers = WithSecurity(servers, options);
        _discoveryTimeout = TimeSpan.FromMilliseconds(options.DiscoveryTimeoutMs);
        var points = servers.SelectMany(static s => s.Points).ToArray();
        _descriptors = new ChannelDescriptor[points.Length];
        foreach (var point in points)
        {
            _descriptors[point.ChannelIndex] = Describe(point, point.Unit, point.SampleRateHz ?? 0);
        }

        _prepared = !points.Any(static p => p.Unit is null || p.SampleRateHz is null);
    }

    public string Name => "opcua";

    /// <summary>
    /// Secure by default: each connect asks the server for its endpoints, picks the configured or
    /// strongest one and checks its certificate against the PKI directory, where our certificate is
    /// made at first use (and checked for expiry once a day).
    /// </summary>
    private List<OpcUaServerDefinition> WithSecurity(IReadOnlyList<OpcUaServerDefinition> servers, OpcUaOptions options)
    {
        // Our certificate is loaded (or made) at the first secure connect; a failure (directory not
        // writable ...) is reported as a connection error and retried, not cached.
        var gate = new Lock();
        Pki.ApplicationIdentity? loaded = null;
        var pkiDirectory = options.PkiDirectory ?? Pki.PkiStore.DefaultRoot;
        Pki.ApplicationIdentity Application()
        {
            lock (gate)
            {
                try
                {
                    return loaded ??= Pki.ApplicationIdentity.LoadOrCreate(new Pki.PkiStore(pkiDirectory), options.ApplicationUri, _logger, _time);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
                {
                    throw new ServiceResultException(StatusCodes.BadConfigurationError, $"PKI directory {pkiDirectory} ({OpcUaOptions.SectionName}:PkiDirectory): {ex.Message}", ex);
                }
            }
        }

        var lastExpiryCheck = _time.GetUtcNow();
        var list = new List<OpcUaServerDefinition>(servers.Count);
        foreach (var server in servers)
        {
            if (server.Security is not { } security)
            {
                list.Add(server);
                continue;
            }

            var channelOptions = server.Connection.Channel;
            var url = server.Connection.EndpointUrl;
            async Task<IChannelSecurity> CreateAsync(CancellationToken cancellationToken)
            {
                var identity = security.WantsNone ? null : Application();
                if (identity is not null && _time.GetUtcNow() - lastExpiryCheck > TimeSpan.FromDays(1))
                {
                    lastExpiryCheck = _time.GetUtcNow();
                    identity.CheckExpiry(_logger, _time);
                }

                var choice = await SecureEndpoints.SelectAsync(url, security with { Application = identity }, channelOptions, _logger, _time, cancellationToken).ConfigureAwait(false);
                return choice.CreateSecurity(identity);
            }

            list.Add(server with { Connection = server.Connection with { SecurityAsync = CreateAsync } });
        }

        return list;
    }

    public IReadOnlyList<OpcUaServerDefinition> Servers => _servers;

    /// <summary>
    /// The channels. When units or sample rates must come from the servers, the first call reads
    /// them (bounded by the discovery timeout); a sample rate that cannot be read stops start-up
    /// with a message naming the channel and node.
    /// </summary>
    public IReadOnlyList<ChannelDescriptor> Channels
    {
        get
        {
            if (!_prepared)
            {
                using var cts = new CancellationTokenSource(_discoveryTimeout);
                Task.Run(() => PrepareAsync(cts.Token), CancellationToken.None).GetAwaiter().GetResult();
            }

            return _descriptors;
        }
    }

    public OpcUaSourceStatistics Statistics { get; } = new();

    /// <summary>The running connections (empty when not running).</summary>
    public IReadOnlyList<OpcUaConnection> Connections
    {
        get
        {
            lock (_connections)
            {
                return [.. _connections];
            }
        }
    }

    /// <summary>Reads the units (EUInformation) and sample rates the configuration leaves to the servers.</summary>
    public async Task PrepareAsync(CancellationToken cancellationToken)
    {
        await _prepareLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_prepared)
            {
                return;
            }

            foreach (var server in _servers)
            {
                var open = server.Points.Where(static p => p.Unit is null || p.SampleRateHz is null).ToArray();
                if (open.Length == 0)
                {
                    continue;
                }

                Dictionary<int, (SignalUnit? Unit, double? Rate)> found;
                try
                {
                    found = await DiscoverAsync(server, open, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is ServiceResultException or OperationCanceledException or IOException or CertificateRejectedException)
                {
                    Log.DiscoveryFailed(_logger, server.Name, ex.Message);
                    found = [];
                }

                foreach (var point in open)
                {
                    found.TryGetValue(point.ChannelIndex, out var f);
                    var rate = point.SampleRateHz ?? f.Rate;
                    if (rate is not > 0)
                    {
                        throw new InvalidOperationException($"OPC UA server '{server.Name}': the sample rate of channel {point.Channel} could not be read from node '{point.SampleRateNode}' ({(found.Count == 0 ? "server unreachable" : "no numeric value")}). Set SampleRateHz in {OpcUaOptions.SectionName} or make the node readable.");
                    }

                    var unit = point.Unit ?? f.Unit;
                    if (unit is null)
                    {
                        Log.UnitDefaulted(_logger, point.Channel.ToString(), DefaultUnit(point.Kind).Symbol());
                    }

                    _descriptors[point.ChannelIndex] = Describe(point, unit, rate.Value);
                }
            }

            _prepared = true;
        }
        finally
        {
            _prepareLock.Release();
        }
    }

    private async Task<Dictionary<int, (SignalUnit? Unit, double? Rate)>> DiscoverAsync(OpcUaServerDefinition server, OpcUaChannelPoint[] points, CancellationToken cancellationToken)
    {
        var options = server.Connection;
        var security = await options.CreateSecurityAsync(cancellationToken).ConfigureAwait(false);
        var channel = await UaSecureChannel.OpenAsync(options.EndpointUrl, security, options.Channel, _logger, _time, cancellationToken).ConfigureAwait(false);
        await using (channel.ConfigureAwait(false))
        {
            var session = await UaClientSession.CreateAsync(channel, options.Session with { Identity = server.ResolveIdentity() }, _logger, _time, cancellationToken).ConfigureAwait(false);
            await using (session.ConfigureAwait(false))
            {
                var result = new Dictionary<int, (SignalUnit? Unit, double? Rate)>();
                foreach (var point in points)
                {
                    SignalUnit? unit = point.Unit;
                    double? rate = point.SampleRateHz;
                    try
                    {
                        var node = session.Resolve(point.Node);
                        unit ??= await ReadUnitAsync(session, node, cancellationToken).ConfigureAwait(false);
                        if (rate is null && point.SampleRateNode is not null)
                        {
                            rate = await ReadRateAsync(session, node, point.SampleRateNode, cancellationToken).ConfigureAwait(false);
                        }
                    }
                    catch (ServiceResultException ex) when (!ex.IsConnectionFailure)
                    {
                        Log.NodeDiscoveryFailed(_logger, server.Name, point.Channel.ToString(), ex.Message);
                    }

                    result[point.ChannelIndex] = (unit, rate);
                }

                return result;
            }
        }
    }

    /// <summary>The unit in the node's EngineeringUnits property (EUInformation), when it maps to a pipeline unit.</summary>
    internal static async Task<SignalUnit?> ReadUnitAsync(UaClientSession session, NodeId node, CancellationToken cancellationToken)
    {
        var paths = await session.TranslateAsync([UaClientSession.Path(node, new QualifiedName(0, "EngineeringUnits"))], cancellationToken).ConfigureAwait(false);
        if (paths[0].StatusCode.IsBad || paths[0].Targets.Length == 0)
        {
            return null;
        }

        var value = await session.ReadValueAsync(paths[0].Targets[0].TargetId.NodeId, null, cancellationToken).ConfigureAwait(false);
        return value.Value.Value is ExtensionObject { Body: EUInformation eu } ? MapUnit(eu) : null;
    }

    /// <summary>Maps EUInformation (display name, or the UNECE code) to a pipeline unit.</summary>
    public static SignalUnit? MapUnit(EUInformation eu)
    {
        ArgumentNullException.ThrowIfNull(eu);
        if (SignalUnits.TryParse(eu.DisplayName.Text, out var unit))
        {
            return unit;
        }

        // UNECE Recommendation 20 codes, packed as OPC 10000-8 §5.6.3 says.
        return eu.UnitId switch
        {
            ('C' << 16) | ('E' << 8) | 'L' => SignalUnit.DegreesCelsius,
            ('H' << 16) | ('T' << 8) | 'Z' => SignalUnit.Hertz,
            ('R' << 16) | ('P' << 8) | 'M' => SignalUnit.Rpm,
            ('M' << 16) | ('S' << 8) | 'K' => SignalUnit.MetersPerSecondSquared,
            _ => null,
        };
    }

    private static async Task<double?> ReadRateAsync(UaClientSession session, NodeId node, string rateNode, CancellationToken cancellationToken)
    {
        NodeId target;
        if (rateNode.StartsWith("../", StringComparison.Ordinal))
        {
            var parents = (await session.BrowseAsync([node], BrowseDirection.Inverse, WellKnownNodes.HierarchicalReferences, 0, cancellationToken).ConfigureAwait(false))[0];
            if (parents.Length == 0)
            {
                return null;
            }

            var name = QualifiedName.Parse(rateNode[3..]);
            if (!rateNode[3..].Contains(':', StringComparison.Ordinal))
            {
                name = new QualifiedName(node.NamespaceIndex, name.Name);
            }

            var paths = await session.TranslateAsync([UaClientSession.Path(parents[0].NodeId.NodeId, name)], cancellationToken).ConfigureAwait(false);
            if (paths[0].StatusCode.IsBad || paths[0].Targets.Length == 0)
            {
                return null;
            }

            target = paths[0].Targets[0].TargetId.NodeId;
        }
        else
        {
            target = session.Resolve(rateNode);
        }

        var value = await session.ReadValueAsync(target, null, cancellationToken).ConfigureAwait(false);
        var rate = value.Value.ToDouble();
        return value.StatusCode.IsGood && rate > 0 && double.IsFinite(rate) ? rate : null;
    }

    private static SignalUnit DefaultUnit(ChannelKind kind) => kind == ChannelKind.Waveform ? SignalUnit.G : SignalUnit.Dimensionless;

    private static ChannelDescriptor Describe(OpcUaChannelPoint point, SignalUnit? unit, double rate) => new()
    {
        Id = point.Channel,
        Kind = point.Kind,
        SampleRateHz = rate > 0 ? rate : 1,
        Unit = unit ?? DefaultUnit(point.Kind),
        FullScale = point.FullScale,
    };

    public async Task RunAsync(IReadOnlyList<IChannelWriter> writers, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(writers);
        var channels = Channels;
        if (writers.Count != channels.Count)
        {
            throw new ArgumentException($"Expected {channels.Count} writers (one per channel), got {writers.Count}.", nameof(writers));
        }

        var tasks = new List<Task>();
        foreach (var server in _servers)
        {
            var connection = new OpcUaConnection(server.Connection with { Session = server.Connection.Session with { Identity = server.ResolveIdentity() } }, _loggerFactory.CreateLogger<OpcUaConnection>(), _time);
            var states = server.Points.Select(p => new PointState(p, writers[p.ChannelIndex], channels[p.ChannelIndex], Statistics, _time)).ToArray();
            var subscribed = states.Where(static s => !s.Point.Polling).ToArray();
            if (subscribed.Length > 0)
            {
                var items = subscribed.Select(static s => new MonitoredItemSpec
                {
                    Node = s.Point.Node,
                    IndexRange = s.Point.IndexRange,
                    SamplingIntervalMs = s.Point.SamplingIntervalMs,
                    QueueSize = s.Point.QueueSize,
                    DiscardOldest = true,
                    DeadbandType = s.Point.Deadband,
                    DeadbandValue = s.Point.DeadbandValue,
                }).ToArray();
                connection.AddSubscription(server.Subscription, items, new Handler(subscribed, _logger, server.Name));
            }

            lock (_connections)
            {
                _connections.Add(connection);
            }

            tasks.Add(Task.Run(() => connection.RunAsync(cancellationToken), CancellationToken.None));
            foreach (var group in states.Where(static s => s.Point.Polling).GroupBy(static s => s.Point.PollInterval))
            {
                var polled = group.ToArray();
                tasks.Add(Task.Run(() => PollAsync(connection, polled, group.Key, server.Name, cancellationToken), CancellationToken.None));
            }
        }

        try
        {
            if (tasks.Count == 0)
            {
                await Task.Delay(Timeout.InfiniteTimeSpan, _time, cancellationToken).ConfigureAwait(false);
            }

            await Task.WhenAll(tasks).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping.
        }
        finally
        {
            lock (_connections)
            {
                _connections.Clear();
            }
        }
    }

    private async Task PollAsync(OpcUaConnection connection, PointState[] states, TimeSpan interval, string server, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(interval, _time);
        UaClientSession? resolvedFor = null;
        var nodes = new ReadValueId[states.Length];
        var down = false;
        do
        {
            UaClientSession session;
            try
            {
                session = await connection.GetSessionAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            try
            {
                if (!ReferenceEquals(session, resolvedFor))
                {
                    // Namespace indexes may differ on a new session (the server restarted): resolve again.
                    for (var i = 0; i < states.Length; i++)
                    {
                        nodes[i] = new ReadValueId { NodeId = session.Resolve(states[i].Point.Node), AttributeId = AttributeIds.Value, IndexRange = states[i].Point.IndexRange };
                    }

                    resolvedFor = session;
                }

                var values = await session.ReadAsync(nodes, TimestampsToReturn.Both, 0, cancellationToken).ConfigureAwait(false);
                Statistics.OnPoll(false);
                for (var i = 0; i < states.Length; i++)
                {
                    if (down)
                    {
                        states[i].OnGap();
                    }

                    states[i].OnValue(values[i]);
                }

                down = false;
            }
            catch (ServiceResultException ex)
            {
                Statistics.OnPoll(true);
                if (!down)
                {
                    Log.PollFailed(_logger, server, ex.Message);
                }

                down = true;
            }
        }
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false));
    }

    private sealed class Handler(PointState[] states, ILogger logger, string server) : ISubscriptionHandler
    {
        public void OnDataChange(int itemIndex, DataValue value) => states[itemIndex].OnValue(value);

        public void OnGap(string reason)
        {
            foreach (var state in states)
            {
                state.OnGap();
            }
        }

        public void OnItemError(int itemIndex, StatusCode status, string message) =>
            Log.ItemFailed(logger, server, states[itemIndex].Point.Channel.ToString(), message);
    }

    /// <summary>Turns values of one node into sample blocks for one channel writer.</summary>
    internal sealed class PointState
    {
        private readonly IChannelWriter _writer;
        private readonly OpcUaSourceStatistics _statistics;
        private readonly TimeProvider _time;
        private readonly double _rate;
        private float[] _buffer = [];
        private long _nextIndex;
        private long _lastTicks = long.MinValue;
        private int _lastLength;
        private bool _gapPending;
        private bool _started;

        public PointState(OpcUaChannelPoint point, IChannelWriter writer, ChannelDescriptor descriptor, OpcUaSourceStatistics statistics, TimeProvider time)
        {
            Point = point;
            _writer = writer;
            _statistics = statistics;
            _time = time;
            _rate = descriptor.SampleRateHz;
        }

        public OpcUaChannelPoint Point { get; }

        public void OnGap() => _gapPending = true;

        public void OnValue(DataValue value)
        {
            _statistics.OnNotification();
            var (ticks, clock) = Timestamp(value);
            var quality = value.StatusCode.IsGood ? SampleQuality.Good : value.StatusCode.IsUncertain ? SampleQuality.Uncertain : SampleQuality.Bad;
            ReadOnlySpan<float> samples;
            if (Point.Kind == ChannelKind.Scalar)
            {
                EnsureBuffer(1);
                var v = value.Value.ToDouble();
                _buffer[0] = (float)v;
                if (!double.IsFinite(v))
                {
                    quality = SampleQuality.Bad;
                }

                samples = _buffer.AsSpan(0, 1);
            }
            else
            {
                switch (value.Value.Value)
                {
                    case float[] f when value.Value.IsArray:
                        samples = f;
                        break;
                    case double[] d when value.Value.IsArray:
                        EnsureBuffer(d.Length);
                        for (var i = 0; i < d.Length; i++)
                        {
                            _buffer[i] = (float)d[i];
                        }

                        samples = _buffer.AsSpan(0, d.Length);
                        break;
                    default:
                        // Bad status without a value, or not a Float/Double array: nothing to write.
                        _statistics.OnBad();
                        _gapPending = true;
                        return;
                }

                if (samples.Length == 0)
                {
                    return;
                }
            }

            var index = NextIndex(ticks, samples.Length);
            if (value.StatusCode.Overflow)
            {
                _gapPending = true;
            }

            if (_gapPending)
            {
                _writer.MarkGap();
                _statistics.OnGap();
                _gapPending = false;
            }

            if (quality != SampleQuality.Good)
            {
                _statistics.OnBad();
            }

            if (_writer.TryWrite(new SampleBlock(samples, index, ticks, quality, clock)))
            {
                _statistics.OnSamples(samples.Length);
            }
            else
            {
                _statistics.OnDropped(samples.Length);
            }
        }

        /// <summary>
        /// The first sample index of a block: consecutive for scalars and snapshots (snapshots always
        /// after a gap); for contiguous waveforms, advanced by the blocks the timestamps say were missed.
        /// </summary>
        private long NextIndex(long ticks, int length)
        {
            var index = _nextIndex;
            if (!_started)
            {
                _started = true;
            }
            else if (Point.Kind == ChannelKind.Waveform && !Point.Contiguous)
            {
                _gapPending = true;
            }
            else if (Point.Kind == ChannelKind.Waveform && _lastTicks != long.MinValue)
            {
                var blockTicks = _lastLength / _rate * TimeSpan.TicksPerSecond;
                var blocks = (long)Math.Round((ticks - _lastTicks) / blockTicks);
                if (blocks > 1)
                {
                    _statistics.OnMissed(blocks - 1);
                    index += (blocks - 1) * _lastLength;
                    _gapPending = true;
                }
                else if (blocks < 1)
                {
                    // Time went back or stood still (server restart, clock step): keep indices rising, flag it.
                    _gapPending = true;
                }
            }

            _lastTicks = ticks;
            _lastLength = length;
            _nextIndex = index + length;
            return index;
        }

        private (long Ticks, ClockQuality Clock) Timestamp(DataValue value)
        {
            if (value.SourceTimestamp != DateTime.MinValue)
            {
                return (value.SourceTimestamp.Ticks, ClockQuality.Synchronized);
            }

            if (value.ServerTimestamp != DateTime.MinValue)
            {
                return (value.ServerTimestamp.Ticks, ClockQuality.Synchronized);
            }

            return (_time.GetUtcNow().UtcTicks, HostClock.ReceiptClockQuality(_time));
        }

        private void EnsureBuffer(int length)
        {
            if (_buffer.Length < length)
            {
                _buffer = new float[length];
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4040, Level = LogLevel.Warning, Message = "OPC UA server {Server}: units and sample rates could not be read at start-up: {Error}")]
        public static partial void DiscoveryFailed(ILogger logger, string server, string error);

        [LoggerMessage(EventId = 4041, Level = LogLevel.Warning, Message = "OPC UA server {Server}: channel {Channel}: {Error}")]
        public static partial void NodeDiscoveryFailed(ILogger logger, string server, string channel, string error);

        [LoggerMessage(EventId = 4042, Level = LogLevel.Warning, Message = "OPC UA channel {Channel}: no unit configured and none readable from EngineeringUnits; using {Unit}")]
        public static partial void UnitDefaulted(ILogger logger, string channel, string unit);

        [LoggerMessage(EventId = 4043, Level = LogLevel.Warning, Message = "OPC UA server {Server}: poll failed: {Error}")]
        public static partial void PollFailed(ILogger logger, string server, string error);

        [LoggerMessage(EventId = 4044, Level = LogLevel.Warning, Message = "OPC UA server {Server}: channel {Channel} cannot be monitored: {Error}")]
        public static partial void ItemFailed(ILogger logger, string server, string channel, string error);
    }
}
