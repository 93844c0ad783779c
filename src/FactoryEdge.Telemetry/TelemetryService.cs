using System.Globalization;
using FactoryEdge.Core;
using FactoryEdge.Telemetry.LineProtocol;
using FactoryEdge.Telemetry.Spool;
using FactoryEdge.Telemetry.Transport;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FactoryEdge.Telemetry;

/// <summary>
/// The telemetry engine: encodes windows, alerts and metrics as line protocol, batches them, and
/// forwards them to InfluxDB with the SQLite spool behind.
/// <list type="bullet">
/// <item><b>Write-behind</b> (default): records wait in memory at most <see cref="TelemetryOptions.FlushIntervalMs"/>
/// and go straight to the server. When it fails (or memory passes <see cref="TelemetryOptions.MemoryBufferLines"/>)
/// memory spills to the spool, which drains oldest first at a bounded rate while live data continues.</item>
/// <item><b>Durable</b>: every record is committed to the spool before it is acknowledged (or every
/// <see cref="SpoolOptions.CommitIntervalMs"/>); the server is fed from the spool only.</item>
/// <item><b>Embedded store</b> (no server): the spool keeps everything for the retention period.</item>
/// </list>
/// Alerts are always committed to the spool first and sent before telemetry. Spool rows are deleted
/// only after the server acknowledged them; a batch rejected as malformed is quarantined; 429/503
/// honour Retry-After; when the spool is full the oldest telemetry is evicted, alerts never are.
/// </summary>
public sealed partial class TelemetryService : IAsyncDisposable, IDisposable
{
    private const int RetentionCheckSeconds = 60;

    private readonly TelemetryOptions _options;
    private readonly IInfluxTransport? _transport;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Func<IReadOnlyList<string>> _featureNames;
    private readonly TimestampPrecision _precision;
    private readonly bool _durable;
    private readonly long _flushTicks;
    private readonly long _commitTicks;
    private readonly long _capBytes;
    private readonly Lock _gate = new();
    private readonly Queue<MemoryChunk> _memory = new();
    private readonly Stack<LineProtocolWriter> _freeWriters = new();
    private readonly LineProtocolWriter _scratch = new(16 * 1024);
    private readonly SemaphoreSlim _signal = new(0, int.MaxValue);
    private readonly string[] _featureFilter;
    private readonly CancellationTokenSource _stopping = new();
    private PointEncoder? _encoder;
    private LineProtocolWriter? _open;
    private long _openSince;
    private long _openFirst = long.MaxValue;
    private long _openLast = long.MinValue;
    private long _memoryLines;
    private SqliteSpool? _spool;
    private Task? _sender;
    private bool _started;
    private volatile bool _stopped;
    private volatile bool _spoolNeedsRecovery;
    private int _initialized;
    private int _disposed;

    // Sender state (sender thread only).
    private readonly LineProtocolWriter _batch;
    private readonly List<SpoolRow> _rows = [];
    private readonly List<MemoryChunk> _chunks = [];
    private long _retryAt;
    private int _failures;
    private long _outageStarted;
    private int _maxBatchLines;
    private double _drainTokens;
    private long _drainRefilled;
    private long _lastRetention;

    private long _windowsWritten, _windowsDecimated, _alertsWritten, _sent, _drained, _spooled, _evicted, _expired;
    private long _quarantined, _dropped, _failed, _requests, _spoolErrors;
    private string? _lastError;

    /// <param name="options">Validated options.</param>
    /// <param name="featureNames">The pipeline's feature names (asked for at the first window).</param>
    /// <param name="time">Clock (tests drive it).</param>
    /// <param name="loggerFactory">Logs.</param>
    public TelemetryService(TelemetryOptions options, Func<IReadOnlyList<string>> featureNames, TimeProvider? time = null, ILoggerFactory? loggerFactory = null)
        : this(options, featureNames, CreateTransport(options, time ?? TimeProvider.System), time, loggerFactory)
    {
    }

    internal TelemetryService(TelemetryOptions options, Func<IReadOnlyList<string>> featureNames, IInfluxTransport? transport, TimeProvider? time = null, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(featureNames);
        var validation = new TelemetryOptionsValidator().Validate(null, options);
        if (validation.Failed)
        {
            throw new ArgumentException(validation.FailureMessage, nameof(options));
        }

        _options = options;
        _transport = transport;
        _time = time ?? TimeProvider.System;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("FactoryEdge.Telemetry");
        _featureNames = featureNames;
        _precision = options.TimestampPrecision;
        _durable = options.IsDurable;
        _flushTicks = MillisecondsToTimestamp(options.FlushIntervalMs);
        _commitTicks = MillisecondsToTimestamp(options.Spool.CommitIntervalMs);
        _capBytes = (long)options.Spool.MaxMegabytes * 1024 * 1024;
        _featureFilter = [.. options.Features];
        _maxBatchLines = options.BatchSize;
        _batch = new LineProtocolWriter(1024 * 1024);
        SpoolPath = options.Spool.ResolvePath();
        Metrics = new TelemetryMetrics(this);
    }

    /// <summary>The spool file.</summary>
    public string SpoolPath { get; }

