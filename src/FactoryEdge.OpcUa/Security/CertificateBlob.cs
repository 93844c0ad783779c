using System.Formats.Asn1;
using FactoryEdge.OpcUa.Encoding;
using FactoryEdge.OpcUa.Protocol;

namespace FactoryEdge.OpcUa.Security;

/// <summary>
/// Certificate fields of OPC UA may hold a chain: DER certificates back to back, the application's
/// first (OPC 10000-6 §6.2.6). These helpers split such a blob.
/// </summary>
public static class CertificateBlob
{
    /// <summary>The first DER certificate of a blob.</summary>
    public static ReadOnlySpan<byte> FirstCertificate(ReadOnlySpan<byte> blob)
    {
        try
        {
            AsnDecoder.ReadEncodedValue(blob, AsnEncodingRules.DER, out _, out _, out var consumed);
            return blob[..consumed];
        }
        catch (AsnContentException ex)
        {
            throw new ServiceResultException(StatusCodes.BadCertificateInvalid, "The certificate is not DER: " + ex.Message, ex);
        }
    }

    /// <summary>All DER certificates of a blob, in order.</summary>
    public static List<byte[]> Split(ReadOnlySpan<byte> blob)
    {
        var list = new List<byte[]>();
        while (!blob.IsEmpty)
        {
            var first = FirstCertificate(blob);
            list.Add(first.ToArray());
            blob = blob[first.Length..];
        }

        return list;
    }
}
