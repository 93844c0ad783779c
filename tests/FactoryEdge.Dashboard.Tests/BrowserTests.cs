using FactoryEdge.Core;
using FactoryEdge.Signal;

namespace FactoryEdge.Dashboard.Tests;

/// <summary>
/// The page in a real browser (Debian's chromium driven by Playwright) against the running gateway
/// with the demo's machines. Screenshots go to TestResults/screenshots (and to docs/img with
/// FACTORYEDGE_DOC_SCREENSHOTS=1).
/// </summary>
[Collection(GatewayCollection.Name)]
[Trait("Category", "Browser")]
public sealed class BrowserTests(GatewayFixture gateway) : IAsyncLifetime
{
    private BrowserHarness _browser = null!;

    public async Task InitializeAsync() => _browser = await BrowserHarness.StartAsync(gateway.BaseUri);

    public async Task DisposeAsync() => await _browser.DisposeAsync();

    [ChromiumFact]
    public async Task Unauthenticated_NonLocalBind_IsRefused()
    {
        var context = await _browser.NewContextAsync();
        var page = await context.NewPageAsync();

        await page.GotoAsync("/");
        var api = await page.EvaluateAsync<int>("async () => (await fetch('/api/overview')).status");
        var events = await page.EvaluateAsync<int>("async () => (await fetch('/api/events')).status");

        Assert.EndsWith("/login", page.Url, StringComparison.Ordinal);
        Assert.True(await page.IsVisibleAsync("#password"));
        Assert.Equal(401, api);
        Assert.Equal(401, events);

        await page.FillAsync("#user", GatewayHostFixture.Viewer);
        await page.FillAsync("#password", "not the password");
        await page.ClickAsync("#login");
        Assert.EndsWith("/login?failed=1", page.Url, StringComparison.Ordinal);
        await context.CloseAsync();
    }

    [ChromiumFact]
    public async Task Overview_ListsTheDemoMachines_WithLiveStatus()
    {
        var page = await _browser.LoginAsync(GatewayHostFixture.Viewer, GatewayHostFixture.ViewerPassword);

        await page.WaitForSelectorAsync("section.machine-card[data-machine='plant/line-1/motor-3']");
        var machines = await page.Locator("section.machine-card").EvaluateAllAsync<string[]>("els => els.map(e => e.dataset.machine)");
        Assert.Equal(gateway.Machines.Select(m => "plant/line-1/" + m.Name).Order(StringComparer.Ordinal), machines.Order(StringComparer.Ordinal));

        // Live: the last-sample age is refreshed by the stream, not by reloading.
        await page.EvaluateAsync("() => { window.__noReload = true; }");
        await page.WaitForFunctionAsync("() => [...document.querySelectorAll('td.age')].length === document.querySelectorAll('section.machine-card').length && [...document.querySelectorAll('td.age')].every(td => /s ago/.test(td.textContent) && parseFloat(td.textContent) < 5)", null, new() { Timeout = 30_000 });
        await page.WaitForFunctionAsync("() => [...document.querySelectorAll('.zone')].some(z => /^[ABCD]$/.test(z.textContent))", null, new() { Timeout = 30_000 });
        Assert.True(await page.EvaluateAsync<bool>("() => window.__noReload === true"));
        Assert.Equal("live", await page.TextContentAsync("#live"));
        await BrowserHarness.ScreenshotAsync(page, "overview.png");
        await page.Context.CloseAsync();
    }

