using System.Buffers;
using System.Threading.Channels;
using FactoryEdge.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FactoryEdge.Uplink;

/// <summary>
/// The uplink: capture engine (fed by <see cref="UplinkTrainingSink"/> and <see cref="UplinkAlertTrigger"/>)
/// → writer (serialise, compress, hash, encrypt, write durably) → uploader (oldest first, within the
/// upload windows, bandwidth cap, exponential backoff with jitter; a batch is deleted only after the
/// receiver acknowledged it). Restart-safe: whatever is in <c>pending/</c> is sent after a restart,
/// and a resend of a batch whose acknowledgement was lost is recognised by its idempotency key.
/// </summary>
public sealed partial class UplinkService : IAsyncDisposable
{
    private readonly UplinkOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _gatewayId;
    private readonly BatchSpool _spool;
    private readonly BatchEncryption? _encryption;
    private readonly IBatchTarget _target;
    private readonly UploadSchedule _schedule;
    private readonly TokenBucket? _throttle;
    private readonly Channel<SealedBatch> _sealed;
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _wakeUploader = new(0, int.MaxValue);
    private readonly string _budgetPath;
    private readonly System.IO.Compression.CompressionLevel _level;
    private Task? _writer;
    private Task? _uploader;
    private Task? _flusher;
    private int _started;
    private int _stopped;

