using System.Buffers.Binary;
using FactoryEdge.OpcUa.Encoding;
using FactoryEdge.OpcUa.Protocol;

namespace FactoryEdge.OpcUa.SecureChannel;

/// <summary>
/// The security layer of a secure channel (OPC 10000-6 §6.7): what goes in the asymmetric header,
/// the nonces and keys of each token, and how a chunk is signed and encrypted (or checked and
/// decrypted). The chunker lays out every chunk as
/// <c>[message header][channel id][security header][sequence header + body][padding][signature]</c>
/// and calls <see cref="Protect"/> / <see cref="Unprotect"/> on it; SecurityPolicy None does nothing,
/// Sign and SignAndEncrypt policies (a later issue) implement the same interface. One instance per
/// channel; both client and server use it.
/// </summary>
public interface IChannelSecurity
{
    string SecurityPolicyUri { get; }

    MessageSecurityMode SecurityMode { get; }

    /// <summary>Our certificate (DER) for the asymmetric header; null for None.</summary>
    byte[]? LocalCertificate { get; }

    /// <summary>SHA-1 thumbprint of the peer's certificate for the asymmetric header; null for None.</summary>
    byte[]? RemoteCertificateThumbprint { get; }

    /// <summary>A fresh nonce for OpenSecureChannel (empty for None).</summary>
    byte[] CreateNonce();

    /// <summary>A token was issued or renewed: derive its keys from both nonces.</summary>
    void OnTokenIssued(uint tokenId, ReadOnlySpan<byte> clientNonce, ReadOnlySpan<byte> serverNonce);

    /// <summary>Checks the asymmetric header of a received OPN chunk (policy, certificate, thumbprint).</summary>
    void CheckAsymmetricHeader(string? securityPolicyUri, ReadOnlySpan<byte> senderCertificate, ReadOnlySpan<byte> receiverThumbprint);

    /// <summary>How many bytes of plaintext (sequence header + body) fit in a chunk of <paramref name="chunkSize"/> after a header of <paramref name="headerSize"/>.</summary>
    int MaxPlainTextSize(int chunkSize, int headerSize, bool asymmetric);

    /// <summary>
    /// Secures a chunk in place: <paramref name="chunk"/> holds the headers (<paramref name="headerSize"/>
    /// bytes, message size not yet final) followed by <paramref name="plainTextSize"/> bytes of plaintext,
    /// with room up to its length. Writes the final chunk size into the message header (offset 4)
    /// before signing, and returns it.
    /// </summary>
    int Protect(Span<byte> chunk, int headerSize, int plainTextSize, bool asymmetric, uint tokenId);

    /// <summary>Verifies (and decrypts) a received chunk in place; returns the plaintext size after <paramref name="headerSize"/>.</summary>
    int Unprotect(Span<byte> chunk, int headerSize, bool asymmetric, uint tokenId);
}

/// <summary>SecurityPolicy None: no signature, no encryption, empty nonces.</summary>
public sealed class NoneChannelSecurity : IChannelSecurity
{
    public string SecurityPolicyUri => SecurityPolicyUris.None;

    public MessageSecurityMode SecurityMode => MessageSecurityMode.None;

    public byte[]? LocalCertificate => null;

    public byte[]? RemoteCertificateThumbprint => null;

    public byte[] CreateNonce() => [];

    public void OnTokenIssued(uint tokenId, ReadOnlySpan<byte> clientNonce, ReadOnlySpan<byte> serverNonce)
    {
    }

    public void CheckAsymmetricHeader(string? securityPolicyUri, ReadOnlySpan<byte> senderCertificate, ReadOnlySpan<byte> receiverThumbprint)
    {
        if (!string.Equals(securityPolicyUri, SecurityPolicyUris.None, StringComparison.Ordinal))
        {
            throw new ServiceResultException(StatusCodes.BadSecurityPolicyRejected, $"Security policy '{securityPolicyUri}' does not match the channel's ({SecurityPolicyUris.None}).");
        }
    }

    public int MaxPlainTextSize(int chunkSize, int headerSize, bool asymmetric) => chunkSize - headerSize;

    public int Protect(Span<byte> chunk, int headerSize, int plainTextSize, bool asymmetric, uint tokenId)
    {
        var size = headerSize + plainTextSize;
        BinaryPrimitives.WriteInt32LittleEndian(chunk[4..], size);
        return size;
    }

    public int Unprotect(Span<byte> chunk, int headerSize, bool asymmetric, uint tokenId) => chunk.Length - headerSize;
}
