using FactoryEdge.Core;

namespace FactoryEdge.Recordings;

/// <summary>
/// Replays a <see cref="Recording"/> into the pipeline, one block per channel at a time. Sample
/// indices run on across loops; source timestamps are the start time plus index / rate.
/// <see cref="RunAsync"/> ends when the data ends (unless looping) and throws
/// <see cref="OperationCanceledException"/> when cancelled.
/// </summary>
public sealed class RecordingSource : ISensorSource
{
    private readonly RecordingSourceOptions _options;
    private readonly TimeProvider _timeProvider;
    private long _blocksWritten;
    private long _droppedBlocks;
    private long _samplesReplayed;
    private long _completedLoops;

    /// <summary>Replays <paramref name="recording"/> as the given channels (one per recording channel, same order and rate).</summary>
    public RecordingSource(Recording recording, IReadOnlyList<ChannelDescriptor> channels, RecordingSourceOptions? options = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(recording);
        ArgumentNullException.ThrowIfNull(channels);
        _options = options ?? RecordingSourceOptions.Default;
        _options.Validate();
        if (channels.Count != recording.Channels.Count)
        {
            throw new ArgumentException($"The recording has {recording.Channels.Count} channels but {channels.Count} descriptors were given.", nameof(channels));
        }

        foreach (var channel in channels)
        {
            ArgumentNullException.ThrowIfNull(channel, nameof(channels));
            if (Math.Abs(channel.SampleRateHz - recording.SampleRateHz) > 1e-9 * recording.SampleRateHz)
            {
                throw new ArgumentException($"Channel {channel.Id} declares {channel.SampleRateHz} Hz but the recording is {recording.SampleRateHz} Hz.", nameof(channels));
            }
        }

        Recording = recording;
        Channels = channels;
        _timeProvider = timeProvider ?? TimeProvider.System;
        Name = _options.Name ?? "recording:" + Path.GetFileName(recording.Name);
    }

    /// <summary>Replays <paramref name="recording"/> as the channels of <see cref="Recording.ToChannelDescriptors"/>.</summary>
    public RecordingSource(Recording recording, string site, string line, string machine, RecordingSourceOptions? options = null, TimeProvider? timeProvider = null)
        : this(recording, (recording ?? throw new ArgumentNullException(nameof(recording))).ToChannelDescriptors(site, line, machine), options, timeProvider)
    {
    }

    public string Name { get; }

    public IReadOnlyList<ChannelDescriptor> Channels { get; }

    public Recording Recording { get; }

    public RecordingSourceOptions Options => _options;

    /// <summary>Blocks accepted by the writers (all channels).</summary>
    public long BlocksWritten => Interlocked.Read(ref _blocksWritten);

    /// <summary>Blocks a writer refused (paced modes only: the pipeline was full).</summary>
    public long DroppedBlocks => Interlocked.Read(ref _droppedBlocks);

    /// <summary>Samples replayed per channel (the next running sample index).</summary>
    public long SamplesReplayed => Interlocked.Read(ref _samplesReplayed);

    /// <summary>Loop seams passed.</summary>
    public long CompletedLoops => Interlocked.Read(ref _completedLoops);

    public Task RunAsync(IReadOnlyList<IChannelWriter> writers, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(writers);
        if (writers.Count != Channels.Count)
        {
            throw new ArgumentException($"Expected {Channels.Count} writers (one per channel), got {writers.Count}.", nameof(writers));
        }

        // The clocks start now, when the caller starts the run, not when the thread pool gets to it.
        var knownStart = _options.StartTime ?? Recording.StartTime;
        var anchorTicks = (knownStart ?? _timeProvider.GetUtcNow()).UtcTicks;
        var clock = knownStart is null ? ClockQuality.Relative : ClockQuality.Synchronized;
        var pacer = _options.Pacing == ReplayPacing.AsFastAsPossible
            ? null
            : new BlockPacer(_timeProvider, SampleClock.At(_options.BlockSize, Recording.SampleRateHz) / Speed);

        // The fast mode blocks in IChannelWriter.Write: keep it off the caller's thread.
        return Task.Run(
            async () =>
            {
                using (pacer)
                {
                    await ReplayAsync(writers, pacer, anchorTicks, clock, cancellationToken).ConfigureAwait(false);
                }
            },
            CancellationToken.None); // always run, so that the pacer's timer is disposed; the loop honours the token.
    }

    private double Speed => _options.Pacing == ReplayPacing.Speed ? _options.SpeedFactor : 1.0;

    private async Task ReplayAsync(IReadOnlyList<IChannelWriter> writers, BlockPacer? pacer, long anchorTicks, ClockQuality clock, CancellationToken cancellationToken)
    {
        var rate = Recording.SampleRateHz;
        var length = Recording.SampleCount;
        var blockSize = _options.BlockSize;
        var paced = pacer is not null;
        var speed = Speed;

        long index = 0;
        var position = 0;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (position == length)
            {
                if (!_options.Loop)
                {
                    return;
                }

                position = 0;
                Interlocked.Increment(ref _completedLoops);
                if (_options.MarkGapAtLoopSeam)
                {
                    foreach (var writer in writers)
                    {
                        writer.MarkGap();
                    }
                }
            }

            // Blocks never span the loop seam.
            var count = Math.Min(blockSize, length - position);
            if (pacer is not null)
            {
                // A block is due once its last sample has "happened".
                await pacer.WaitUntilAsync(SampleClock.At(index + count, rate) / speed, cancellationToken).ConfigureAwait(false);
            }

            var timestamp = anchorTicks + SampleClock.TicksAt(index, rate);
            for (var c = 0; c < writers.Count; c++)
            {
                var block = new SampleBlock(Recording.Channels[c].Samples.Span.Slice(position, count), index, timestamp, SampleQuality.Good, clock);
                if (!paced)
                {
                    writers[c].Write(block, cancellationToken);
                    Interlocked.Increment(ref _blocksWritten);
                }
                else if (writers[c].TryWrite(block))
                {
                    Interlocked.Increment(ref _blocksWritten);
                }
                else
                {
                    Interlocked.Increment(ref _droppedBlocks);
                }
            }

            position += count;
            index += count;
            Interlocked.Exchange(ref _samplesReplayed, index);
        }
    }
}
