using FactoryEdge.Core;

namespace FactoryEdge.Simulator.Machines;

/// <summary>
/// What a simulated machine is whatever protocol serves it: its block source, temperature model and
/// the readings of the last block, guarded by <see cref="Gate"/> so that a block and its readings
/// change together. <see cref="PublishNext"/> reads the next block and hands it to the protocol's
/// <see cref="Publish"/>; <see cref="PaceAsync"/> does that in real time.
/// </summary>
internal abstract class SimulatedMachine
{
    private readonly float[] _block;
    private readonly TemperatureModel _temperature;

    protected SimulatedMachine(MachineDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        Definition = definition;
        Source = definition.CreateSource();
        _block = new float[definition.BlockSize];
        _temperature = new TemperatureModel(definition.Generator?.Seed ?? definition.Index);
        CurrentReadings = new MachineReadings(0, 0, 0, 0, TemperatureModel.BaseC, definition.Rpm, 0, Running: true, Ended: false);
    }

    public MachineDefinition Definition { get; }

    public string Name => Definition.Name;

    public MachineReadings Readings
    {
        get
        {
            lock (Gate)
            {
                return CurrentReadings;
            }
        }
    }

    /// <summary>Held while a block and its readings change (and by the protocol's own bookkeeping).</summary>
    protected Lock Gate { get; } = new();

    protected IBlockSource Source { get; }

    /// <summary>The readings of the last block; read and written under <see cref="Gate"/>.</summary>
    protected MachineReadings CurrentReadings { get; set; }

    /// <summary>Publishes the next block and its scalars; false when a non-looping recording has ended (the last block stays).</summary>
    public bool PublishNext()
    {
        lock (Gate)
        {
            if (!Source.TryNext(_block, out var info))
            {
                if (!CurrentReadings.Ended)
                {
                    CurrentReadings = CurrentReadings with { Running = false, Ended = true };
                    OnEnded();
                }

                return false;
            }

            var (rms, peak) = BlockStatistics.Compute(_block);
            var temperature = _temperature.Update(info.SignalSeconds, info.Severity, rms, Source.IsRecording);
            Publish(_block, info, rms, peak, temperature);
            return true;
        }
    }

    /// <summary>
    /// Real-time pacing: block 1 went out at start, block k + 1 is published k periods later (a period
    /// is the stride in samples at the sample rate × <paramref name="speed"/>), until cancelled or a
    /// non-looping recording ends (then <paramref name="ended"/> is called).
    /// </summary>
    public async Task PaceAsync(TimeProvider time, double speed, Action<SimulatedMachine> ended, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ended);
        var paceRate = Definition.SampleRateHz * speed;
        using var pacer = new BlockPacer(time, SampleClock.At(Definition.StrideSamples, paceRate));
        try
        {
            for (long k = 1; ; k++)
            {
                await pacer.WaitUntilAsync(SampleClock.At(k * Definition.StrideSamples, paceRate), cancellationToken).ConfigureAwait(false);
                if (!PublishNext())
                {
                    ended(this);
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    /// <summary>Called under <see cref="Gate"/> once, when the source has ended (<see cref="CurrentReadings"/> already says so).</summary>
    protected abstract void OnEnded();

    /// <summary>Called under <see cref="Gate"/> with the next block and its statistics; sets <see cref="CurrentReadings"/>.</summary>
    protected abstract void Publish(float[] block, BlockInfo info, double rms, double peak, double temperature);
}
