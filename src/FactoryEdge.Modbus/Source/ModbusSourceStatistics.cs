namespace FactoryEdge.Modbus;

/// <summary>Counters of the Modbus source, across all devices. Updated without locks.</summary>
public sealed class ModbusSourceStatistics
{
    private long _polls;
    private long _pollsOnTime;
    private long _skippedSlots;
    private long _failedPolls;
    private long _samplesWritten;
    private long _samplesDropped;
    private long _badSamples;
    private long _gaps;
    private long _blocksRead;
    private long _tornReads;
    private long _tornRejected;
    private long _repeatedBlocks;
    private long _missedBlocks;
    private long _splitFallbacks;

    /// <summary>Poll cycles run (scalar polls and waveform checks).</summary>
    public long Polls => Interlocked.Read(ref _polls);

    /// <summary>Polls that started within the tolerance of their slot and ended before the next slot.</summary>
    public long PollsOnTime => Interlocked.Read(ref _pollsOnTime);

    /// <summary>Poll slots skipped because the previous poll overran.</summary>
    public long SkippedSlots => Interlocked.Read(ref _skippedSlots);

    /// <summary>Polls in which at least one read failed (timeout, connection, exception response).</summary>
    public long FailedPolls => Interlocked.Read(ref _failedPolls);

    public long SamplesWritten => Interlocked.Read(ref _samplesWritten);

    /// <summary>Samples the pipeline had no room for (IChannelWriter.TryWrite returned false).</summary>
    public long SamplesDropped => Interlocked.Read(ref _samplesDropped);

    /// <summary>Samples written with bad quality (out of range, not finite, device exception).</summary>
    public long BadSamples => Interlocked.Read(ref _badSamples);

    /// <summary>Gaps flagged to the pipeline (IChannelWriter.MarkGap), e.g. after a reconnect or missed blocks.</summary>
    public long Gaps => Interlocked.Read(ref _gaps);

    /// <summary>Waveform blocks read whole and accepted.</summary>
    public long BlocksRead => Interlocked.Read(ref _blocksRead);

    /// <summary>Waveform reads whose head and tail sequence differed (each is retried).</summary>
    public long TornReads => Interlocked.Read(ref _tornReads);

    /// <summary>Waveform blocks given up after all retries were torn.</summary>
    public long TornRejected => Interlocked.Read(ref _tornRejected);

    /// <summary>Checks that found the same block again (the device had not produced a new one).</summary>
    public long RepeatedBlocks => Interlocked.Read(ref _repeatedBlocks);

    /// <summary>Blocks the device produced that were never read (sequence jumped).</summary>
    public long MissedBlocks => Interlocked.Read(ref _missedBlocks);

    /// <summary>Coalesced reads that met exception 02 and were split for good.</summary>
    public long SplitFallbacks => Interlocked.Read(ref _splitFallbacks);

    /// <summary>Share of polls on time (1 when none ran).</summary>
    public double OnTimeRatio => Polls == 0 ? 1 : (double)PollsOnTime / (Polls + SkippedSlots);

    internal void OnPoll(bool onTime)
    {
        Interlocked.Increment(ref _polls);
        if (onTime)
        {
            Interlocked.Increment(ref _pollsOnTime);
        }
    }

    internal void OnSkippedSlots(long count) => Interlocked.Add(ref _skippedSlots, count);

    internal void OnFailedPoll() => Interlocked.Increment(ref _failedPolls);

    internal void OnSamples(long count) => Interlocked.Add(ref _samplesWritten, count);

    internal void OnDropped(long count) => Interlocked.Add(ref _samplesDropped, count);

    internal void OnBadSample() => Interlocked.Increment(ref _badSamples);

    internal void OnGap() => Interlocked.Increment(ref _gaps);

    internal void OnBlock() => Interlocked.Increment(ref _blocksRead);

    internal void OnTorn() => Interlocked.Increment(ref _tornReads);

    internal void OnTornRejected() => Interlocked.Increment(ref _tornRejected);

    internal void OnRepeated() => Interlocked.Increment(ref _repeatedBlocks);

    internal void OnMissed(long count) => Interlocked.Add(ref _missedBlocks, count);

    internal void OnSplit() => Interlocked.Increment(ref _splitFallbacks);
}
