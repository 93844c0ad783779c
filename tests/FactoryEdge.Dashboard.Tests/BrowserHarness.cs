using System.Text.Json;
using FactoryEdge.Tests.Shared;
using Microsoft.Playwright;

namespace FactoryEdge.Dashboard.Tests;

/// <summary>
/// Debian's chromium driven by Playwright (executablePath, headless; no browser download), with the
/// helpers the browser tests share: log in, open a machine, read a chart's drawn geometry, screenshot.
/// </summary>
internal sealed class BrowserHarness : IAsyncDisposable
{
    private static readonly string ScreenshotDirectory = Environment.GetEnvironmentVariable("FACTORYEDGE_SCREENSHOTS_DIR") is { Length: > 0 } dir
        ? dir
        : Path.Combine(TestData.RepoRoot, "tests", "FactoryEdge.Dashboard.Tests", "TestResults", "screenshots");

    // Reads the chart's published axis mapping, then checks the drawing itself: every marker's pixel
    // column on the canvas has the marker's colour, its DOM element sits on that column, and the
    // x-axis tick marks are drawn where the same mapping puts the tick values.
    public const string GeometryScript = """
        (id) => {
          const c = document.getElementById(id);
          const d = c.dataset;
          const xMin = +d.xMin, xMax = +d.xMax, L = +d.plotLeft, W = +d.plotWidth, T = +d.plotTop, H = +d.plotHeight, dpr = +d.dpr;
          const X = (f) => L + (f - xMin) / (xMax - xMin) * W;
          const rect = c.getBoundingClientRect();
          const img = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
          const px = (col, row) => { const i = (row * c.width + col) * 4; return [img[i], img[i + 1], img[i + 2]]; };
          const hex = (h) => [parseInt(h.slice(1, 3), 16), parseInt(h.slice(3, 5), 16), parseInt(h.slice(5, 7), 16)];
          const same = (p, q) => Math.abs(p[0] - q[0]) <= 3 && Math.abs(p[1] - q[1]) <= 3 && Math.abs(p[2] - q[2]) <= 3;
          const markers = [...c.parentElement.querySelectorAll('.marker')].map((el) => {
            const f = +el.dataset.freq, expected = X(f), b = el.getBoundingClientRect(), color = hex(el.dataset.color);
            const col = Math.round(expected * dpr);
            let rows = 0, hits = 0, beside = 0;
            for (let row = Math.ceil(T * dpr) + 1; row < Math.floor((T + H) * dpr) - 1; row += 2) {
              rows++;
              if (same(px(col, row), color)) hits++;
              if (same(px(col - 3, row), color) || same(px(col + 3, row), color)) beside++;
            }
            return { name: el.dataset.name, freq: f, expected, center: (b.left + b.right) / 2 - rect.left, width: b.width, rows, hits, beside };
          });
          const axis = [82, 96, 109];
          const ticks = d.xTicks.split(',').filter((s) => s.length).map(Number).map((t) => {
            const col = Math.round(X(t) * dpr), row = Math.round((T + H + 3) * dpr);
            return { value: t, drawn: same(px(col, row), axis), left: same(px(col - 2, row), axis) || same(px(col + 2, row), axis) };
          });
          return { xMin, xMax, plotLeft: L, plotWidth: W, scale: d.yScale, markers, ticks };
        }
        """;

    // Column of the highest visible point of the trace (colour #1c7ed6) between two frequencies.
    public const string PeakScript = """
        ([id, fLo, fHi]) => {
          const c = document.getElementById(id);
          const d = c.dataset;
          const xMin = +d.xMin, xMax = +d.xMax, L = +d.plotLeft, W = +d.plotWidth, T = +d.plotTop, H = +d.plotHeight, dpr = +d.dpr;
          const X = (f) => L + (f - xMin) / (xMax - xMin) * W;
          const img = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
          const lo = Math.round(X(fLo) * dpr), hi = Math.round(X(fHi) * dpr);
          for (let row = Math.ceil(T * dpr); row < (T + H) * dpr; row++) {
            for (let col = lo; col <= hi; col++) {
              const i = (row * c.width + col) * 4;
              if (Math.abs(img[i] - 28) < 40 && Math.abs(img[i + 1] - 126) < 40 && Math.abs(img[i + 2] - 214) < 40 && img[i + 2] > 150) {
                return { column: col / dpr, frequency: xMin + (col / dpr - L) / W * (xMax - xMin), row };
              }
            }
          }
          return null;
        }
        """;

    private readonly IPlaywright _playwright;
    private readonly IBrowser _browser;
    private readonly Uri _base;

    private BrowserHarness(IPlaywright playwright, IBrowser browser, Uri baseUri)
    {
        _playwright = playwright;
        _browser = browser;
        _base = baseUri;
    }

    public static async Task<BrowserHarness> StartAsync(Uri baseUri)
    {
        Directory.CreateDirectory(ScreenshotDirectory);
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumFactAttribute.Path,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--font-render-hinting=none"],
        });
        return new BrowserHarness(playwright, browser, baseUri);
    }

    public async ValueTask DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
    }

    public async Task<IBrowserContext> NewContextAsync() =>
        await _browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = _base.ToString(),
            ViewportSize = new ViewportSize { Width = 1440, Height = 1100 },
            DeviceScaleFactor = 1,
        });

    public async Task<IPage> LoginAsync(string user, string password)
    {
        var context = await NewContextAsync();
        var page = await context.NewPageAsync();
        await page.GotoAsync("/");
        await page.FillAsync("#user", user);
        await page.FillAsync("#password", password);
        await page.ClickAsync("#login");
        await page.WaitForSelectorAsync("#who[data-role]");
        return page;
    }

    public static async Task OpenMachineAsync(IPage page, string key)
    {
        await page.GotoAsync("/#/machine/" + Uri.EscapeDataString(key));
        await page.WaitForSelectorAsync("#envelope");
        await page.WaitForFunctionAsync("() => document.getElementById('live').textContent === 'live'", null, new() { Timeout = 20_000 });
    }

    public static async Task<Geometry> GeometryAsync(IPage page, string canvas)
    {
        var json = await page.EvaluateAsync<JsonElement>(GeometryScript, canvas);
        return json.Deserialize<Geometry>(new JsonSerializerOptions(JsonSerializerDefaults.Web))!;
    }

    public static async Task ScreenshotAsync(IPage page, string name)
    {
        var path = Path.Combine(ScreenshotDirectory, name);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        if (Environment.GetEnvironmentVariable("FACTORYEDGE_DOC_SCREENSHOTS") == "1")
        {
            var docs = Path.Combine(TestData.RepoRoot, "docs", "img");
            Directory.CreateDirectory(docs);
            File.Copy(path, Path.Combine(docs, "dashboard-" + name), overwrite: true);
        }
    }

    public sealed record Geometry(double XMin, double XMax, double PlotLeft, double PlotWidth, string Scale, MarkerGeometry[] Markers, TickGeometry[] Ticks);

    public sealed record MarkerGeometry(string Name, double Freq, double Expected, double Center, double Width, int Rows, int Hits, int Beside);

    public sealed record TickGeometry(double Value, bool Drawn, bool Left);

    public sealed record PeakInfo(double Column, double Frequency, int Row);
}
