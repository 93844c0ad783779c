namespace FactoryEdge.Gateway.Tests;

/// <summary><c>demo --mqtt mqtt://HOST:PORT</c>: parsed into the FactoryEdge:Alerts:Mqtt keys that also configure <c>run</c>.</summary>
public sealed class DemoMqttOptionTests
{
    [Theory]
    [InlineData("mqtt://127.0.0.1:1883")]
    [InlineData("mqtts://edge:pw@broker.plant.local/plant1/alerts")]
    public void Parse_DemoWithMqttUrl_NoErrors(string url)
    {
        var result = Program.BuildCommandLine().Parse(["demo", "--mqtt", url, "--duration", "1"]);
        Assert.Empty(result.Errors);
        Assert.Equal(url, result.GetValue<string?>("--mqtt"));
    }

    [Theory]
    [InlineData("http://127.0.0.1:1883")]
    [InlineData("127.0.0.1:1883")]
    public void Parse_DemoWithBadMqttUrl_ErrorNamesOption(string url)
    {
        var result = Program.BuildCommandLine().Parse(["demo", "--mqtt", url]);
        var error = Assert.Single(result.Errors);
        Assert.Contains("--mqtt", error.Message, StringComparison.Ordinal);
    }
}
