namespace FactoryEdge.Simulator.Tests;

/// <summary>Helpers for tests that run simulators in the background.</summary>
internal static class TestRuns
{
    /// <summary>Awaits a background run that ends by cancellation (the test's own stop), rethrowing anything else.</summary>
    public static async Task Swallow(Task run)
    {
        try
        {
            await run;
        }
        catch (OperationCanceledException)
        {
        }
    }
}
