using System.Text.Json;
using FactoryEdge.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace FactoryEdge.Dashboard.Tests;

/// <summary>
/// The fault's alarm in the browser, on a gateway started just before the test (motor-3's fault at
/// 25 s): both pages are open before the alarm exists, so it can only arrive over the live stream.
/// </summary>
[Trait("Category", "Browser")]
public sealed class FaultAlertBrowserTests(FaultGatewayFixture gateway) : IClassFixture<FaultGatewayFixture>, IAsyncLifetime
{
    private BrowserHarness _browser = null!;

    public async Task InitializeAsync() => _browser = await BrowserHarness.StartAsync(gateway.BaseUri);

    public async Task DisposeAsync() => await _browser.DisposeAsync();

    [ChromiumFact]
    public async Task FaultAlert_AppearsLive_OperatorAcknowledges_ViewerCannot()
    {
        var op = await _browser.LoginAsync(GatewayHostFixture.Operator, GatewayHostFixture.OperatorPassword);
        var viewer = await _browser.LoginAsync(GatewayHostFixture.Viewer, GatewayHostFixture.ViewerPassword);
        await BrowserHarness.OpenMachineAsync(op, GatewayHostFixture.FaultyMachine);
        await BrowserHarness.OpenMachineAsync(viewer, GatewayHostFixture.FaultyMachine);
        foreach (var page in new[] { op, viewer })
        {
            await page.EvaluateAsync("() => { window.__noReload = true; }");
        }

        // Opened before the fault: no alarm yet on either page.
        var sinceStart = TimeProvider.System.GetElapsedTime(gateway.StartedTimestamp);
        Assert.True(sinceStart.TotalSeconds < gateway.FaultAtSeconds, $"the pages opened {sinceStart.TotalSeconds:0} s after start, after the fault");
        Assert.Equal(0, await op.Locator("tr.alarm").CountAsync());
        Assert.Equal(0, await viewer.Locator("tr.alarm").CountAsync());

        // The alert arrives over the live stream (the pages are not reloaded).
        var timeout = new PageWaitForSelectorOptions { Timeout = 150_000 };
        await op.WaitForSelectorAsync("tr.alarm[data-acknowledged='false']", timeout);
        await viewer.WaitForSelectorAsync("tr.alarm[data-acknowledged='false']", timeout);
        var id = await op.GetAttributeAsync("tr.alarm[data-acknowledged='false']", "data-alarm-id");

        // An escalation asks for a new acknowledgement (ISA-18.2): acknowledge once it is critical.
        await op.WaitForSelectorAsync($"tr.alarm[data-alarm-id='{id}'][data-severity='critical']", new() { Timeout = 60_000 });
        Assert.NotNull(id);
        Assert.Equal(0, await viewer.Locator("tr.alarm button.ack").CountAsync());
        var viewerStatus = await viewer.EvaluateAsync<int>($"async () => (await fetch('/api/alarms/{id}/ack', {{ method: 'POST', headers: {{ 'X-FactoryEdge-Request': '1' }} }})).status");
        Assert.Equal(403, viewerStatus);
        Assert.Equal("false", await viewer.GetAttributeAsync($"tr.alarm[data-alarm-id='{id}']", "data-acknowledged"));

        await op.ClickAsync($"tr.alarm[data-alarm-id='{id}'] button.ack");
        await op.WaitForSelectorAsync($"tr.alarm[data-alarm-id='{id}'][data-acknowledged='true']", new() { Timeout = 15_000 });
        await viewer.WaitForSelectorAsync($"tr.alarm[data-alarm-id='{id}'][data-acknowledged='true']", new() { Timeout = 15_000 });
        Assert.True(await op.EvaluateAsync<bool>("() => window.__noReload === true"));
        Assert.True(await viewer.EvaluateAsync<bool>("() => window.__noReload === true"));
        Assert.Contains(GatewayHostFixture.Operator, await op.TextContentAsync($"tr.alarm[data-alarm-id='{id}'] td.acked") ?? "", StringComparison.Ordinal);

        var board = gateway.Host.Services.GetRequiredService<IAlarmBoard>();
        var entry = Assert.Single(board.Audit(100), a => a.Target == id && a.User == GatewayHostFixture.Operator);
        Assert.True(entry.Succeeded);
        Assert.Equal(AlarmActionSource.Dashboard, entry.Source);
        var alarm = board.Snapshot().Single(a => a.AlertId == id);
        Assert.True(alarm.Acknowledged);
        Assert.Equal(GatewayHostFixture.Operator, alarm.AcknowledgedBy);

        // The fault on the drawn envelope spectrum: its highest line sits on the BPFO marker.
        await op.WaitForFunctionAsync("() => !/filling/.test(document.getElementById('envelope-info').textContent)", null, new() { Timeout = 30_000 });
        // Once the line stands (three looks in a row, half a second apart), the screenshot.
        BrowserHarness.PeakInfo? peak = null;
        BrowserHarness.MarkerGeometry bpfo = null!;
        var inARow = 0;
        for (var attempt = 0; attempt < 80 && inARow < 3; attempt++)
        {
            var geometry = await BrowserHarness.GeometryAsync(op, "envelope");
            bpfo = geometry.Markers.Single(m => m.Name == "BPFO");
            var found = await op.EvaluateAsync<JsonElement>(BrowserHarness.PeakScript, new object[] { "envelope", 20, geometry.XMax * 0.98 });
            peak = found.ValueKind == JsonValueKind.Object ? found.Deserialize<BrowserHarness.PeakInfo>(new JsonSerializerOptions(JsonSerializerDefaults.Web)) : null;
            inARow = peak is not null && Math.Abs(peak.Frequency - bpfo.Freq) <= bpfo.Freq * 0.03 ? inARow + 1 : 0;
            await Task.Delay(500);
        }

        Assert.NotNull(peak);
        Assert.InRange(peak.Frequency, bpfo.Freq * 0.97, bpfo.Freq * 1.03);
        await BrowserHarness.ScreenshotAsync(op, "machine-fault.png");
        await BrowserHarness.ScreenshotAsync(viewer, "machine-fault-viewer.png");
        await op.Context.CloseAsync();
        await viewer.Context.CloseAsync();
    }
}
