using System.Security.Cryptography.X509Certificates;
using MQTTnet;
using MQTTnet.Protocol;

namespace FactoryEdge.Alerts;

/// <summary>The MQTT client behind a small seam: MQTTnet in production, a fake in unit tests.</summary>
internal interface IMqttAlertTransport : IAsyncDisposable
{
    bool IsConnected { get; }

    Task ConnectAsync(CancellationToken cancellationToken);

    /// <summary>Publishes at QoS 1; true once the broker acknowledged it (PUBACK with success).</summary>
    Task<bool> PublishAsync(string topic, ReadOnlyMemory<byte> payload, bool retain, CancellationToken cancellationToken);
}

/// <summary>MQTTnet client: TCP_NODELAY, QoS 1, optional TLS with user/password or a client certificate.</summary>
internal sealed class MqttNetTransport : IMqttAlertTransport
{
    private readonly IMqttClient _client;
    private readonly MqttClientOptions _options;
    private readonly X509Certificate2? _certificate;

    /// <param name="options">Broker, credentials, TLS.</param>
    /// <param name="clientIdSuffix">Appended to the client id (a second connection, e.g. for commands).</param>
    public MqttNetTransport(MqttAlertOptions options, string clientIdSuffix = "")
    {
        _client = new MqttClientFactory().CreateMqttClient();
        var clientId = (string.IsNullOrEmpty(options.ClientId) ? "factoryedge-" + Environment.MachineName : options.ClientId) + clientIdSuffix;
        var builder = new MqttClientOptionsBuilder()
            .WithTcpServer(options.Host, options.Port)
            .WithClientId(clientId)
            .WithCleanSession(true)
            .WithKeepAlivePeriod(options.KeepAlive)
            .WithTimeout(TimeSpan.FromSeconds(10));
        if (!string.IsNullOrEmpty(options.Username))
        {
            builder.WithCredentials(options.Username, options.Password ?? "");
        }

        if (options.UseTls)
        {
            if (!string.IsNullOrEmpty(options.ClientCertificatePath))
            {
                _certificate = X509CertificateLoader.LoadPkcs12FromFile(options.ClientCertificatePath, options.ClientCertificatePassword);
            }

            var certificate = _certificate;
            builder.WithTlsOptions(tls =>
            {
                tls.UseTls(true);
                if (options.AllowUntrustedCertificates)
                {
                    tls.WithAllowUntrustedCertificates(true)
                        .WithIgnoreCertificateChainErrors(true)
                        .WithCertificateValidationHandler(static _ => true);
                }

                if (certificate is not null)
                {
                    tls.WithClientCertificates([certificate]);
                }
            });
        }

        _options = builder.Build();

        // With Nagle on, a PUBACK waits tens of milliseconds behind delayed ACKs.
        if (_options.ChannelOptions is MqttClientTcpOptions tcp)
        {
            tcp.NoDelay = true;
        }
    }

    public bool IsConnected => _client.IsConnected;

    /// <summary>The MQTTnet client (subscriptions of the command service).</summary>
    public IMqttClient Client => _client;

    public async Task ConnectAsync(CancellationToken cancellationToken)
    {
        var result = await _client.ConnectAsync(_options, cancellationToken).ConfigureAwait(false);
        if (result.ResultCode != MqttClientConnectResultCode.Success)
        {
            throw new InvalidOperationException($"The broker refused the connection: {result.ResultCode} {result.ReasonString}");
        }
    }

    public async Task<bool> PublishAsync(string topic, ReadOnlyMemory<byte> payload, bool retain, CancellationToken cancellationToken)
    {
        var message = new MqttApplicationMessageBuilder()
            .WithTopic(topic)
            .WithPayload(payload.ToArray())
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .WithRetainFlag(retain)
            .WithContentType("application/json")
            .Build();
        var result = await _client.PublishAsync(message, cancellationToken).ConfigureAwait(false);
        return result.IsSuccess;
    }

    public async ValueTask DisposeAsync()
    {
        if (_client.IsConnected)
        {
            try
            {
                await _client.DisconnectAsync(new MqttClientDisconnectOptions(), CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is MQTTnet.Exceptions.MqttCommunicationException or OperationCanceledException or ObjectDisposedException)
            {
                // The broker is gone already.
            }
        }

        _client.Dispose();
        _certificate?.Dispose();
    }
}
