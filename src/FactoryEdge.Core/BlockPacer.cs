namespace FactoryEdge.Core;

/// <summary>
/// Releases blocks on a <see cref="TimeProvider"/> clock. One periodic timer, created when the run
/// starts, wakes the loop every block period; a block is released at the first tick at which its
/// due time (measured from the start) is less than half a period away. Due times come from sample
/// indices, so the schedule never drifts; a late wake-up releases every block that has come due.
/// </summary>
public sealed class BlockPacer : IDisposable
{
    private static readonly TimeSpan MinimumPeriod = TimeSpan.FromMilliseconds(1);
    private readonly TimeProvider _timeProvider;
    private readonly long _startTimestamp;
    private readonly PeriodicTimer _timer;
    private readonly TimeSpan _tolerance;

    public BlockPacer(TimeProvider timeProvider, TimeSpan blockPeriod)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        _timeProvider = timeProvider;
        _startTimestamp = timeProvider.GetTimestamp();
        var period = blockPeriod < MinimumPeriod ? MinimumPeriod : blockPeriod;
        _tolerance = period / 2;
        _timer = new PeriodicTimer(period, timeProvider);
    }

    public TimeSpan Elapsed => _timeProvider.GetElapsedTime(_startTimestamp);

    /// <summary>Whether a block due at <paramref name="due"/> (from the start) may go now.</summary>
    public bool IsDue(TimeSpan due) => due - Elapsed <= _tolerance;

    /// <summary>Waits until a block due at <paramref name="due"/> may go.</summary>
    public async ValueTask WaitUntilAsync(TimeSpan due, CancellationToken cancellationToken)
    {
        while (!IsDue(due))
        {
            if (!await _timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                throw new ObjectDisposedException(nameof(BlockPacer));
            }
        }
    }

    public void Dispose() => _timer.Dispose();
}
