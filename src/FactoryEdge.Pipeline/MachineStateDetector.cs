using FactoryEdge.Core;

namespace FactoryEdge.Pipeline;

/// <summary>
/// Running/stopped from overall level and (when tracked) speed, debounced over a few windows. A
/// stopped machine's windows are neither scored nor alerted on.
/// </summary>
internal sealed class MachineStateDetector
{
    private readonly MachineStateOptions _options;
    private MachineState _state = MachineState.Unknown;
    private MachineState _candidate = MachineState.Unknown;
    private int _candidateCount;

    public MachineStateDetector(MachineStateOptions options) => _options = options;

    public MachineState State => _state;

    public MachineState Update(double rms, double speedHz)
    {
        var stoppedByLevel = _options.StoppedRms > 0 && rms < _options.StoppedRms;
        var stoppedBySpeed = _options.StoppedSpeedHz > 0 && double.IsFinite(speedHz) && speedHz < _options.StoppedSpeedHz;
        var observed = stoppedByLevel || stoppedBySpeed ? MachineState.Stopped : MachineState.Running;
        if (_state == MachineState.Unknown)
        {
            // The first window decides at once; later changes are debounced.
            _state = observed;
            _candidate = observed;
            return _state;
        }

        if (observed == _state)
        {
            _candidateCount = 0;
            return _state;
        }

        if (observed != _candidate)
        {
            _candidate = observed;
            _candidateCount = 0;
        }

        if (++_candidateCount >= _options.Debounce)
        {
            _state = observed;
            _candidateCount = 0;
        }

        return _state;
    }

    public void Reset()
    {
        _state = MachineState.Unknown;
        _candidateCount = 0;
    }
}
