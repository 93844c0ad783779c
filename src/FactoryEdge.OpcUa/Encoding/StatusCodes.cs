using System.Collections.Frozen;
using System.Globalization;

namespace FactoryEdge.OpcUa.Encoding;

/// <summary>The status codes this stack uses or reports, with their names (OPC 10000-6 StatusCode.csv).</summary>
public static class StatusCodes
{
    public const uint Good = 0x00000000;
    public const uint BadUnexpectedError = 0x80010000;
    public const uint BadInternalError = 0x80020000;
    public const uint BadOutOfMemory = 0x80030000;
    public const uint BadCommunicationError = 0x80050000;
    public const uint BadEncodingError = 0x80060000;
    public const uint BadDecodingError = 0x80070000;
    public const uint BadEncodingLimitsExceeded = 0x80080000;
    public const uint BadRequestTooLarge = 0x80B80000;
    public const uint BadResponseTooLarge = 0x80B90000;
    public const uint BadTimeout = 0x800A0000;
    public const uint BadServiceUnsupported = 0x800B0000;
    public const uint BadShutdown = 0x800C0000;
    public const uint BadServerNotConnected = 0x800D0000;
    public const uint BadServerHalted = 0x800E0000;
    public const uint BadNothingToDo = 0x800F0000;
    public const uint BadTooManyOperations = 0x80100000;
    public const uint BadSecurityChecksFailed = 0x80130000;
    public const uint BadCertificateInvalid = 0x80120000;
    public const uint BadUserAccessDenied = 0x801F0000;
    public const uint BadIdentityTokenInvalid = 0x80200000;
    public const uint BadIdentityTokenRejected = 0x80210000;
    public const uint BadSecureChannelIdInvalid = 0x80220000;
    public const uint BadNonceInvalid = 0x80240000;
    public const uint BadSessionIdInvalid = 0x80250000;
    public const uint BadSessionClosed = 0x80260000;
    public const uint BadSessionNotActivated = 0x80270000;
    public const uint BadSubscriptionIdInvalid = 0x80280000;
    public const uint BadRequestHeaderInvalid = 0x802A0000;
    public const uint BadTimestampsToReturnInvalid = 0x802B0000;
    public const uint BadRequestCancelledByClient = 0x802C0000;
    public const uint BadNoCommunication = 0x80310000;
    public const uint BadWaitingForInitialData = 0x80320000;
    public const uint BadNodeIdInvalid = 0x80330000;
    public const uint BadNodeIdUnknown = 0x80340000;
    public const uint BadAttributeIdInvalid = 0x80350000;
    public const uint BadIndexRangeInvalid = 0x80360000;
    public const uint BadIndexRangeNoData = 0x80370000;
    public const uint BadDataEncodingInvalid = 0x80380000;
    public const uint BadDataEncodingUnsupported = 0x80390000;
    public const uint BadNotReadable = 0x803A0000;
    public const uint BadMonitoredItemIdInvalid = 0x80420000;
    public const uint BadMonitoredItemFilterUnsupported = 0x80440000;
    public const uint BadFilterNotAllowed = 0x80450000;
    public const uint BadContinuationPointInvalid = 0x804A0000;
    public const uint BadNoContinuationPoints = 0x804B0000;
    public const uint BadBrowseNameInvalid = 0x80600000;
    public const uint BadSecurityPolicyRejected = 0x80550000;
    public const uint BadTooManySessions = 0x80560000;
    public const uint BadApplicationSignatureInvalid = 0x80580000;
    public const uint BadNoMatch = 0x806F0000;
    public const uint BadTypeMismatch = 0x80740000;
    public const uint BadTooManySubscriptions = 0x80770000;
    public const uint BadTooManyPublishRequests = 0x80780000;
    public const uint BadNoSubscription = 0x80790000;
    public const uint BadSequenceNumberUnknown = 0x807A0000;
    public const uint BadMessageNotAvailable = 0x807B0000;
    public const uint BadTcpServerTooBusy = 0x807D0000;
    public const uint BadTcpMessageTypeInvalid = 0x807E0000;
    public const uint BadTcpSecureChannelUnknown = 0x807F0000;
    public const uint BadTcpMessageTooLarge = 0x80800000;
    public const uint BadTcpNotEnoughResources = 0x80810000;
    public const uint BadTcpInternalError = 0x80820000;
    public const uint BadTcpEndpointUrlInvalid = 0x80830000;
    public const uint BadRequestInterrupted = 0x80840000;
    public const uint BadRequestTimeout = 0x80850000;
    public const uint BadSecureChannelClosed = 0x80860000;
    public const uint BadSecureChannelTokenUnknown = 0x80870000;
    public const uint BadSequenceNumberInvalid = 0x80880000;
    public const uint BadProtocolVersionUnsupported = 0x80BE0000;
    public const uint BadNotConnected = 0x808A0000;
    public const uint BadDeadbandFilterInvalid = 0x808E0000;
    public const uint BadInvalidArgument = 0x80AB0000;
    public const uint BadConnectionClosed = 0x80AE0000;
    public const uint BadInvalidState = 0x80AF0000;
    public const uint BadTooManyMonitoredItems = 0x80DB0000;
    public const uint BadMaxAgeInvalid = 0x80700000;
    public const uint BadNotSupported = 0x803D0000;
    public const uint BadNotFound = 0x803E0000;
    public const uint BadOutOfRange = 0x803C0000;
    public const uint BadNotImplemented = 0x80400000;
    public const uint BadUserSignatureInvalid = 0x80570000;
    public const uint BadCertificateUntrusted = 0x801A0000;
    public const uint GoodSubscriptionTransferred = 0x002D0000;
    public const uint GoodNoData = 0x00A50000;
    public const uint GoodMoreData = 0x00A60000;
    public const uint UncertainInitialValue = 0x40920000;
    public const uint UncertainLastUsableValue = 0x40900000;
    public const uint UncertainNoCommunicationLastUsableValue = 0x408F0000;
    public const uint UncertainSensorNotAccurate = 0x40930000;
    public const uint UncertainEngineeringUnitsExceeded = 0x40940000;
    public const uint UncertainSubNormal = 0x40950000;
    public const uint GoodOverload = 0x002F0000;
    public const uint GoodClamped = 0x00300000;
    public const uint BadViewIdUnknown = 0x806B0000;
    public const uint BadNodeClassInvalid = 0x805F0000;
    public const uint BadReferenceTypeIdInvalid = 0x804C0000;
    public const uint BadBrowseDirectionInvalid = 0x804D0000;
    public const uint BadNodeNotInView = 0x804E0000;
    public const uint BadQueryTooComplex = 0x806E0000;
    public const uint BadSensorFailure = 0x808C0000;
    public const uint BadDeviceFailure = 0x808B0000;
    public const uint BadOutOfService = 0x808D0000;
    public const uint BadConfigurationError = 0x80890000;

