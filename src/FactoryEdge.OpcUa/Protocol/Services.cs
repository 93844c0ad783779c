using FactoryEdge.OpcUa.Encoding;

namespace FactoryEdge.OpcUa.Protocol;

/// <summary>A service request: it carries a <see cref="Protocol.RequestHeader"/>.</summary>
public interface IServiceRequest : IEncodeable
{
    RequestHeader RequestHeader { get; set; }
}

/// <summary>A service response (or a ServiceFault): it carries a <see cref="Protocol.ResponseHeader"/>.</summary>
public interface IServiceResponse : IEncodeable
{
    ResponseHeader ResponseHeader { get; set; }
}

/// <summary>
/// A service, the channel or the transport failed with an OPC UA status code (a ServiceFault, a bad
/// ServiceResult, an ERR message, a timeout, a lost connection).
/// </summary>
public sealed class ServiceResultException : Exception
{
    public ServiceResultException(uint statusCode, string message)
        : base(message)
    {
        StatusCode = statusCode;
    }

    public ServiceResultException(uint statusCode, string message, Exception innerException)
        : base(message, innerException)
    {
        StatusCode = statusCode;
    }

    public ServiceResultException()
        : this(StatusCodes.BadUnexpectedError, "Unexpected error.")
    {
    }

    public ServiceResultException(string message)
        : this(StatusCodes.BadUnexpectedError, message)
    {
    }

    public ServiceResultException(string message, Exception innerException)
        : this(StatusCodes.BadUnexpectedError, message, innerException)
    {
    }

    public uint StatusCode { get; }

    /// <summary>The symbolic name of <see cref="StatusCode"/>.</summary>
    public string StatusName => StatusCodes.Name(StatusCode);

    /// <summary>True when the failure is the connection's (the channel must be reopened), not the request's.</summary>
    public bool IsConnectionFailure => (StatusCode & 0xFFFF0000) is StatusCodes.BadConnectionClosed or StatusCodes.BadNotConnected
        or StatusCodes.BadSecureChannelClosed or StatusCodes.BadCommunicationError or StatusCodes.BadTimeout
        or StatusCodes.BadSecureChannelIdInvalid or StatusCodes.BadTcpInternalError or StatusCodes.BadServerHalted
        or StatusCodes.BadTcpSecureChannelUnknown or StatusCodes.BadSecureChannelTokenUnknown or StatusCodes.BadRequestTimeout
        or StatusCodes.BadDecodingError or StatusCodes.BadEncodingLimitsExceeded or StatusCodes.BadTcpMessageTooLarge
        or StatusCodes.BadShutdown or StatusCodes.BadSequenceNumberInvalid or StatusCodes.BadSecurityChecksFailed;
}