    public UplinkService(
        UplinkOptions options,
        string gatewayId,
        Func<string>? modelId = null,
        Func<IReadOnlyList<string>>? featureNames = null,
        Func<int, ChannelDescriptor?>? describe = null,
        IBatchTarget? target = null,
        TimeProvider? time = null,
        ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _gatewayId = gatewayId;
        _time = time ?? TimeProvider.System;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("FactoryEdge.Uplink");
        _spool = new BatchSpool(string.IsNullOrWhiteSpace(options.Spool.Path) ? BatchSpool.DefaultPath() : options.Spool.Path);
        _encryption = options.Encryption.Enabled ? BatchEncryption.Load(options.Encryption) : null;
        _target = target ?? (options.Upload.Target == UplinkTargetKind.S3 ? new S3BatchTarget(options.Upload) : new HttpBatchTarget(options.Upload));
        _schedule = new UploadSchedule(options.Upload.Windows, _time);
        _throttle = options.Upload.MaxBytesPerSecond > 0 ? new TokenBucket(options.Upload.MaxBytesPerSecond, _time) : null;
        BatchWriter.TryParseLevel(options.Batch.Compression, out _level);
        _sealed = Channel.CreateBounded<SealedBatch>(new BoundedChannelOptions(2) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
        _budgetPath = Path.Combine(_spool.Root, "budget.json");
        Engine = new CaptureEngine(
            options, _time, gatewayId,
            modelId ?? (() => ""),
            featureNames ?? (() => []),
            describe ?? (_ => null),
            Handoff,
            BudgetState.TryLoad(_budgetPath));
    }

    public UplinkCounters Counters => Engine.Counters;

    public BatchSpool Spool => _spool;

    public string TargetName => _target.Name;

    internal CaptureEngine Engine { get; }

    /// <summary>Starts the writer, the age flusher and the uploader.</summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _started, 1) == 1)
        {
            return Task.CompletedTask;
        }

        LogStarted(_logger, _target.Name, _spool.Root, _encryption is null ? "off (development)" : "AES-256-GCM, key id " + _encryption.KeyId + " from " + _encryption.Source, _spool.ListPending().Count);
        if (Uri.TryCreate(_options.Upload.Url, UriKind.Absolute, out var url) && url.Scheme == Uri.UriSchemeHttp && !url.IsLoopback)
        {
            LogPlainHttp(_logger, _options.Upload.Url);
        }

        _writer = Task.Run(() => RunWriterAsync(CancellationToken.None), CancellationToken.None);
        _flusher = Task.Run(() => RunFlusherAsync(_stop.Token), CancellationToken.None);
        _uploader = Task.Run(() => RunUploaderAsync(_stop.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    /// <summary>Seals the open batch, writes what is sealed, stops uploading (an upload in flight is abandoned and resent after restart).</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1 || _started == 0)
        {
            return;
        }

        Engine.Flush(force: true);
        _sealed.Writer.TryComplete();
        await _stop.CancelAsync().ConfigureAwait(false);
        foreach (var task in new[] { _writer, _flusher, _uploader })
        {
            if (task is not null)
            {
                try
                {
                    await task.WaitAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                }
            }
        }
    }

    /// <summary>Stops without sealing or writing the open batch: what a crash or power cut leaves (tests).</summary>
    internal async Task CrashAsync()
    {
        Interlocked.Exchange(ref _stopped, 1);
        await _stop.CancelAsync().ConfigureAwait(false);
        _sealed.Writer.TryComplete();
        foreach (var task in new[] { _writer, _flusher, _uploader })
        {
            if (task is not null)
            {
                try
                {
                    await task.ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        _target.Dispose();
        _stop.Dispose();
        _wakeUploader.Dispose();
    }

    /// <summary>Wakes the uploader (a batch was written, or a test wants it to look again).</summary>
    public void Nudge() => _wakeUploader.Release();

    private void Handoff(SealedBatch batch)
    {
        // Waits (on the sink thread) while two sealed batches are being written: the pipeline's sink
        // queue in front of this sink takes up the slack and counts what it drops.
        if (!_sealed.Writer.TryWrite(batch))
        {
            try
            {
                _sealed.Writer.WriteAsync(batch, _stop.Token).AsTask().GetAwaiter().GetResult();
            }
            catch (Exception ex) when (ex is OperationCanceledException or ChannelClosedException)
            {
                ArrayPool<byte>.Shared.Return(batch.Payload);
            }
        }
    }

    private async Task RunFlusherAsync(CancellationToken cancellationToken)
    {
        var period = TimeSpan.FromSeconds(Math.Clamp(_options.Batch.MaxAgeSeconds / 4, 0.01, 1));
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(period, _time, cancellationToken).ConfigureAwait(false);
                Engine.Flush(force: false);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task RunWriterAsync(CancellationToken cancellationToken)
    {
        await foreach (var batch in _sealed.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            try
            {
                WriteBatch(batch);
            }
            catch (Exception ex)
            {
                // Whatever failed (disk, permissions), the writer lives on: a dead writer would stall the sink.
                LogWriteFailed(_logger, batch.Manifest.Windows.Count, ex);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(batch.Payload);
            }
        }
    }

    private void WriteBatch(SealedBatch batch)
    {
        var (file, hash) = BatchWriter.Write(batch.Manifest, batch.Payload.AsSpan(0, batch.Length), _level, _options.Batch.Encoding);
        var stored = _encryption is null ? file : _encryption.Encrypt(file, hash);
        var cap = _options.Spool.MaxMegabytes * 1024 * 1024;
        if (_spool.PendingBytes() + stored.Length > cap)
        {
            Interlocked.Add(ref Engine.Counters.SpoolFullDroppedField, batch.Manifest.Windows.Count);
            LogSpoolFull(_logger, batch.Manifest.Windows.Count, _options.Spool.MaxMegabytes);
            return;
        }

        var hex = Convert.ToHexStringLower(hash);
        _spool.Write(stored, hex, batch.HasAlerts, _encryption is not null, _time.GetUtcNow().UtcTicks);
        batch.Budget.Save(_budgetPath);
        Interlocked.Increment(ref Engine.Counters.BatchesWrittenField);
        Interlocked.Add(ref Engine.Counters.RawBytesWrittenField, batch.Length);
        Interlocked.Add(ref Engine.Counters.FileBytesWrittenField, file.Length);
        LogBatchWritten(_logger, hex, batch.Manifest.Windows.Count, batch.Length, file.Length);
        _wakeUploader.Release();
    }

    private async Task RunUploaderAsync(CancellationToken cancellationToken)
    {
        var attempt = 0;
        var poll = TimeSpan.FromSeconds(_options.Upload.PollSeconds);
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var open = _schedule.IsOpen();
                var next = _spool.ListPending().FirstOrDefault(b => open || (b.HasAlerts && _options.Upload.AlertBatchesAnytime));
                if (next is null)
                {
                    await _wakeUploader.WaitAsync(poll, cancellationToken).ConfigureAwait(false);
                    continue;
                }

                UploadResult? result;
                try
                {
                    result = await UploadOneAsync(next, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // Unreadable file, a full disk while quarantining…: the uploader must live on.
                    LogUploaderError(_logger, Path.GetFileName(next.Path), ex);
                    result = new UploadResult(UploadOutcome.Retry, ex.Message);
                }

                if (result is null or { Outcome: not UploadOutcome.Retry })
                {
                    attempt = 0;
                    continue;
                }

                Interlocked.Increment(ref Engine.Counters.FailedAttemptsField);
                var delay = Backoff(attempt++, result.Value.RetryAfter);
                LogRetry(_logger, Path.GetFileName(next.Path), result.Value.Detail, attempt, delay.TotalSeconds);
                await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Exponential backoff with equal jitter: a random delay in [d/2, d], d = initial × 2^attempt capped; Retry-After when larger.</summary>
    internal TimeSpan Backoff(int attempt, TimeSpan? retryAfter)
    {
        var initial = _options.Upload.InitialRetryDelaySeconds;
        var max = _options.Upload.MaxRetryDelaySeconds;
        var d = Math.Min(max, initial * Math.Pow(2, Math.Min(attempt, 30)));
        var jittered = (d / 2) + (Random.Shared.NextDouble() * d / 2);
        if (retryAfter is { } ra && ra.TotalSeconds > jittered)
        {
            jittered = Math.Min(ra.TotalSeconds, max);
        }

        return TimeSpan.FromSeconds(jittered);
    }

    /// <summary>Verifies, sends and settles one batch; null when it was quarantined or skipped locally.</summary>
    private async Task<UploadResult?> UploadOneAsync(PendingBatch batch, CancellationToken cancellationToken)
    {
        byte[] plain;
        BatchManifest manifest;
        try
        {
            var stored = await File.ReadAllBytesAsync(batch.Path, cancellationToken).ConfigureAwait(false);
            plain = batch.Path.EndsWith(BatchEncryption.FileExtension, StringComparison.Ordinal)
                ? (_encryption ?? throw new WrongKeyException("the batch is encrypted and encryption is off (no key configured)")).Decrypt(stored)
                : stored;
            var hash = BatchFormat.Sha256Hex(plain);
            if (hash != batch.ContentHash)
            {
                throw new InvalidDataException($"content SHA-256 {hash} differs from the name's {batch.ContentHash}");
            }

            manifest = BatchFormat.Read(plain).Manifest;
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (WrongKeyException ex)
        {
            // Not the file's fault: keep it for the right key, but do not spin on it.
            LogWrongKey(_logger, Path.GetFileName(batch.Path), ex.Message);
            return new UploadResult(UploadOutcome.Retry, ex.Message, TimeSpan.FromSeconds(_options.Upload.MaxRetryDelaySeconds));
        }
        catch (InvalidDataException ex)
        {
            var where = _spool.Quarantine(batch, "corrupt batch: " + ex.Message);
            Interlocked.Increment(ref Engine.Counters.QuarantinedField);
            LogQuarantined(_logger, Path.GetFileName(batch.Path), "corrupt batch: " + ex.Message, where);
            return null;
        }

        var result = await _target.UploadAsync(new UploadItem(plain, batch.ContentHash, manifest.GatewayId, manifest.StartUtc), _throttle, cancellationToken).ConfigureAwait(false);
        switch (result.Outcome)
        {
            case UploadOutcome.Stored or UploadOutcome.Duplicate:
                BatchSpool.Delete(batch);
                Interlocked.Increment(ref Engine.Counters.BatchesUploadedField);
                Interlocked.Add(ref Engine.Counters.BytesUploadedField, plain.Length);
                if (result.Outcome == UploadOutcome.Duplicate)
                {
                    Interlocked.Increment(ref Engine.Counters.DuplicatesField);
                }

                LogUploaded(_logger, batch.ContentHash, plain.Length, result.Detail);
                return result;
            case UploadOutcome.Rejected:
                var where = _spool.Quarantine(batch, "rejected by the receiver: " + result.Detail);
                Interlocked.Increment(ref Engine.Counters.QuarantinedField);
                LogQuarantined(_logger, Path.GetFileName(batch.Path), "rejected by the receiver: " + result.Detail, where);
                return null;
            default:
                return result;
        }
    }

    [LoggerMessage(EventId = 9001, Level = LogLevel.Information, Message = "Uplink started: target {Target}, spool {Spool}, encryption {Encryption}, {Pending} batch(es) pending")]
    private static partial void LogStarted(ILogger logger, string target, string spool, string encryption, int pending);

    [LoggerMessage(EventId = 9002, Level = LogLevel.Debug, Message = "Uplink batch {Hash} written: {Windows} windows, {RawBytes} B raw, {FileBytes} B compressed")]
    private static partial void LogBatchWritten(ILogger logger, string hash, int windows, int rawBytes, int fileBytes);

    [LoggerMessage(EventId = 9003, Level = LogLevel.Debug, Message = "Uplink batch {Hash} acknowledged ({Bytes} B): {Detail}")]
    private static partial void LogUploaded(ILogger logger, string hash, int bytes, string detail);

    [LoggerMessage(EventId = 9004, Level = LogLevel.Warning, Message = "Uplink upload of {File} failed ({Detail}); attempt {Attempt}, retrying in {DelaySeconds:0.###} s")]
    private static partial void LogRetry(ILogger logger, string file, string detail, int attempt, double delaySeconds);

    [LoggerMessage(EventId = 9005, Level = LogLevel.Error, Message = "Uplink batch {File} quarantined: {Reason} (moved to {Where})")]
    private static partial void LogQuarantined(ILogger logger, string file, string reason, string where);

    [LoggerMessage(EventId = 9006, Level = LogLevel.Error, Message = "Uplink batch {File} cannot be decrypted: {Reason}; kept in pending/")]
    private static partial void LogWrongKey(ILogger logger, string file, string reason);

    [LoggerMessage(EventId = 9007, Level = LogLevel.Warning, Message = "Uplink spool is at its cap of {MaxMegabytes} MB: a batch of {Windows} windows was refused")]
    private static partial void LogSpoolFull(ILogger logger, int windows, long maxMegabytes);

    [LoggerMessage(EventId = 9010, Level = LogLevel.Error, Message = "Uplink could not handle {File}; retrying")]
    private static partial void LogUploaderError(ILogger logger, string file, Exception exception);

    [LoggerMessage(EventId = 9009, Level = LogLevel.Warning, Message = "Uplink URL {Url} is plain HTTP: batches and credentials cross the network unencrypted; use https:// outside a lab")]
    private static partial void LogPlainHttp(ILogger logger, string url);

    [LoggerMessage(EventId = 9008, Level = LogLevel.Error, Message = "Uplink could not write a batch of {Windows} windows")]
    private static partial void LogWriteFailed(ILogger logger, int windows, Exception exception);
}

/// <summary>The pipeline's training-window sink: every window goes through the capture policy.</summary>
public sealed class UplinkTrainingSink(UplinkService service) : ITrainingWindowSink
{
    public string Name => "uplink";

    public ValueTask WriteAsync(WindowResult result, ReadOnlyMemory<float> samples, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(result);
        service.Engine.OnWindow(result, samples.Span);
        return ValueTask.CompletedTask;
    }
}

/// <summary>Alerts raised or escalated trigger captures (pre/post windows around the raising window).</summary>
public sealed class UplinkAlertTrigger(UplinkService service) : IAlertNotifier
{
    public string Name => "uplink-trigger";

    public ValueTask NotifyAsync(Alert alert, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(alert);
        service.Engine.OnAlert(alert);
        return ValueTask.CompletedTask;
    }
}