    /// <summary>True when a server is configured (otherwise the spool is the embedded store).</summary>
    public bool HasServer => _transport is not null;

    public string Destination => _transport?.Description ?? "embedded store " + SpoolPath;

    /// <summary>System.Diagnostics.Metrics instruments (meter <c>FactoryEdge.Telemetry</c>).</summary>
    public TelemetryMetrics Metrics { get; }

    /// <summary>Where a corrupt spool found at start was moved, if one was.</summary>
    public string? CorruptSpoolMovedTo { get; private set; }

    internal static IInfluxTransport? CreateTransport(TelemetryOptions options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!options.Enabled || !options.HasServer)
        {
            return null;
        }

        return options.Influx.IsV1
            ? new InfluxV1Transport(options.Influx, time)
            : new InfluxV2Transport(options.Influx);
    }

    /// <summary>Opens the spool (moving a corrupt one aside) and starts sending. Idempotent.</summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        Initialize();
        lock (_gate)
        {
            if (_started || _stopped)
            {
                return Task.CompletedTask;
            }

            _started = true;
        }

        _sender = Task.Run(() => RunSenderAsync(_stopping.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    /// <summary>Opens the spool without starting the sender (tests pump by hand).</summary>
    internal void Initialize()
    {
        if (Volatile.Read(ref _initialized) != 0 || Interlocked.Exchange(ref _initialized, 1) != 0)
        {
            return;
        }

        OpenSpool();
        var stats = _spool?.GetStatistics();
        LogStarted(_logger, _durable ? "Durable" : "WriteBehind", Destination, SpoolPath, stats?.Lines ?? 0, stats?.AlertLines ?? 0);
        if (_options.Influx.AllowInvalidCertificates && _transport is not null)
        {
            LogInsecure(_logger);
        }
    }

    /// <summary>
    /// Stops the sender: one last attempt to deliver what is in memory (bounded by
    /// <paramref name="cancellationToken"/>), then everything left goes to the spool. Records that
    /// arrive afterwards (the pipeline draining) go to the spool.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_stopped)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_sender is { } sender)
        {
            await sender.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        try
        {
            Seal(force: true);
            if (_transport is not null && _time.GetTimestamp() >= _retryAt && !cancellationToken.IsCancellationRequested)
            {
                using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                bounded.CancelAfter(TimeSpan.FromSeconds(5));
                while (Volatile.Read(ref _memoryLines) > 0 && !bounded.IsCancellationRequested && _time.GetTimestamp() >= _retryAt)
                {
                    if (!await SendMemoryAsync(bounded.Token).ConfigureAwait(false))
                    {
                        break;
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Whatever is left goes to the spool below.
        }

        _stopped = true;
        SpillMemory(all: true);
    }

    /// <summary>Writes a window (decimated; anomalous and unhealthy windows always).</summary>
    public void WriteWindow(WindowResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var decimation = _options.Decimation;
        if (decimation > 1 && result.WindowNumber % decimation != 0 && !result.Anomalous && result.Health == ChannelHealthFlags.None)
        {
            Interlocked.Increment(ref _windowsDecimated);
            return;
        }

        Initialize();
        lock (_gate)
        {
            if (Volatile.Read(ref _disposed) != 0)
            {
                Interlocked.Increment(ref _dropped);
                return;
            }

            var encoder = Encoder();
            if (PerRecordCommit)
            {
                _scratch.Clear();
                if (encoder.WriteWindow(_scratch, result))
                {
                    CommitScratch(RecordKind.Telemetry, encoder.LastTimestamp, encoder.LastTimestamp);
                    _windowsWritten++;
                }

                return;
            }

            var open = OpenWriter();
            if (encoder.WriteWindow(open, result))
            {
                Track(encoder.LastTimestamp);
                _windowsWritten++;
                if (open.Lines >= _options.BatchSize)
                {
                    SealLocked();
                }
            }
        }
    }

    /// <summary>
    /// Writes an alert event: committed to the spool before this returns (falls back to memory, first in
    /// line, when the spool is unavailable). Returns true when it is in the spool.
    /// </summary>
    public bool WriteAlert(Alert alert)
    {
        ArgumentNullException.ThrowIfNull(alert);
        Initialize();
        bool spooled;
        lock (_gate)
        {
            if (Volatile.Read(ref _disposed) != 0)
            {
                Interlocked.Increment(ref _dropped);
                return false;
            }

            var encoder = Encoder();
            _scratch.Clear();
            if (!encoder.WriteAlert(_scratch, alert))
            {
                return false;
            }

            _alertsWritten++;
            spooled = CommitScratch(RecordKind.Alert, encoder.LastTimestamp, encoder.LastTimestamp);
        }

        Signal();
        return spooled;
    }

    /// <summary>Writes lines produced by <paramref name="write"/> (health and gateway metrics) as telemetry.</summary>
    public void WriteLines(Action<PointEncoder, LineProtocolWriter> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        Initialize();
        lock (_gate)
        {
            if (Volatile.Read(ref _disposed) != 0)
            {
                return;
            }

            var encoder = Encoder();
            if (PerRecordCommit)
            {
                _scratch.Clear();
                write(encoder, _scratch);
                if (_scratch.Lines > 0)
                {
                    CommitScratch(RecordKind.Telemetry, encoder.LastTimestamp, encoder.LastTimestamp);
                }

                return;
            }

            var open = OpenWriter();
            var before = open.Lines;
            write(encoder, open);
            if (open.Lines > before)
            {
                Track(encoder.LastTimestamp);
            }
        }
    }

    /// <summary>Hands the open batch on (to the sender, or to the spool in durable mode and the embedded store).</summary>
    public void Flush()
    {
        Seal(force: true);
        Signal();
    }

    public TelemetryStatistics GetStatistics()
    {
        var spool = SafeSpoolStatistics();
        var now = _time.GetUtcNow().UtcTicks;
        return new TelemetryStatistics
        {
            Mode = _durable ? "Durable" : "WriteBehind",
            Destination = Destination,
            ServerAvailable = _transport is not null && Volatile.Read(ref _failures) == 0,
            WindowsWritten = Interlocked.Read(ref _windowsWritten),
            WindowsDecimated = Interlocked.Read(ref _windowsDecimated),
            AlertsWritten = Interlocked.Read(ref _alertsWritten),
            SentLines = Interlocked.Read(ref _sent),
            DrainedLines = Interlocked.Read(ref _drained),
            SpooledLines = Interlocked.Read(ref _spooled),
            EvictedLines = Interlocked.Read(ref _evicted),
            ExpiredLines = Interlocked.Read(ref _expired),
            QuarantinedLines = Interlocked.Read(ref _quarantined),
            DroppedLines = Interlocked.Read(ref _dropped),
            FailedRequests = Interlocked.Read(ref _failed),
            Requests = Interlocked.Read(ref _requests),
            MemoryLines = Volatile.Read(ref _memoryLines) + OpenLines(),
            SpoolErrors = Interlocked.Read(ref _spoolErrors),
            Spool = spool,
            SpoolOldestAgeSeconds = spool.OldestCreatedUtcTicks > 0 ? Math.Max(0, (now - spool.OldestCreatedUtcTicks) / (double)TimeSpan.TicksPerSecond) : 0,
            SpoolFileBytes = _spool?.FileBytes ?? 0,
            LastError = _lastError,
        };
    }

    /// <summary>Stops, commits what is left to the spool and closes it.</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        Seal(force: true);
        SpillMemory(all: true);
        lock (_gate)
        {
            _spool?.Dispose();
            _spool = null;
        }

        _transport?.Dispose();
        Metrics.Dispose();
        _scratch.Dispose();
        _batch.Dispose();
        _stopping.Dispose();
    }

    private bool PerRecordCommit => _durable && _commitTicks == 0;

    private PointEncoder Encoder() => _encoder ??= new PointEncoder(_featureNames(), _precision, _featureFilter);

    private LineProtocolWriter OpenWriter()
    {
        if (_open is null)
        {
            _open = _freeWriters.Count > 0 ? _freeWriters.Pop() : new LineProtocolWriter(64 * 1024);
            _open.Clear();
            _openSince = _time.GetTimestamp();
            _openFirst = long.MaxValue;
            _openLast = long.MinValue;
        }

        return _open;
    }

    private int OpenLines()
    {
        lock (_gate)
        {
            return _open?.Lines ?? 0;
        }
    }

    private void Track(long timestamp)
    {
        _openFirst = Math.Min(_openFirst, timestamp);
        _openLast = Math.Max(_openLast, timestamp);
    }

    /// <summary>Commits the scratch lines as one spool row (under <see cref="_gate"/>). False when it had to stay in memory.</summary>
    private bool CommitScratch(RecordKind kind, long first, long last)
    {
        if (_spool is { } spool && !_spoolNeedsRecovery)
        {
            try
            {
                spool.Append(kind, _scratch.WrittenSpan, _scratch.Lines, first, last, _precision);
                Interlocked.Add(ref _spooled, _scratch.Lines);
                EnforceCap();
                return true;
            }
            catch (Exception ex) when (ex is SqliteException or IOException or SpoolCorruptException)
            {
                SpoolFailed(ex);
            }
        }

        // No spool: keep it in memory, alerts first in line.
        var writer = RentWriter();
        writer.AppendLines(_scratch.WrittenSpan, _scratch.Lines);
        var chunk = new MemoryChunk(writer, kind, first, last);
        if (kind == RecordKind.Alert)
        {
            var rest = _memory.ToArray();
            _memory.Clear();
            _memory.Enqueue(chunk);
            foreach (var c in rest)
            {
                _memory.Enqueue(c);
            }
        }
        else
        {
            _memory.Enqueue(chunk);
        }

        Interlocked.Add(ref _memoryLines, chunk.Lines);
        if (_transport is null || _stopped)
        {
            // Nothing will ever send it: it stays in memory until the spool is back.
            TrimMemory();
        }

        return false;
    }

    private LineProtocolWriter RentWriter()
    {
        var writer = _freeWriters.Count > 0 ? _freeWriters.Pop() : new LineProtocolWriter(64 * 1024);
        writer.Clear();
        return writer;
    }

    private void Recycle(MemoryChunk chunk)
    {
        lock (_gate)
        {
            if (_freeWriters.Count < 8)
            {
                chunk.Writer.Clear();
                _freeWriters.Push(chunk.Writer);
            }
            else
            {
                chunk.Writer.Dispose();
            }
        }
    }

    /// <summary>Seals the open batch when it is due (or always with <paramref name="force"/>).</summary>
    private void Seal(bool force)
    {
        lock (_gate)
        {
            if (_open is null || _open.Lines == 0)
            {
                return;
            }

            var interval = _durable && _commitTicks > 0 ? _commitTicks : _flushTicks;
            if (force || _time.GetTimestamp() - _openSince >= interval)
            {
                SealLocked();
            }
        }
    }

    private void SealLocked()
    {
        var open = _open!;
        _open = null;
        if (open.Lines == 0)
        {
            _freeWriters.Push(open);
            return;
        }

        var chunk = new MemoryChunk(open, RecordKind.Telemetry, _openFirst, _openLast);
        var toSpool = _durable || _transport is null || _stopped;
        if (toSpool && _spool is { } spool && !_spoolNeedsRecovery)
        {
            try
            {
                spool.Append(chunk.Kind, open.WrittenSpan, open.Lines, chunk.First, chunk.Last, _precision);
                Interlocked.Add(ref _spooled, open.Lines);
                open.Clear();
                _freeWriters.Push(open);
                EnforceCap();
                return;
            }
            catch (Exception ex) when (ex is SqliteException or IOException or SpoolCorruptException)
            {
                SpoolFailed(ex);
            }
        }

        _memory.Enqueue(chunk);
        Interlocked.Add(ref _memoryLines, chunk.Lines);
        if (Volatile.Read(ref _memoryLines) > _options.MemoryBufferLines)
        {
            // The server is behind (or gone): the oldest spill to the spool.
            SpillLocked(all: false);
        }

        Signal();
    }

    /// <summary>Moves sealed memory batches to the spool (all, or the oldest beyond the memory cap).</summary>
    private void SpillMemory(bool all)
    {
        lock (_gate)
        {
            SpillLocked(all);
        }
    }

    private void SpillLocked(bool all)
    {
        while (_memory.Count > 0 && (all || Volatile.Read(ref _memoryLines) > _options.MemoryBufferLines))
        {
            var chunk = _memory.Peek();
            if (_spool is not { } spool || _spoolNeedsRecovery)
            {
                TrimMemory();
                return;
            }

            try
            {
                spool.Append(chunk.Kind, chunk.Writer.WrittenSpan, chunk.Lines, chunk.First, chunk.Last, _precision);
            }
            catch (Exception ex) when (ex is SqliteException or IOException or SpoolCorruptException)
            {
                SpoolFailed(ex);
                TrimMemory();
                return;
            }

            _memory.Dequeue();
            Interlocked.Add(ref _memoryLines, -chunk.Lines);
            Interlocked.Add(ref _spooled, chunk.Lines);
            chunk.Writer.Clear();
            if (_freeWriters.Count < 8)
            {
                _freeWriters.Push(chunk.Writer);
            }
            else
            {
                chunk.Writer.Dispose();
            }
        }

        EnforceCap();
    }

    /// <summary>Without a spool, memory is the only buffer: beyond twice its cap the oldest telemetry is dropped (counted).</summary>
    private void TrimMemory()
    {
        var limit = 2L * _options.MemoryBufferLines;
        if (Volatile.Read(ref _memoryLines) <= limit)
        {
            return;
        }

        var kept = new Queue<MemoryChunk>();
        long dropped = 0;
        while (_memory.Count > 0)
        {
            var chunk = _memory.Dequeue();
            if (chunk.Kind == RecordKind.Telemetry && Volatile.Read(ref _memoryLines) > limit)
            {
                Interlocked.Add(ref _memoryLines, -chunk.Lines);
                dropped += chunk.Lines;
                chunk.Writer.Dispose();
                continue;
            }

            kept.Enqueue(chunk);
        }

        while (kept.Count > 0)
        {
            _memory.Enqueue(kept.Dequeue());
        }

        if (dropped > 0)
        {
            Interlocked.Add(ref _dropped, dropped);
            LogDroppedNoSpool(_logger, dropped, Interlocked.Read(ref _dropped));
        }
    }

    private void EnforceCap()
    {
        if (_spool is not { } spool)
        {
            return;
        }

        var stats = spool.GetStatistics();
        if (stats.Bytes <= _capBytes)
        {
            return;
        }

        // Evict down to 90 % so that eviction runs in steps, not on every append.
        var (records, lines) = spool.EvictOldestTelemetry(_capBytes * 9 / 10);
        if (lines > 0)
        {
            var total = Interlocked.Add(ref _evicted, lines);
            LogEvicted(_logger, _options.Spool.MaxMegabytes, lines, records, total);
        }

        if (spool.GetStatistics().Bytes > _capBytes)
        {
            LogAlertsOverCap(_logger, _options.Spool.MaxMegabytes, stats.AlertLines);
        }
    }

    private void SpoolFailed(Exception ex)
    {
        Interlocked.Increment(ref _spoolErrors);
        _lastError = "spool: " + ex.Message;
        if (SqliteSpool.IsCorruption(ex, out _))
        {
            _spoolNeedsRecovery = true;
        }

        LogSpoolFailed(_logger, SpoolPath, ex);
    }

    private void OpenSpool()
    {
        try
        {
            var spool = SqliteSpool.Open(SpoolPath, _options.Spool, _time, _logger);
            CorruptSpoolMovedTo ??= spool.CorruptMovedTo;
            lock (_gate)
            {
                _spool = spool;
            }
        }
        catch (Exception ex) when (ex is SqliteException or IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            Interlocked.Increment(ref _spoolErrors);
            _lastError = "spool: " + ex.Message;
            LogSpoolUnavailable(_logger, SpoolPath, ex);
        }
    }

    /// <summary>A spool found corrupt while running is moved aside and replaced (sender thread).</summary>
    private void RecoverSpool()
    {
        lock (_gate)
        {
            _spool?.Dispose();
            _spool = null;
            try
            {
                var aside = SqliteSpool.MoveAside(SpoolPath, _time);
                LogSpoolRecovered(_logger, SpoolPath, aside);
            }
            catch (IOException ex)
            {
                LogSpoolUnavailable(_logger, SpoolPath, ex);
            }

            _spoolNeedsRecovery = false;
        }

        OpenSpool();
    }

    private SpoolStatistics SafeSpoolStatistics()
    {
        try
        {
            return _spool?.GetStatistics() ?? new SpoolStatistics(0, 0, 0, 0, 0, 0, 0);
        }
        catch (Exception ex) when (ex is SqliteException or ObjectDisposedException)
        {
            return new SpoolStatistics(0, 0, 0, 0, 0, 0, 0);
        }
    }

    private void Signal()
    {
        if (_signal.CurrentCount == 0)
        {
            _signal.Release();
        }
    }

    private async Task RunSenderAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            TimeSpan wait;
            try
            {
                wait = await PumpAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogSenderFailed(_logger, ex);
                wait = TimeSpan.FromSeconds(1);
            }

            if (wait > TimeSpan.Zero)
            {
                try
                {
                    await _signal.WaitAsync(wait, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>
    /// One round of the sender: seal a due batch, housekeeping, then alerts, live data and backlog.
    /// Returns how long to wait before the next round (zero: more work is ready).
    /// </summary>
    internal async Task<TimeSpan> PumpAsync(CancellationToken cancellationToken)
    {
        Initialize();
        if (_spoolNeedsRecovery)
        {
            RecoverSpool();
        }

        Seal(force: false);
        Housekeeping();
        var idle = NextSealDue();
        if (_transport is null)
        {
            SpillMemory(all: true);
            return idle;
        }

        var now = _time.GetTimestamp();
        if (now < _retryAt)
        {
            // The server is failing: nothing waits in memory meanwhile (a crash would lose it).
            SpillMemory(all: true);
            return Min(_time.GetElapsedTime(now, _retryAt), idle);
        }

        if (await SendSpoolAsync(RecordKind.Alert, int.MaxValue, cancellationToken).ConfigureAwait(false))
        {
            return TimeSpan.Zero;
        }

        if (_time.GetTimestamp() < _retryAt)
        {
            return TimeSpan.Zero;
        }

        var sentLive = await SendMemoryAsync(cancellationToken).ConfigureAwait(false);
        if (_time.GetTimestamp() < _retryAt)
        {
            return TimeSpan.Zero;
        }

        var budget = DrainBudget(out var drainWait);
        var drained = budget > 0 && await SendSpoolAsync(RecordKind.Telemetry, budget, cancellationToken).ConfigureAwait(false);
        if (sentLive || drained)
        {
            return TimeSpan.Zero;
        }

        var spoolStats = SafeSpoolStatistics();
        var waiting = spoolStats.Lines - spoolStats.AlertLines;
        return waiting > 0 && budget <= 0 ? Min(drainWait, idle) : idle;
    }

    private TimeSpan NextSealDue()
    {
        lock (_gate)
        {
            if (_open is null || _open.Lines == 0)
            {
                return TimeSpan.FromMilliseconds(Math.Max(10, _options.FlushIntervalMs));
            }

            var interval = _durable && _commitTicks > 0 ? _commitTicks : _flushTicks;
            var due = _openSince + interval - _time.GetTimestamp();
            return due <= 0 ? TimeSpan.FromMilliseconds(1) : TimestampToTimeSpan(due);
        }
    }

    /// <summary>Lines the backlog may drain now (token bucket; durable mode drains unbounded: the spool is its only path).</summary>
    private int DrainBudget(out TimeSpan wait)
    {
        wait = TimeSpan.Zero;
        var rate = _options.Spool.DrainLinesPerSecond;
        if (_durable || rate <= 0)
        {
            return _maxBatchLines;
        }

        var now = _time.GetTimestamp();
        if (_drainRefilled == 0)
        {
            _drainRefilled = now;
            _drainTokens = Math.Min(rate, _maxBatchLines);
        }

        _drainTokens = Math.Min(Math.Max(rate, _maxBatchLines), _drainTokens + (_time.GetElapsedTime(_drainRefilled, now).TotalSeconds * rate));
        _drainRefilled = now;
        var needed = Math.Min(_maxBatchLines, rate);
        if (_drainTokens >= needed)
        {
            return (int)Math.Min(_maxBatchLines, _drainTokens);
        }

        wait = TimeSpan.FromSeconds((needed - _drainTokens) / rate);
        return 0;
    }

    private void Housekeeping()
    {
        if (_spool is null)
        {
            OpenSpoolLater();
            return;
        }

        lock (_gate)
        {
            EnforceCap();
        }

        if (_transport is null && _options.Spool.RetentionHours > 0)
        {
            var now = _time.GetTimestamp();
            if (_lastRetention == 0 || _time.GetElapsedTime(_lastRetention, now) >= TimeSpan.FromSeconds(RetentionCheckSeconds))
            {
                _lastRetention = now;
                var cutoff = _time.GetUtcNow().UtcTicks - (long)(_options.Spool.RetentionHours * TimeSpan.TicksPerHour);
                try
                {
                    var (_, lines) = _spool.DeleteOlderThan(cutoff);
                    if (lines > 0)
                    {
                        Interlocked.Add(ref _expired, lines);
                        LogExpired(_logger, lines, _options.Spool.RetentionHours);
                    }
                }
                catch (Exception ex) when (ex is SqliteException or ObjectDisposedException)
                {
                    SpoolFailed(ex);
                }
            }
        }
    }

    private long _lastReopenAttempt;

    private void OpenSpoolLater()
    {
        // A spool that could not be opened (disk full, permissions) is retried every 30 s.
        var now = _time.GetTimestamp();
        if (_lastReopenAttempt != 0 && _time.GetElapsedTime(_lastReopenAttempt, now) < TimeSpan.FromSeconds(30))
        {
            return;
        }

        _lastReopenAttempt = now;
        OpenSpool();
        if (_spool is not null)
        {
            SpillMemory(all: _transport is null);
        }
    }

    /// <summary>Sends the oldest spooled rows of a kind. True when a batch was acknowledged (or quarantined).</summary>
    private async Task<bool> SendSpoolAsync(RecordKind kind, int maxLines, CancellationToken cancellationToken)
    {
        var spool = _spool;
        if (spool is null || _spoolNeedsRecovery)
        {
            return false;
        }

        _batch.Clear();
        _rows.Clear();
        TimestampPrecision precision;
        try
        {
            precision = spool.ReadOldest(kind, 0, Math.Min(maxLines, _maxBatchLines), _batch, _rows);
        }
        catch (Exception ex) when (ex is SqliteException or SpoolCorruptException or ObjectDisposedException)
        {
            SpoolFailed(ex is SpoolCorruptException ? ex : ex);
            if (ex is SpoolCorruptException)
            {
                _spoolNeedsRecovery = true;
            }

            return false;
        }

        if (_rows.Count == 0)
        {
            return false;
        }

        var lines = _batch.Lines;
        var result = await SendSplittingAsync(_batch.WrittenMemory, lines, precision, cancellationToken).ConfigureAwait(false);
        switch (result.Status)
        {
            case WriteStatus.Ok:
                try
                {
                    spool.Delete(_rows);
                }
                catch (Exception ex) when (ex is SqliteException or ObjectDisposedException)
                {
                    // Acknowledged but still in the spool: it is sent again later, which overwrites the same points.
                    SpoolFailed(ex);
                }

                Interlocked.Add(ref _sent, lines);
                Interlocked.Add(ref _drained, lines);
                if (kind == RecordKind.Telemetry)
                {
                    ConsumeDrainTokens(lines);
                }

                return true;
            case WriteStatus.Rejected:
            case WriteStatus.TooLarge:
                spool.Quarantine(_rows, QuarantineReason(result));
                Interlocked.Add(ref _quarantined, lines);
                LogQuarantined(_logger, lines, _rows.Count, result.HttpStatus, result.Message ?? "");
                return true;
            default:
                Failed(result);
                return false;
        }
    }

    private void ConsumeDrainTokens(int lines)
    {
        if (!_durable && _options.Spool.DrainLinesPerSecond > 0)
        {
            _drainTokens -= lines;
        }
    }

    /// <summary>Sends the oldest memory batches. True when a batch was acknowledged (or quarantined).</summary>
    private async Task<bool> SendMemoryAsync(CancellationToken cancellationToken)
    {
        _batch.Clear();
        _chunks.Clear();
        lock (_gate)
        {
            while (_memory.Count > 0 && (_chunks.Count == 0 || _batch.Lines + _memory.Peek().Lines <= _maxBatchLines))
            {
                var chunk = _memory.Dequeue();
                _chunks.Add(chunk);
                _batch.AppendLines(chunk.Writer.WrittenSpan, chunk.Lines);
            }
        }

        if (_chunks.Count == 0)
        {
            return false;
        }

        var lines = _batch.Lines;
        var result = await SendSplittingAsync(_batch.WrittenMemory, lines, _precision, cancellationToken).ConfigureAwait(false);
        switch (result.Status)
        {
            case WriteStatus.Ok:
                Interlocked.Add(ref _memoryLines, -lines);
                Interlocked.Add(ref _sent, lines);
                foreach (var chunk in _chunks)
                {
                    Recycle(chunk);
                }

                return true;
            case WriteStatus.Rejected:
            case WriteStatus.TooLarge:
                Interlocked.Add(ref _memoryLines, -lines);
                Interlocked.Add(ref _quarantined, lines);
                try
                {
                    _spool?.QuarantineLines(RecordKind.Telemetry, _batch.WrittenSpan, lines, _precision, QuarantineReason(result));
                }
                catch (Exception ex) when (ex is SqliteException or ObjectDisposedException)
                {
                    SpoolFailed(ex);
                }

                LogQuarantined(_logger, lines, _chunks.Count, result.HttpStatus, result.Message ?? "");
                foreach (var chunk in _chunks)
                {
                    Recycle(chunk);
                }

                return true;
            default:
                // Put them back in front, in order, then spill everything (the server is failing).
                lock (_gate)
                {
                    var rest = _memory.ToArray();
                    _memory.Clear();
                    foreach (var chunk in _chunks)
                    {
                        _memory.Enqueue(chunk);
                    }

                    foreach (var chunk in rest)
                    {
                        _memory.Enqueue(chunk);
                    }
                }

                Failed(result);
                SpillMemory(all: true);
                return false;
        }
    }

    /// <summary>
    /// Sends a batch; when the server says it is too large (413) the batch is sent in halves (and
    /// later batches are smaller). A half that succeeded before the other failed is sent again with
    /// the whole batch later, which overwrites the same points: harmless.
    /// </summary>
    private async Task<WriteResult> SendSplittingAsync(ReadOnlyMemory<byte> lines, int lineCount, TimestampPrecision precision, CancellationToken cancellationToken)
    {
        var result = await SendAsync(lines, precision, cancellationToken).ConfigureAwait(false);
        if (result.Status != WriteStatus.TooLarge || lineCount < 2)
        {
            return result;
        }

        var half = lineCount / 2;
        if (half < _maxBatchLines)
        {
            _maxBatchLines = Math.Max(1, half);
            LogTooLarge(_logger, lineCount, _maxBatchLines);
        }

        var span = lines.Span;
        var cut = 0;
        for (var n = 0; n < half; n++)
        {
            cut += span[cut..].IndexOf((byte)'\n') + 1;
        }

        var first = await SendSplittingAsync(lines[..cut], half, precision, cancellationToken).ConfigureAwait(false);
        return first.Status != WriteStatus.Ok
            ? first
            : await SendSplittingAsync(lines[cut..], lineCount - half, precision, cancellationToken).ConfigureAwait(false);
    }

    private async Task<WriteResult> SendAsync(ReadOnlyMemory<byte> lines, TimestampPrecision precision, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _requests);
        WriteResult result;
        try
        {
            result = await _transport!.WriteAsync(lines, precision, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex)
        {
            // A transport must not throw for server errors; if it does, treat it as unavailable.
            result = new WriteResult(WriteStatus.Unavailable, 0, null, ex.Message);
        }

        if (result.Status == WriteStatus.Ok && _failures > 0)
        {
            var outage = _time.GetElapsedTime(_outageStarted);
            var waiting = SafeSpoolStatistics().Lines;
            LogRecovered(_logger, Destination, outage.TotalSeconds, waiting);
            _failures = 0;
            _lastError = null;
        }

        return result;
    }

    private void Failed(WriteResult result)
    {
        Interlocked.Increment(ref _failed);
        _failures++;
        if (_failures == 1)
        {
            _outageStarted = _time.GetTimestamp();
        }

        var maxDelay = TimeSpan.FromMilliseconds(_options.Influx.MaxRetryDelayMs);
        TimeSpan delay;
        if (result.Status == WriteStatus.Unauthorized)
        {
            delay = maxDelay;
        }
        else
        {
            // 1 s, 2 s, 4 s ... with ±20 % jitter so that many gateways do not retry in step.
            var backoff = TimeSpan.FromSeconds(Math.Pow(2, Math.Min(_failures - 1, 16)));
            backoff = backoff > maxDelay ? maxDelay : backoff;
            delay = backoff * (0.8 + (0.4 * Random.Shared.NextDouble()));
        }

        if (result.RetryAfter is { } retryAfter && retryAfter > delay)
        {
            delay = retryAfter;
        }

        _retryAt = _time.GetTimestamp() + (long)(delay.TotalSeconds * _time.TimestampFrequency);
        _lastError = string.Create(CultureInfo.InvariantCulture, $"{result.Status} {(result.HttpStatus > 0 ? result.HttpStatus.ToString(CultureInfo.InvariantCulture) : "")} {result.Message}").Trim();
        if (_failures == 1)
        {
            LogServerFailing(_logger, Destination, result.Status, result.HttpStatus, result.Message ?? "", delay.TotalSeconds);
        }
        else
        {
            LogStillFailing(_logger, _failures, result.Status, result.Message ?? "", delay.TotalSeconds);
        }
    }

    private static string QuarantineReason(WriteResult result) =>
        string.Create(CultureInfo.InvariantCulture, $"HTTP {result.HttpStatus}: {result.Message}");

    private long MillisecondsToTimestamp(int milliseconds) => (long)(milliseconds / 1000.0 * _time.TimestampFrequency);

    private TimeSpan TimestampToTimeSpan(long timestampTicks) => TimeSpan.FromSeconds(timestampTicks / (double)_time.TimestampFrequency);

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    /// <summary>A sealed batch waiting in memory.</summary>
    private sealed class MemoryChunk(LineProtocolWriter writer, RecordKind kind, long first, long last)
    {
        public LineProtocolWriter Writer { get; } = writer;

        public RecordKind Kind { get; } = kind;

        public long First { get; } = first;

        public long Last { get; } = last;

        public int Lines => Writer.Lines;
    }

    [LoggerMessage(EventId = 8010, Level = LogLevel.Information, Message = "Telemetry ({Mode}) to {Destination}; spool {Spool} holds {Lines} points ({Alerts} alerts) from before, sent first")]
    private static partial void LogStarted(ILogger logger, string mode, string destination, string spool, long lines, long alerts);

    [LoggerMessage(EventId = 8011, Level = LogLevel.Warning, Message = "Telemetry: AllowInvalidCertificates is on: the server's certificate is not checked. Use it for commissioning only")]
    private static partial void LogInsecure(ILogger logger);

    [LoggerMessage(EventId = 8012, Level = LogLevel.Warning, Message = "Telemetry: {Destination} is failing ({Status} {HttpStatus}: {Reason}); data goes to the spool, retry in {DelaySeconds:0.0} s")]
    private static partial void LogServerFailing(ILogger logger, string destination, WriteStatus status, int httpStatus, string reason, double delaySeconds);

    [LoggerMessage(EventId = 8013, Level = LogLevel.Debug, Message = "Telemetry: attempt {Attempt} failed ({Status}: {Reason}); retry in {DelaySeconds:0.0} s")]
    private static partial void LogStillFailing(ILogger logger, int attempt, WriteStatus status, string reason, double delaySeconds);

    [LoggerMessage(EventId = 8014, Level = LogLevel.Information, Message = "Telemetry: {Destination} is back after {OutageSeconds:0} s; draining {Waiting} spooled points")]
    private static partial void LogRecovered(ILogger logger, string destination, double outageSeconds, long waiting);

    [LoggerMessage(EventId = 8015, Level = LogLevel.Error, Message = "Telemetry: the server rejected {Lines} points ({Rows} batches) as malformed (HTTP {HttpStatus}: {Reason}); they are quarantined in the spool and the queue goes on")]
    private static partial void LogQuarantined(ILogger logger, int lines, int rows, int httpStatus, string reason);

    [LoggerMessage(EventId = 8016, Level = LogLevel.Warning, Message = "Telemetry: a batch of {Lines} points is too large for the server; batches are now at most {MaxLines} points")]
    private static partial void LogTooLarge(ILogger logger, int lines, int maxLines);

    [LoggerMessage(EventId = 8017, Level = LogLevel.Warning, Message = "Telemetry spool reached its cap of {CapMegabytes} MB: evicted the oldest {Lines} telemetry points ({Records} rows; {Total} in all). Alerts are never evicted")]
    private static partial void LogEvicted(ILogger logger, int capMegabytes, long lines, long records, long total);

    [LoggerMessage(EventId = 8018, Level = LogLevel.Error, Message = "Telemetry spool is over its cap of {CapMegabytes} MB with alerts alone ({AlertLines} alert points); they are kept")]
    private static partial void LogAlertsOverCap(ILogger logger, int capMegabytes, long alertLines);

    [LoggerMessage(EventId = 8019, Level = LogLevel.Error, Message = "Telemetry spool {Path} failed; records stay in memory meanwhile")]
    private static partial void LogSpoolFailed(ILogger logger, string path, Exception exception);

    [LoggerMessage(EventId = 8020, Level = LogLevel.Critical, Message = "Telemetry spool {Path} cannot be opened; running on memory alone (retried every 30 s)")]
    private static partial void LogSpoolUnavailable(ILogger logger, string path, Exception exception);

    [LoggerMessage(EventId = 8021, Level = LogLevel.Error, Message = "Telemetry spool {Path} became corrupt while running; moved to {Aside}, a new spool was created")]
    private static partial void LogSpoolRecovered(ILogger logger, string path, string aside);

    [LoggerMessage(EventId = 8022, Level = LogLevel.Error, Message = "Telemetry: no spool and memory full: dropped the oldest {Lines} telemetry points ({Total} in all)")]
    private static partial void LogDroppedNoSpool(ILogger logger, long lines, long total);

    [LoggerMessage(EventId = 8023, Level = LogLevel.Information, Message = "Telemetry store: {Lines} points older than {RetentionHours} h deleted (retention)")]
    private static partial void LogExpired(ILogger logger, long lines, double retentionHours);

    [LoggerMessage(EventId = 8024, Level = LogLevel.Error, Message = "Telemetry sender round failed; retrying in 1 s")]
    private static partial void LogSenderFailed(ILogger logger, Exception exception);
}
