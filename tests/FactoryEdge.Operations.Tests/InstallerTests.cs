using System.Text.RegularExpressions;

namespace FactoryEdge.Operations.Tests;

[Trait("Category", "Integration")]
public sealed partial class InstallerTests
{
    private static string Unit => Path.Combine(Repo.Root, "installer", "linux", "factoryedge.service");

    [ToolFact("systemd-analyze")]
    public async Task SystemdUnit_Verify_NoProblems()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var dir = Directory.CreateTempSubdirectory("fe-unit-");
        try
        {
            // verify checks that ExecStart exists: point it at a stand-in executable.
            var exe = Path.Combine(dir.FullName, "factoryedge");
            await File.WriteAllTextAsync(exe, "#!/bin/sh\nexit 0\n");
            File.SetUnixFileMode(exe, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
            var unit = Path.Combine(dir.FullName, "factoryedge.service");
            await File.WriteAllTextAsync(unit, (await File.ReadAllTextAsync(Unit)).Replace("/opt/factoryedge/factoryedge", exe, StringComparison.Ordinal));

            var (code, output) = await Repo.RunAsync("systemd-analyze", ["verify", unit], timeout: TimeSpan.FromMinutes(2));
            Assert.True(code == 0 && !output.Contains("factoryedge.service:", StringComparison.Ordinal), output);

            // Exposure as systemd scores it: "OK" band or better (≤ 3.9 of 10).
            var (_, security) = await Repo.RunAsync("systemd-analyze", ["security", "--offline=yes", "--no-pager", unit], timeout: TimeSpan.FromMinutes(2));
            var match = ExposureRegex().Match(security);
            Assert.True(match.Success, security);
            Assert.True(double.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) < 4.0, security);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void SystemdUnit_Directives_NotifyWatchdogRestartUserHardeningCredentials()
    {
        var lines = File.ReadAllLines(Unit).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();
        foreach (var required in new[]
        {
            "Type=notify", "Restart=on-failure", "User=factoryedge", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes",
            "NoNewPrivileges=yes", "CapabilityBoundingSet=", "ReadWritePaths=/var/lib/factoryedge", "ReadWritePaths=-/var/lib/factoryedge/pki",
            "ReadWritePaths=-/var/lib/factoryedge/spool", "StateDirectory=factoryedge", "LoadCredential=factoryedge:/etc/factoryedge/credentials",
        })
        {
            Assert.Contains(required, lines);
        }

        Assert.Contains(lines, l => Regex.IsMatch(l, "^WatchdogSec=[1-9][0-9]*$"));
        Assert.DoesNotContain(lines, l => l.StartsWith("MemoryDenyWriteExecute=yes", StringComparison.Ordinal)); // would break the JIT
        Assert.DoesNotContain(lines, l => l.StartsWith("User=root", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ShellScripts_Syntax_Valid()
    {
        foreach (var script in new[] { "install.sh", "uninstall.sh", "build-deb.sh", "debian/preinst", "debian/postinst", "debian/prerm", "debian/postrm" })
        {
            var (code, output) = await Repo.RunAsync("bash", ["-n", Path.Combine(Repo.Root, "installer", "linux", script)]);
            Assert.True(code == 0, script + ": " + output);
        }
    }

    [GeneratedRegex(@"Overall exposure level for \S+: ([0-9.]+)")]
    private static partial Regex ExposureRegex();
}

/// <summary>build-deb.sh on the published gateway: the package's contents and control data, and its SHA-256 sum.</summary>
[Trait("Category", "Integration")]
[Collection(PublishedGatewayCollection.Name)]
public sealed class DebPackageTests(PublishedGateway published)
{
    [ToolFact("dpkg-deb")]
    public async Task BuildDeb_PublishedGateway_PackageHasLayoutControlConffilesScriptsAndSum()
    {
        var outDir = Directory.CreateTempSubdirectory("fe-deb-");
        try
        {
            var (code, output) = await Repo.RunAsync("bash", [Path.Combine(Repo.Root, "installer", "linux", "build-deb.sh"), "--version", "1.2.3", "--arch", "amd64", "--publish-dir", published.Directory, "--out", outDir.FullName, "--fast"]);
            Assert.True(code == 0, output);
            var deb = Path.Combine(outDir.FullName, "factoryedge_1.2.3_amd64.deb");
            Assert.True(File.Exists(deb), output);

            var (_, contents) = await Repo.RunAsync("dpkg-deb", ["-c", deb]);
            foreach (var path in new[] { "./opt/factoryedge/factoryedge", "./opt/factoryedge/factoryedge.dll", "./lib/systemd/system/factoryedge.service", "./etc/factoryedge/appsettings.json", "./opt/factoryedge/docs/operations.md", "./opt/factoryedge/docs/security.md" })
            {
                Assert.Contains(path + "\n", contents.Replace("\r", "", StringComparison.Ordinal) + "\n", StringComparison.Ordinal);
            }

            Assert.Matches(@"-rwxr-xr-x root/root .* \./opt/factoryedge/factoryedge\n", contents);
            Assert.DoesNotContain("runtimes/win", contents, StringComparison.Ordinal);
            Assert.StartsWith("drwxr-xr-x root/root", contents, StringComparison.Ordinal); // the package root: not mktemp's 0700

            var (_, info) = await Repo.RunAsync("dpkg-deb", ["-I", deb]);
            Assert.Contains("Package: factoryedge", info, StringComparison.Ordinal);
            Assert.Contains("Version: 1.2.3", info, StringComparison.Ordinal);
            Assert.Contains("Architecture: amd64", info, StringComparison.Ordinal);
            foreach (var script in new[] { "preinst", "postinst", "prerm", "postrm", "conffiles" })
            {
                Assert.Contains(script, info, StringComparison.Ordinal);
            }

            var (_, package) = await Repo.RunAsync("dpkg-deb", ["-f", deb, "Package"]);
            Assert.Equal("factoryedge", package.Trim());
            var extract = Path.Combine(outDir.FullName, "control");
            Assert.Equal(0, (await Repo.RunAsync("dpkg-deb", ["-e", deb, extract])).ExitCode);
            Assert.Equal("/etc/factoryedge/appsettings.json", (await File.ReadAllTextAsync(Path.Combine(extract, "conffiles"))).Trim());

            var (sumCode, sumOutput) = await Repo.RunAsync("sha256sum", ["-c", "SHA256SUMS"], workingDirectory: outDir.FullName);
            Assert.True(sumCode == 0, sumOutput);
            Assert.Contains("factoryedge_1.2.3_amd64.deb: OK", sumOutput, StringComparison.Ordinal);
        }
        finally
        {
            outDir.Delete(recursive: true);
        }
    }
}
