using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using FactoryEdge.Core;
using Microsoft.Extensions.DependencyInjection;

namespace FactoryEdge.Dashboard.Tests;

public sealed class DashboardTlsAndFallbackTests
{
    [Fact]
    public async Task Https_WithCertificateFile_ServesOverTls_AndRefusesWithoutToken()
    {
        var directory = Directory.CreateTempSubdirectory("fe-dash-tls");
        try
        {
            using var rsa = RSA.Create(2048);
            var request = new CertificateRequest("CN=gateway-test", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            var san = new SubjectAlternativeNameBuilder();
            san.AddIpAddress(IPAddress.Loopback);
            request.CertificateExtensions.Add(san.Build());
            using var certificate = request.CreateSelfSigned(DateTimeOffset.UnixEpoch.AddYears(50), DateTimeOffset.UnixEpoch.AddYears(100));
            var pfx = Path.Combine(directory.FullName, "dashboard.pfx");
            await File.WriteAllBytesAsync(pfx, certificate.Export(X509ContentType.Pkcs12, "pfx-password"));
            var token = TokenHasher.NewToken();

            var (host, _) = await DashboardHttpTests.StartAsync(new Dictionary<string, string?>
            {
                ["FactoryEdge:Dashboard:Urls"] = "https://0.0.0.0:0",
                ["FactoryEdge:Dashboard:CertificatePath"] = pfx,
                ["FactoryEdge:Dashboard:CertificatePassword"] = "pfx-password",
                ["FactoryEdge:Dashboard:Tokens:0:Name"] = "scada",
                ["FactoryEdge:Dashboard:Tokens:0:Role"] = "Viewer",
                ["FactoryEdge:Dashboard:Tokens:0:Sha256"] = TokenHasher.Sha256Hex(token),
            }, null);
            using (host)
            {
                var port = new Uri((await host.Services.GetRequiredService<DashboardServer>().Addresses)[0]).Port;
                var thumbprint = certificate.GetCertHashString();
                string? seen = null;
                using var handler = new HttpClientHandler
                {
                    ServerCertificateCustomValidationCallback = (_, cert, _, _) =>
                    {
                        seen = cert?.GetCertHashString();
                        return seen == thumbprint;
                    },
                };
                using var client = new HttpClient(handler);
                var url = new Uri($"https://127.0.0.1:{port}/api/me");

                var anonymous = await client.GetAsync(url);
                client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
                var me = await client.GetAsync(url);

                Assert.Equal(thumbprint, seen);
                Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
                Assert.Equal(HttpStatusCode.OK, me.StatusCode);
                Assert.Equal("max-age=31536000", me.Headers.GetValues("Strict-Transport-Security").Single());
                await host.StopAsync();
            }
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task WithoutAlarmBoard_PipelineAlertsShownReadOnly_AckAnswers503()
    {
        var (host, baseUri) = await DashboardHttpTests.StartAsync(new Dictionary<string, string?> { ["FactoryEdge:Dashboard:Urls"] = "http://127.0.0.1:0" }, null);
        using (host)
        {
            var tap = host.Services.GetRequiredService<DisplayTap>();
            var channel = new ChannelId("plant", "line-1", "motor-3", "de", "x");
            await tap.NotifyAsync(new Alert
            {
                AlertId = "0123456789abcdef0123456789abcdef", Channel = channel, State = AlertState.Raised, Severity = AlertSeverity.Alarm,
                SourceTime = DateTimeOffset.UnixEpoch, Score = 14, Threshold = 6, ModelId = "baseline-zscore", Message = "vibration anomaly",
            }, CancellationToken.None);
            using var client = new HttpClient();
            client.DefaultRequestHeaders.Add(DashboardAuthenticator.CsrfHeader, "1");

            var alarms = await client.GetStringAsync(new Uri(baseUri, "/api/alarms"));
            var ack = await client.PostAsync(new Uri(baseUri, "/api/alarms/0123456789abcdef0123456789abcdef/ack"), null); // loopback, anonymous operator

            Assert.Contains("\"board\":false", alarms, StringComparison.Ordinal);
            Assert.Contains("\"channel\":\"plant/line-1/motor-3/de/x\"", alarms, StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ack.StatusCode);

            await tap.NotifyAsync(new Alert
            {
                AlertId = "0123456789abcdef0123456789abcdef", Channel = channel, State = AlertState.Cleared, Severity = AlertSeverity.Alarm,
                SourceTime = DateTimeOffset.UnixEpoch, Score = 1, Threshold = 6, ModelId = "baseline-zscore", Message = "vibration anomaly",
            }, CancellationToken.None);
            Assert.DoesNotContain("motor-3", await client.GetStringAsync(new Uri(baseUri, "/api/alarms")), StringComparison.Ordinal);
            await host.StopAsync();
        }
    }
}
