using System.Net;
using FactoryEdge.OpcUa.Protocol;
using FactoryEdge.OpcUa.SecureChannel;
using FactoryEdge.OpcUa.Transport;

namespace FactoryEdge.OpcUa.Server;

/// <summary>
/// A security policy and mode the server offers as an endpoint, and how it makes the channel security
/// for a client that opens a channel with it (the policy from the OPN's asymmetric header; the
/// client's certificate from the same header).
/// </summary>
public sealed record ServerSecurityEndpoint(string PolicyUri, MessageSecurityMode Mode, byte SecurityLevel, Func<byte[]?, MessageSecurityMode, IChannelSecurity> CreateSecurity)
{
    /// <summary>SecurityPolicy None.</summary>
    public static ServerSecurityEndpoint None { get; } = new(SecurityPolicyUris.None, MessageSecurityMode.None, 0, static (_, _) => new NoneChannelSecurity());
}

/// <summary>Settings of <see cref="UaServer"/>.</summary>
public sealed record UaServerOptions
{
    public IPAddress Address { get; init; } = IPAddress.Loopback;

    /// <summary>TCP port; 0 lets the kernel pick one (see <see cref="UaServer.Port"/>).</summary>
    public int Port { get; init; } = 4840;

    /// <summary>The host name in the endpoint URL the server advertises (default: the bind address).</summary>
    public string? HostName { get; init; }

    public string ApplicationUri { get; init; } = "urn:factoryedge:server";

    public string ProductUri { get; init; } = "urn:factoryedge";

    public string ApplicationName { get; init; } = "FactoryEdge OPC UA server";

    /// <summary>The server's certificate (DER), advertised in endpoints and CreateSession; null without security.</summary>
    public byte[]? Certificate { get; init; }

    /// <summary>Signs the client's certificate and nonce for CreateSession's ServerSignature (secure endpoints only): (policy URI, client certificate, client nonce) → signature.</summary>
    public Func<string, byte[], byte[], SignatureData>? SignSession { get; init; }

    /// <summary>
    /// Checks ActivateSession's ClientSignature on secure channels: (policy URI, client certificate from
    /// CreateSession, signature, server nonce) → valid. Null: not checked.
    /// </summary>
    public Func<string, byte[], SignatureData, byte[], bool>? VerifyClientSignature { get; init; }

    /// <summary>The endpoints offered, None first by default.</summary>
    public IReadOnlyList<ServerSecurityEndpoint> Endpoints { get; init; } = [ServerSecurityEndpoint.None];

    /// <summary>What we accept from clients and offer in Acknowledge.</summary>
    public TransportLimits Limits { get; init; } = new();

    public int MaxConnections { get; init; } = 64;

    public int MaxSessions { get; init; } = 50;

    public int MaxSubscriptionsPerSession { get; init; } = 20;

    public int MaxMonitoredItemsPerSubscription { get; init; } = 10_000;

    /// <summary>OperationLimits published in the address space and enforced (BadTooManyOperations).</summary>
    public uint MaxNodesPerRead { get; init; } = 10_000;

    public uint MaxNodesPerBrowse { get; init; } = 1_000;

    public uint MaxMonitoredItemsPerCall { get; init; } = 1_000;

    /// <summary>Fastest publishing interval granted, in ms.</summary>
    public double MinPublishingIntervalMs { get; init; } = 10;

    public double MaxPublishingIntervalMs { get; init; } = 60_000;

    /// <summary>Fastest sampling interval granted for items on nodes without their own minimum, in ms.</summary>
    public double MinSamplingIntervalMs { get; init; } = 1;

    public uint MaxQueueSize { get; init; } = 1_000;

    /// <summary>Publish requests a session may park; one more answers the oldest with BadTooManyPublishRequests.</summary>
    public int MaxPublishRequestsPerSession { get; init; } = 20;

    /// <summary>Notification messages a subscription keeps for Republish until acknowledged.</summary>
    public int MaxRetransmissionQueue { get; init; } = 100;

    public double MinSessionTimeoutMs { get; init; } = 10_000;

    public double MaxSessionTimeoutMs { get; init; } = 3_600_000;

    /// <summary>Bounds of a security token's lifetime, in ms.</summary>
    public uint MinTokenLifetimeMs { get; init; } = 10_000;

    public uint MaxTokenLifetimeMs { get; init; } = 3_600_000;

    /// <summary>A connection that sends no Hello within this time is closed.</summary>
    public TimeSpan HelloTimeout { get; init; } = TimeSpan.FromSeconds(10);

    public string EndpointUrl(int port) => $"opc.tcp://{HostName ?? FormatHost(Address)}:{port}";

    private static string FormatHost(IPAddress address) =>
        address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) ? Dns.GetHostName()
        : address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? "[" + address + "]"
        : address.ToString();
}
