
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace FactoryEdge.Dashboard.Tests;

public sealed class OptionsTests
{
    [Fact]
    public void Validate_Defaults_Succeeds()
    {
        var result = new DashboardOptionsValidator().Validate(null, new DashboardOptions());

        Assert.True(result.Succeeded, result.FailureMessage);
        Assert.False(new DashboardOptions().RequiresAuthentication);
    }

    [Fact]
    public void Validate_NonLoopbackWithoutCredentials_FailsNamingTheKeys()
    {
        var result = new DashboardOptionsValidator().Validate(null, new DashboardOptions { Urls = "http://0.0.0.0:8080" });

        Assert.True(result.Failed);
        Assert.Contains("FactoryEdge:Dashboard:Urls binds a non-loopback address (http://0.0.0.0:8080)", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("FactoryEdge:Dashboard:Users", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_HttpsWithoutCertificate_Fails()
    {
        var options = new DashboardOptions { Urls = "https://127.0.0.1:8443" };

        var result = new DashboardOptionsValidator().Validate(null, options);

        Assert.Contains("FactoryEdge:Dashboard:CertificatePath is required", result.FailureMessage, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://plant-gw:8080", "host must be an IP address")]
    [InlineData("ftp://127.0.0.1:21", "is not an http:// or https:// URL")]
    [InlineData("http://127.0.0.1:8080/dash", "is not an http:// or https:// URL")]
    public void Validate_BadUrl_FailsWithTheReason(string url, string expected)
    {
        var result = new DashboardOptionsValidator().Validate(null, new DashboardOptions { Urls = url });

        Assert.Contains("FactoryEdge:Dashboard:Urls", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains(expected, result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_BadUserEntries_NameTheIndex()
    {
        var options = new DashboardOptions
        {
            Users = [new DashboardUser { Name = "ann", PasswordHash = "secret" }, new DashboardUser { Name = "ann", PasswordHash = PasswordHasher.Hash("pw-pw-pw-pw", PasswordHasher.MinimumIterations) }],
            Tokens = [new DashboardToken { Name = "t", Sha256 = "abc" }],
            LocalAnonymousRole = "Admin",
        };

        var message = new DashboardOptionsValidator().Validate(null, options).FailureMessage;

        Assert.Contains("FactoryEdge:Dashboard:Users:0:PasswordHash is not of the form", message, StringComparison.Ordinal);
        Assert.Contains("FactoryEdge:Dashboard:Users:1:Name 'ann' appears twice", message, StringComparison.Ordinal);
        Assert.Contains("FactoryEdge:Dashboard:Tokens:0:Sha256 must be 64 hex digits", message, StringComparison.Ordinal);
        Assert.Contains("FactoryEdge:Dashboard:LocalAnonymousRole is 'Admin'", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://127.0.0.1:8080", true)]
    [InlineData("http://localhost:8080", true)]
    [InlineData("http://[::1]:8080", true)]
    [InlineData("http://127.0.0.1:8080;http://10.0.0.5:8080", false)]
    [InlineData("http://[::]:8080", false)]
    public void IsLoopbackOnly_ByAddress(string urls, bool expected)
    {
        Assert.Equal(expected, new DashboardOptions { Urls = urls }.IsLoopbackOnly());
    }

    [Fact]
    public async Task HostStart_NonLoopbackWithoutCredentials_StopsWithTheValidationMessage()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection([new("FactoryEdge:Dashboard:Urls", "http://0.0.0.0:0")]);
        builder.Services.AddLogging();
        builder.Services.AddFactoryEdgeDashboard(builder.Configuration);
        using var host = builder.Build();

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("FactoryEdge:Dashboard:Urls binds a non-loopback address", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HostStart_UnknownKey_IsRefused()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection([new("FactoryEdge:Dashboard:Url", "http://127.0.0.1:0")]);
        builder.Services.AddLogging();
        builder.Services.AddFactoryEdgeDashboard(builder.Configuration);
        using var host = builder.Build();

        var ex = await Assert.ThrowsAnyAsync<InvalidOperationException>(() => host.StartAsync());

        Assert.Contains("Url", ex.Message, StringComparison.Ordinal);
    }
}