    private static readonly FrozenDictionary<uint, string> Names = new Dictionary<uint, string>
    {
        [Good] = "Good",
        [BadUnexpectedError] = "BadUnexpectedError",
        [BadInternalError] = "BadInternalError",
        [BadOutOfMemory] = "BadOutOfMemory",
        [BadCommunicationError] = "BadCommunicationError",
        [BadEncodingError] = "BadEncodingError",
        [BadDecodingError] = "BadDecodingError",
        [BadEncodingLimitsExceeded] = "BadEncodingLimitsExceeded",
        [BadRequestTooLarge] = "BadRequestTooLarge",
        [BadResponseTooLarge] = "BadResponseTooLarge",
        [BadTimeout] = "BadTimeout",
        [BadServiceUnsupported] = "BadServiceUnsupported",
        [BadShutdown] = "BadShutdown",
        [BadServerNotConnected] = "BadServerNotConnected",
        [BadServerHalted] = "BadServerHalted",
        [BadNothingToDo] = "BadNothingToDo",
        [BadTooManyOperations] = "BadTooManyOperations",
        [BadSecurityChecksFailed] = "BadSecurityChecksFailed",
        [BadCertificateInvalid] = "BadCertificateInvalid",
        [BadUserAccessDenied] = "BadUserAccessDenied",
        [BadIdentityTokenInvalid] = "BadIdentityTokenInvalid",
        [BadIdentityTokenRejected] = "BadIdentityTokenRejected",
        [BadSecureChannelIdInvalid] = "BadSecureChannelIdInvalid",
        [BadNonceInvalid] = "BadNonceInvalid",
        [BadSessionIdInvalid] = "BadSessionIdInvalid",
        [BadSessionClosed] = "BadSessionClosed",
        [BadSessionNotActivated] = "BadSessionNotActivated",
        [BadSubscriptionIdInvalid] = "BadSubscriptionIdInvalid",
        [BadRequestHeaderInvalid] = "BadRequestHeaderInvalid",
        [BadTimestampsToReturnInvalid] = "BadTimestampsToReturnInvalid",
        [BadRequestCancelledByClient] = "BadRequestCancelledByClient",
        [BadNoCommunication] = "BadNoCommunication",
        [BadWaitingForInitialData] = "BadWaitingForInitialData",
        [BadNodeIdInvalid] = "BadNodeIdInvalid",
        [BadNodeIdUnknown] = "BadNodeIdUnknown",
        [BadAttributeIdInvalid] = "BadAttributeIdInvalid",
        [BadIndexRangeInvalid] = "BadIndexRangeInvalid",
        [BadIndexRangeNoData] = "BadIndexRangeNoData",
        [BadDataEncodingInvalid] = "BadDataEncodingInvalid",
        [BadDataEncodingUnsupported] = "BadDataEncodingUnsupported",
        [BadNotReadable] = "BadNotReadable",
        [BadMonitoredItemIdInvalid] = "BadMonitoredItemIdInvalid",
        [BadMonitoredItemFilterUnsupported] = "BadMonitoredItemFilterUnsupported",
        [BadFilterNotAllowed] = "BadFilterNotAllowed",
        [BadContinuationPointInvalid] = "BadContinuationPointInvalid",
        [BadNoContinuationPoints] = "BadNoContinuationPoints",
        [BadBrowseNameInvalid] = "BadBrowseNameInvalid",
        [BadSecurityPolicyRejected] = "BadSecurityPolicyRejected",
        [BadTooManySessions] = "BadTooManySessions",
        [BadApplicationSignatureInvalid] = "BadApplicationSignatureInvalid",
        [BadNoMatch] = "BadNoMatch",
        [BadTypeMismatch] = "BadTypeMismatch",
        [BadTooManySubscriptions] = "BadTooManySubscriptions",
        [BadTooManyPublishRequests] = "BadTooManyPublishRequests",
        [BadNoSubscription] = "BadNoSubscription",
        [BadSequenceNumberUnknown] = "BadSequenceNumberUnknown",
        [BadMessageNotAvailable] = "BadMessageNotAvailable",
        [BadTcpServerTooBusy] = "BadTcpServerTooBusy",
        [BadTcpMessageTypeInvalid] = "BadTcpMessageTypeInvalid",
        [BadTcpSecureChannelUnknown] = "BadTcpSecureChannelUnknown",
        [BadTcpMessageTooLarge] = "BadTcpMessageTooLarge",
        [BadTcpNotEnoughResources] = "BadTcpNotEnoughResources",
        [BadTcpInternalError] = "BadTcpInternalError",
        [BadTcpEndpointUrlInvalid] = "BadTcpEndpointUrlInvalid",
        [BadRequestInterrupted] = "BadRequestInterrupted",
        [BadRequestTimeout] = "BadRequestTimeout",
        [BadSecureChannelClosed] = "BadSecureChannelClosed",
        [BadSecureChannelTokenUnknown] = "BadSecureChannelTokenUnknown",
        [BadSequenceNumberInvalid] = "BadSequenceNumberInvalid",
        [BadProtocolVersionUnsupported] = "BadProtocolVersionUnsupported",
        [BadNotConnected] = "BadNotConnected",
        [BadDeadbandFilterInvalid] = "BadDeadbandFilterInvalid",
        [BadInvalidArgument] = "BadInvalidArgument",
        [BadConnectionClosed] = "BadConnectionClosed",
        [BadInvalidState] = "BadInvalidState",
        [BadTooManyMonitoredItems] = "BadTooManyMonitoredItems",
        [BadMaxAgeInvalid] = "BadMaxAgeInvalid",
        [BadNotSupported] = "BadNotSupported",
        [BadNotFound] = "BadNotFound",
        [BadOutOfRange] = "BadOutOfRange",
        [BadNotImplemented] = "BadNotImplemented",
        [BadUserSignatureInvalid] = "BadUserSignatureInvalid",
        [BadCertificateUntrusted] = "BadCertificateUntrusted",
        [GoodSubscriptionTransferred] = "GoodSubscriptionTransferred",
        [GoodNoData] = "GoodNoData",
        [GoodMoreData] = "GoodMoreData",
        [UncertainInitialValue] = "UncertainInitialValue",
        [UncertainLastUsableValue] = "UncertainLastUsableValue",
        [UncertainNoCommunicationLastUsableValue] = "UncertainNoCommunicationLastUsableValue",
        [UncertainSensorNotAccurate] = "UncertainSensorNotAccurate",
        [UncertainEngineeringUnitsExceeded] = "UncertainEngineeringUnitsExceeded",
        [UncertainSubNormal] = "UncertainSubNormal",
        [GoodOverload] = "GoodOverload",
        [GoodClamped] = "GoodClamped",
        [BadViewIdUnknown] = "BadViewIdUnknown",
        [BadNodeClassInvalid] = "BadNodeClassInvalid",
        [BadReferenceTypeIdInvalid] = "BadReferenceTypeIdInvalid",
        [BadBrowseDirectionInvalid] = "BadBrowseDirectionInvalid",
        [BadNodeNotInView] = "BadNodeNotInView",
        [BadQueryTooComplex] = "BadQueryTooComplex",
        [BadSensorFailure] = "BadSensorFailure",
        [BadDeviceFailure] = "BadDeviceFailure",
        [BadOutOfService] = "BadOutOfService",
        [BadConfigurationError] = "BadConfigurationError",
    }.ToFrozenDictionary();

    /// <summary>The symbolic name of a code (info bits ignored), or its hexadecimal value.</summary>
    public static string Name(uint code)
    {
        if (Names.TryGetValue(code & 0xFFFF0000, out var name))
        {
            return name;
        }

        var severity = (code & 0xC0000000) switch
        {
            0 => "Good",
            0x40000000 => "Uncertain",
            _ => "Bad",
        };
        return string.Create(CultureInfo.InvariantCulture, $"{severity}(0x{code:X8})");
    }
}
