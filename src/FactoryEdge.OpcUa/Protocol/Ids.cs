namespace FactoryEdge.OpcUa.Protocol;

/// <summary>Binary encoding ids (Default Binary) of the structures this stack reads and writes (NodeIds.csv).</summary>
public static class EncodingIds
{
    public const uint ServiceFault = 397;
    public const uint AnonymousIdentityToken = 321;
    public const uint UserNameIdentityToken = 324;
    public const uint GetEndpointsRequest = 428;
    public const uint GetEndpointsResponse = 431;
    public const uint OpenSecureChannelRequest = 446;
    public const uint OpenSecureChannelResponse = 449;
    public const uint CloseSecureChannelRequest = 452;
    public const uint CloseSecureChannelResponse = 455;
    public const uint CreateSessionRequest = 461;
    public const uint CreateSessionResponse = 464;
    public const uint ActivateSessionRequest = 467;
    public const uint ActivateSessionResponse = 470;
    public const uint CloseSessionRequest = 473;
    public const uint CloseSessionResponse = 476;
    public const uint BrowseRequest = 527;
    public const uint BrowseResponse = 530;
    public const uint BrowseNextRequest = 533;
    public const uint BrowseNextResponse = 536;
    public const uint TranslateBrowsePathsToNodeIdsRequest = 554;
    public const uint TranslateBrowsePathsToNodeIdsResponse = 557;
    public const uint ReadRequest = 631;
    public const uint ReadResponse = 634;
    public const uint DataChangeFilter = 724;
    public const uint CreateMonitoredItemsRequest = 751;
    public const uint CreateMonitoredItemsResponse = 754;
    public const uint DeleteMonitoredItemsRequest = 781;
    public const uint DeleteMonitoredItemsResponse = 784;
    public const uint CreateSubscriptionRequest = 787;
    public const uint CreateSubscriptionResponse = 790;
    public const uint DataChangeNotification = 811;
    public const uint StatusChangeNotification = 820;
    public const uint PublishRequest = 826;
    public const uint PublishResponse = 829;
    public const uint RepublishRequest = 832;
    public const uint RepublishResponse = 835;
    public const uint TransferSubscriptionsRequest = 841;
    public const uint TransferSubscriptionsResponse = 844;
    public const uint DeleteSubscriptionsRequest = 847;
    public const uint DeleteSubscriptionsResponse = 850;
    public const uint Range = 886;
    public const uint EUInformation = 889;
    public const uint EventNotificationList = 916;
}

/// <summary>Well-known nodes of namespace 0 (NodeIds.csv).</summary>
public static class WellKnownNodes
{
    public const uint RootFolder = 84;
    public const uint ObjectsFolder = 85;
    public const uint Server = 2253;
    public const uint NamespaceArray = 2255;
    public const uint ServerStatusState = 2259;
    public const uint ServerStatusCurrentTime = 2258;
    public const uint MaxArrayLength = 11702;
    public const uint MaxStringLength = 11703;
    public const uint MaxNodesPerRead = 11705;
    public const uint MaxNodesPerBrowse = 11710;
    public const uint MaxNodesPerTranslateBrowsePathsToNodeIds = 11712;
    public const uint MaxMonitoredItemsPerCall = 11714;
    public const uint References = 31;
    public const uint HierarchicalReferences = 33;
    public const uint HasChild = 34;
    public const uint Organizes = 35;
    public const uint HasTypeDefinition = 40;
    public const uint Aggregates = 44;
    public const uint HasProperty = 46;
    public const uint HasComponent = 47;
}

/// <summary>Attribute ids (OPC 10000-6 Annex A.1).</summary>
public static class AttributeIds
{
    public const uint NodeId = 1;
    public const uint NodeClass = 2;
    public const uint BrowseName = 3;
    public const uint DisplayName = 4;
    public const uint Description = 5;
    public const uint Value = 13;
    public const uint DataType = 14;
    public const uint ValueRank = 15;
    public const uint ArrayDimensions = 16;
    public const uint AccessLevel = 17;
    public const uint MinimumSamplingInterval = 19;
}

public enum MessageSecurityMode
{
    Invalid = 0,
    None = 1,
    Sign = 2,
    SignAndEncrypt = 3,
}

public enum SecurityTokenRequestType
{
    Issue = 0,
    Renew = 1,
}

public enum TimestampsToReturn
{
    Source = 0,
    Server = 1,
    Both = 2,
    Neither = 3,
}

public enum BrowseDirection
{
    Forward = 0,
    Inverse = 1,
    Both = 2,
}

[Flags]
public enum NodeClass
{
    Unspecified = 0,
    Object = 1,
    Variable = 2,
    Method = 4,
    ObjectType = 8,
    VariableType = 16,
    ReferenceType = 32,
    DataType = 64,
    View = 128,
}

public enum MonitoringMode
{
    Disabled = 0,
    Sampling = 1,
    Reporting = 2,
}

public enum UserTokenType
{
    Anonymous = 0,
    UserName = 1,
    Certificate = 2,
    IssuedToken = 3,
}

public enum ApplicationType
{
    Server = 0,
    Client = 1,
    ClientAndServer = 2,
    DiscoveryServer = 3,
}

public enum DataChangeTrigger
{
    Status = 0,
    StatusValue = 1,
    StatusValueTimestamp = 2,
}

public enum DeadbandType
{
    None = 0,
    Absolute = 1,
    Percent = 2,
}

/// <summary>Security policy URIs (OPC 10000-7).</summary>
public static class SecurityPolicyUris
{
    public const string None = "http://opcfoundation.org/UA/SecurityPolicy#None";
}

/// <summary>Transport profile URIs.</summary>
public static class TransportProfileUris
{
    public const string UaTcp = "http://opcfoundation.org/UA-Profile/Transport/uatcp-uasc-uabinary";
}
