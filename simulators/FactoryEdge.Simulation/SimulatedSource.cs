using FactoryEdge.Core;

namespace FactoryEdge.Simulation;

/// <summary>How a <see cref="SimulatedSource"/> paces its output.</summary>
public enum SimulationPacing
{
    /// <summary>
    /// One block per channel every block period on the <see cref="TimeProvider"/> clock, written
    /// with <see cref="IChannelWriter.TryWrite"/> (a full pipeline drops blocks, counted), as live sensors do.
    /// </summary>
    RealTime,

    /// <summary>As fast as the pipeline takes it (<see cref="IChannelWriter.Write"/> waits for room): benchmarks, tests, demos.</summary>
    AsFastAsPossible,
}

/// <summary>Options of <see cref="SimulatedSource"/>.</summary>
public sealed record SimulatedSourceOptions
{
    public static SimulatedSourceOptions Default { get; } = new();

    public string Name { get; init; } = "simulator";

    /// <summary>Samples per block and channel.</summary>
    public int BlockSize { get; init; } = 1024;

    public SimulationPacing Pacing { get; init; } = SimulationPacing.RealTime;

    /// <summary>Signal time after which the source ends (null: run until cancelled).</summary>
    public TimeSpan? Duration { get; init; }

    /// <summary>Samples per channel after which the source ends (null: no limit). With <see cref="Duration"/> the smaller wins.</summary>
    public long? MaxSamplesPerChannel { get; init; }

    /// <summary>Time of sample 0 (default: the <see cref="TimeProvider"/>'s now when the run starts).</summary>
    public DateTimeOffset? StartTime { get; init; }

    internal void Validate()
    {
        if (BlockSize < 1)
        {
            throw new ArgumentException($"SimulatedSourceOptions.BlockSize must be at least 1 (was {BlockSize}).");
        }

        if (!Enum.IsDefined(Pacing))
        {
            throw new ArgumentException($"SimulatedSourceOptions.Pacing '{Pacing}' is not one of RealTime, AsFastAsPossible.");
        }

        if (Duration is { } duration && duration <= TimeSpan.Zero)
        {
            throw new ArgumentException($"SimulatedSourceOptions.Duration must be positive (was {duration}).");
        }

        if (MaxSamplesPerChannel is < 1)
        {
            throw new ArgumentException($"SimulatedSourceOptions.MaxSamplesPerChannel must be at least 1 (was {MaxSamplesPerChannel}).");
        }
    }
}

/// <summary>
/// Serves simulated machines to the pipeline: one <see cref="MachineSignalGenerator"/> per channel,
/// blocks of <see cref="SimulatedSourceOptions.BlockSize"/> samples, source timestamps = start time
/// + sample index / rate (<see cref="ClockQuality.Synchronized"/>: the simulator is its own clock).
/// Each run starts the generators afresh, so runs are reproducible. <see cref="RunAsync"/> throws
/// <see cref="OperationCanceledException"/> when cancelled and returns when every channel reached
/// its limit.
/// </summary>
public sealed class SimulatedSource : ISensorSource
{
    private readonly SimulatedMachine[] _machines;
    private readonly SimulatedSourceOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ChannelDescriptor[] _channels;
    private long _blocksWritten;
    private long _droppedBlocks;

    public SimulatedSource(IReadOnlyList<SimulatedMachine> machines, SimulatedSourceOptions? options = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(machines);
        if (machines.Count == 0)
        {
            throw new ArgumentException("At least one simulated machine (channel) is needed.", nameof(machines));
        }

        _options = options ?? SimulatedSourceOptions.Default;
        _options.Validate();
        _machines = [.. machines];
        _channels = new ChannelDescriptor[_machines.Length];
        var ids = new HashSet<ChannelId>();
        for (var i = 0; i < _machines.Length; i++)
        {
            ArgumentNullException.ThrowIfNull(_machines[i], nameof(machines));
            _channels[i] = _machines[i].Channel;
            if (!ids.Add(_channels[i].Id))
            {
                throw new ArgumentException($"Channel {_channels[i].Id} appears twice.", nameof(machines));
            }
        }

        _timeProvider = timeProvider ?? TimeProvider.System;
    }

    public string Name => _options.Name;

    public IReadOnlyList<ChannelDescriptor> Channels => _channels;

    public IReadOnlyList<SimulatedMachine> Machines => _machines;

    public SimulatedSourceOptions Options => _options;

    /// <summary>Blocks accepted by the writers (all channels).</summary>
    public long BlocksWritten => Interlocked.Read(ref _blocksWritten);