    [ChromiumFact]
    public async Task MachineView_DefectMarkers_AreDrawnWhereTheAxisPutsTheirFrequencies()
    {
        var page = await _browser.LoginAsync(GatewayHostFixture.Viewer, GatewayHostFixture.ViewerPassword);
        await BrowserHarness.OpenMachineAsync(page, "plant/line-1/pump-1");
        await page.WaitForFunctionAsync("() => (JSON.parse(document.getElementById('envelope').dataset.markers || '[]')).some(m => m.name === 'BPFO') && !/filling/.test(document.getElementById('envelope-info').textContent)", null, new() { Timeout = 60_000 });

        var geometry = await BrowserHarness.GeometryAsync(page, "envelope");

        var names = geometry.Markers.Select(m => m.Name).ToHashSet();
        Assert.Superset(new HashSet<string> { "1×", "2×", "3×", "FTF", "BSF", "BPFO", "BPFI" }, names);
        foreach (var marker in geometry.Markers)
        {
            Assert.True(marker.Hits >= marker.Rows * 0.95, $"{marker.Name} at {marker.Freq:0.0} Hz: only {marker.Hits}/{marker.Rows} pixels of its column have its colour");
            Assert.True(Math.Abs(marker.Center - marker.Expected) <= 1.0, $"{marker.Name}: element centre {marker.Center:0.0} px, axis puts {marker.Freq:0.0} Hz at {marker.Expected:0.0} px");
            Assert.True(marker.Beside < marker.Rows / 4, $"{marker.Name}: its colour also 3 px beside it");
        }

        // The marker frequencies are the bearing's defect orders times the running speed.
        var orders = BearingOrders.FromGeometry(BearingCatalog.Get("SKF 6205-2RS JEM"));
        var shaft = geometry.Markers.Single(m => m.Name == "1×").Freq;
        var rpm = gateway.Machines.Single(m => m.Name == "pump-1").Rpm;
        Assert.InRange(shaft, rpm / 60.0 * 0.97, rpm / 60.0 * 1.03);
        Assert.Equal(orders.Bpfo, geometry.Markers.Single(m => m.Name == "BPFO").Freq / shaft, 4); // the speed travels rounded to 1e-6 Hz
        Assert.Equal(orders.Bpfi, geometry.Markers.Single(m => m.Name == "BPFI").Freq / shaft, 4); // the speed travels rounded to 1e-6 Hz
        Assert.Equal(orders.Ftf, geometry.Markers.Single(m => m.Name == "FTF").Freq / shaft, 4); // the speed travels rounded to 1e-6 Hz
        Assert.Equal(orders.Bsf, geometry.Markers.Single(m => m.Name == "BSF").Freq / shaft, 4); // the speed travels rounded to 1e-6 Hz

        // The axis itself: tick marks are drawn where the mapping puts the tick values.
        Assert.True(geometry.Ticks.Length >= 4);
        Assert.All(geometry.Ticks, t => Assert.True(t.Drawn && !t.Left, $"tick {t.Value} Hz not drawn at its column"));

        // Spectrum: lin/log switch keeps the shaft markers on their frequencies.
        await page.ClickAsync("#scale-lin");
        var lin = await BrowserHarness.GeometryAsync(page, "spectrum");
        Assert.Equal("lin", lin.Scale);
        await page.ClickAsync("#scale-log");
        var log = await BrowserHarness.GeometryAsync(page, "spectrum");
        Assert.Equal("log", log.Scale);
        Assert.NotEmpty(log.Markers);
        Assert.All(log.Markers, m => Assert.True(m.Hits >= m.Rows * 0.95 && Math.Abs(m.Center - m.Expected) <= 1.0, m.Name));
        Assert.Equal(lin.Markers.Select(m => Math.Round(m.Expected, 3)), log.Markers.Select(m => Math.Round(m.Expected, 3)));
        await page.Context.CloseAsync();
    }

    [ChromiumFact]
    public async Task ModelView_ShowsTheActiveScorer()
    {
        var page = await _browser.LoginAsync(GatewayHostFixture.Viewer, GatewayHostFixture.ViewerPassword);

        await page.GotoAsync("/#/models");
        await page.WaitForSelectorAsync("#scorer");

        Assert.Equal("baseline-zscore", await page.TextContentAsync("#scorer"));
        await BrowserHarness.ScreenshotAsync(page, "models.png");
        await page.Context.CloseAsync();
    }
}
