using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using FactoryEdge.OpcUa.Encoding;
using FactoryEdge.OpcUa.Protocol;

namespace FactoryEdge.OpcUa.Security;

/// <summary>
/// The session-level proofs of OPC 10000-4 §5.6: the server signs the client's certificate and
/// nonce in CreateSession, the client signs the server's certificate and nonce in ActivateSession,
/// and user-name secrets travel encrypted as <c>length | password | server nonce</c>
/// (§7.41.2.3). For both sides.
/// </summary>
public static class SessionCrypto
{
    /// <summary>SignatureData over <paramref name="certificate"/> followed by <paramref name="nonce"/>, with our private key.</summary>
    public static SignatureData Sign(SecurityPolicy policy, X509Certificate2 localCertificate, ReadOnlySpan<byte> certificate, ReadOnlySpan<byte> nonce)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(localCertificate);
        using var key = localCertificate.GetRSAPrivateKey()
            ?? throw new ServiceResultException(StatusCodes.BadCertificateInvalid, "Our certificate has no RSA private key.");
        var data = Concat(certificate, nonce);
        return new SignatureData { Algorithm = policy.AsymmetricSignatureAlgorithm, Signature = policy.AsymmetricSign(key, data) };
    }

    /// <summary>Checks a SignatureData made by the peer over <paramref name="certificate"/> + <paramref name="nonce"/>.</summary>
    public static bool Verify(SecurityPolicy policy, X509Certificate2 remoteCertificate, SignatureData? signature, ReadOnlySpan<byte> certificate, ReadOnlySpan<byte> nonce)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(remoteCertificate);
        if (signature?.Signature is not { Length: > 0 } bytes)
        {
            return false;
        }

        if (!string.IsNullOrEmpty(signature.Algorithm) && signature.Algorithm != policy.AsymmetricSignatureAlgorithm)
        {
            return false;
        }

        using var key = remoteCertificate.GetRSAPublicKey();
        return key is not null && policy.AsymmetricVerify(key, Concat(certificate, nonce), bytes);
    }

    /// <summary>Encrypts a user-name secret for the server: <c>length | secret | server nonce</c>.</summary>
    public static byte[] EncryptSecret(SecurityPolicy policy, X509Certificate2 serverCertificate, ReadOnlySpan<byte> secret, ReadOnlySpan<byte> serverNonce)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(serverCertificate);
        var plain = new byte[4 + secret.Length + serverNonce.Length];
        BinaryPrimitives.WriteInt32LittleEndian(plain, secret.Length + serverNonce.Length);
        secret.CopyTo(plain.AsSpan(4));
        serverNonce.CopyTo(plain.AsSpan(4 + secret.Length));
        try
        {
            using var key = serverCertificate.GetRSAPublicKey()
                ?? throw new ServiceResultException(StatusCodes.BadCertificateInvalid, "The server certificate has no RSA key.");
            return policy.AsymmetricEncrypt(key, plain);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plain);
        }
    }

    /// <summary>
    /// Server side: decrypts a user-name secret and checks it ends with the nonce we sent. Throws
    /// BadIdentityTokenInvalid when it cannot be decrypted or the nonce differs.
    /// </summary>
    public static byte[] DecryptSecret(SecurityPolicy policy, X509Certificate2 localCertificate, ReadOnlySpan<byte> encrypted, ReadOnlySpan<byte> serverNonce)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(localCertificate);
        using var key = localCertificate.GetRSAPrivateKey()
            ?? throw new ServiceResultException(StatusCodes.BadCertificateInvalid, "Our certificate has no RSA private key.");
        var block = key.KeySize / 8;
        if (encrypted.Length == 0 || encrypted.Length % block != 0)
        {
            throw new ServiceResultException(StatusCodes.BadIdentityTokenInvalid, "The encrypted secret is not a whole number of RSA blocks.");
        }

        var plain = new byte[encrypted.Length];
        var length = 0;
        try
        {
            for (var i = 0; i < encrypted.Length; i += block)
            {
                if (!key.TryDecrypt(encrypted.Slice(i, block), plain.AsSpan(length), policy.AsymmetricEncryptionPadding, out var n))
                {
                    throw new ServiceResultException(StatusCodes.BadIdentityTokenInvalid, "The secret cannot be decrypted.");
                }

                length += n;
            }

            var declared = length >= 4 ? BinaryPrimitives.ReadInt32LittleEndian(plain) : -1;
            if (declared < serverNonce.Length || declared != length - 4 || !plain.AsSpan(4 + declared - serverNonce.Length, serverNonce.Length).SequenceEqual(serverNonce))
            {
                throw new ServiceResultException(StatusCodes.BadIdentityTokenInvalid, "The secret does not end with the server nonce of this session.");
            }

            return plain.AsSpan(4, declared - serverNonce.Length).ToArray();
        }
        catch (CryptographicException ex)
        {
            throw new ServiceResultException(StatusCodes.BadIdentityTokenInvalid, "The secret cannot be decrypted: " + ex.Message, ex);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plain);
        }
    }

    private static byte[] Concat(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        var data = new byte[a.Length + b.Length];
        a.CopyTo(data);
        b.CopyTo(data.AsSpan(a.Length));
        return data;
    }
}