    /// <summary>Blocks a writer refused (real-time pacing: the pipeline was full).</summary>
    public long DroppedBlocks => Interlocked.Read(ref _droppedBlocks);

    public Task RunAsync(IReadOnlyList<IChannelWriter> writers, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(writers);
        if (writers.Count != _channels.Length)
        {
            throw new ArgumentException($"Expected {_channels.Length} writers (one per channel), got {writers.Count}.", nameof(writers));
        }

        var state = new ChannelState[_machines.Length];
        var shortestPeriod = TimeSpan.MaxValue;
        for (var i = 0; i < state.Length; i++)
        {
            state[i] = new ChannelState(_machines[i], _options);
            var period = SampleClock.At(_options.BlockSize, _machines[i].Signal.SampleRateHz);
            shortestPeriod = period < shortestPeriod ? period : shortestPeriod;
        }

        // The clocks start now, when the caller starts the run.
        var anchorTicks = (_options.StartTime ?? _timeProvider.GetUtcNow()).UtcTicks;
        var pacer = _options.Pacing == SimulationPacing.RealTime ? new BlockPacer(_timeProvider, shortestPeriod) : null;
        return Task.Run(
            async () =>
            {
                using (pacer)
                {
                    if (pacer is null)
                    {
                        RunFast(writers, state, anchorTicks, cancellationToken);
                    }
                    else
                    {
                        await RunPacedAsync(writers, state, pacer, anchorTicks, cancellationToken).ConfigureAwait(false);
                    }
                }
            },
            CancellationToken.None); // always run, so that the pacer's timer is disposed; the loop honours the token.
    }

    private void RunFast(IReadOnlyList<IChannelWriter> writers, ChannelState[] state, long anchorTicks, CancellationToken cancellationToken)
    {
        while (true)
        {
            var any = false;
            for (var c = 0; c < state.Length; c++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var channel = state[c];
                if (channel.Done)
                {
                    continue;
                }

                any = true;
                var block = channel.Next(anchorTicks);
                writers[c].Write(block, cancellationToken);
                Interlocked.Increment(ref _blocksWritten);
            }

            if (!any)
            {
                return;
            }
        }
    }

    private async Task RunPacedAsync(IReadOnlyList<IChannelWriter> writers, ChannelState[] state, BlockPacer pacer, long anchorTicks, CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var any = false;
            var earliest = TimeSpan.MaxValue;

            // Every channel whose next block has come due gets it now: with equal rates, all channels together.
            for (var c = 0; c < state.Length; c++)
            {
                var channel = state[c];
                while (!channel.Done && pacer.IsDue(channel.NextDue))
                {
                    var block = channel.Next(anchorTicks);
                    if (writers[c].TryWrite(block))
                    {
                        Interlocked.Increment(ref _blocksWritten);
                    }
                    else
                    {
                        Interlocked.Increment(ref _droppedBlocks);
                    }
                }

                if (!channel.Done)
                {
                    any = true;
                    earliest = channel.NextDue < earliest ? channel.NextDue : earliest;
                }
            }

            if (!any)
            {
                return;
            }

            await pacer.WaitUntilAsync(earliest, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Generator, buffer and position of one channel during a run.</summary>
    private sealed class ChannelState
    {
        private readonly MachineSignalGenerator _generator;
        private readonly float[] _buffer;
        private readonly long _limit;
        private readonly double _rate;

        public ChannelState(SimulatedMachine machine, SimulatedSourceOptions options)
        {
            _generator = new MachineSignalGenerator(machine.Signal);
            _buffer = new float[options.BlockSize];
            _rate = machine.Signal.SampleRateHz;
            _limit = long.MaxValue;
            if (options.MaxSamplesPerChannel is { } max)
            {
                _limit = max;
            }

            if (options.Duration is { } duration)
            {
                _limit = Math.Min(_limit, Math.Max(1, (long)Math.Ceiling(duration.TotalSeconds * _rate)));
            }
        }

        public bool Done => _generator.SampleIndex >= _limit;

        private int NextCount => (int)Math.Min(_buffer.Length, _limit - _generator.SampleIndex);

        /// <summary>When the next block's last sample "has happened", from the start of the run.</summary>
        public TimeSpan NextDue => SampleClock.At(_generator.SampleIndex + NextCount, _rate);

        public SampleBlock Next(long anchorTicks)
        {
            var count = NextCount;
            var index = _generator.SampleIndex;
            var span = _buffer.AsSpan(0, count);
            _generator.Generate(span);
            return new SampleBlock(span, index, anchorTicks + SampleClock.TicksAt(index, _rate), SampleQuality.Good, ClockQuality.Synchronized);
        }
    }
}
