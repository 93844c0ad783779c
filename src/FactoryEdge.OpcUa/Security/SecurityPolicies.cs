using System.Security.Cryptography;
using FactoryEdge.OpcUa.Encoding;
using FactoryEdge.OpcUa.Protocol;

namespace FactoryEdge.OpcUa.Security;

/// <summary>
/// The algorithms and key lengths of one security policy (OPC 10000-7 profiles, OPC 10000-6 §6.7):
/// RSA for OpenSecureChannel (OAEP encryption, PKCS#1 v1.5 or PSS signatures, SHA-256), P_SHA256 key
/// derivation, AES-CBC and HMAC-SHA256 for messages. Immutable; one instance per policy.
/// </summary>
public sealed class SecurityPolicy
{
    private const string RsaSha256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
    private const string RsaPssSha256 = "http://opcfoundation.org/UA/security/rsa-pss-sha2-256";
    private const string RsaOaep = "http://www.w3.org/2001/04/xmlenc#rsa-oaep";
    private const string RsaOaepSha256 = "http://opcfoundation.org/UA/security/rsa-oaep-sha2-256";

    private SecurityPolicy(string name, int strength, int encryptionKeyLength, bool oaepSha256, bool pss)
    {
        Name = name;
        Uri = "http://opcfoundation.org/UA/SecurityPolicy#" + name;
        Strength = strength;
        EncryptionKeyLength = encryptionKeyLength;
        AsymmetricEncryptionPadding = oaepSha256 ? RSAEncryptionPadding.OaepSHA256 : RSAEncryptionPadding.OaepSHA1;
        OaepOverhead = oaepSha256 ? 66 : 42;
        AsymmetricSignaturePadding = pss ? RSASignaturePadding.Pss : RSASignaturePadding.Pkcs1;
        AsymmetricSignatureAlgorithm = pss ? RsaPssSha256 : RsaSha256;
        AsymmetricEncryptionAlgorithm = oaepSha256 ? RsaOaepSha256 : RsaOaep;
    }

    /// <summary>Basic256Sha256: OAEP-SHA1, PKCS#1 v1.5 SHA-256 signatures, AES-256-CBC.</summary>
    public static SecurityPolicy Basic256Sha256 { get; } = new("Basic256Sha256", 1, 32, oaepSha256: false, pss: false);

    /// <summary>Aes128_Sha256_RsaOaep: OAEP-SHA1, PKCS#1 v1.5 SHA-256 signatures, AES-128-CBC.</summary>
    public static SecurityPolicy Aes128Sha256RsaOaep { get; } = new("Aes128_Sha256_RsaOaep", 2, 16, oaepSha256: false, pss: false);

    /// <summary>Aes256_Sha256_RsaPss: OAEP-SHA256, PSS SHA-256 signatures, AES-256-CBC.</summary>
    public static SecurityPolicy Aes256Sha256RsaPss { get; } = new("Aes256_Sha256_RsaPss", 3, 32, oaepSha256: true, pss: true);

    /// <summary>The policies we implement, weakest first.</summary>
    public static IReadOnlyList<SecurityPolicy> All { get; } = [Basic256Sha256, Aes128Sha256RsaOaep, Aes256Sha256RsaPss];

    /// <summary>Short name, e.g. <c>Basic256Sha256</c>.</summary>
    public string Name { get; }

    /// <summary><c>http://opcfoundation.org/UA/SecurityPolicy#NAME</c>.</summary>
    public string Uri { get; }

    /// <summary>Our ranking when choosing among a server's endpoints (higher is preferred).</summary>
    public int Strength { get; }

    public RSAEncryptionPadding AsymmetricEncryptionPadding { get; }

    /// <summary>Bytes an OAEP block loses to padding: 42 (SHA-1) or 66 (SHA-256).</summary>
    public int OaepOverhead { get; }

    public RSASignaturePadding AsymmetricSignaturePadding { get; }

    /// <summary>Algorithm URI of the asymmetric signature (SignatureData.Algorithm in ActivateSession / CreateSession).</summary>
    public string AsymmetricSignatureAlgorithm { get; }

    /// <summary>Algorithm URI of the asymmetric encryption (encrypted user token secrets).</summary>
    public string AsymmetricEncryptionAlgorithm { get; }

    /// <summary>Derived signing key length (HMAC-SHA256 key): 32 bytes.</summary>
    public int SigningKeyLength => 32;

    /// <summary>Derived AES key length: 32 (AES-256) or 16 (AES-128).</summary>
    public int EncryptionKeyLength { get; }

    /// <summary>AES block and initialization vector size.</summary>
    public int BlockSize => 16;

    /// <summary>HMAC-SHA256 signature size.</summary>
    public int SymmetricSignatureSize => 32;

    /// <summary>Length of the OpenSecureChannel nonces.</summary>
    public int NonceLength => 32;

    public int MinimumKeySize => 2048;

    public int MaximumKeySize => 4096;

    /// <summary>Finds a policy by URI or short name (case-insensitive); null for None or an unknown one.</summary>
    public static SecurityPolicy? Find(string? uriOrName)
    {
        if (string.IsNullOrEmpty(uriOrName))
        {
            return null;
        }

        foreach (var policy in All)
        {
            if (string.Equals(policy.Uri, uriOrName, StringComparison.Ordinal) || string.Equals(policy.Name, uriOrName, StringComparison.OrdinalIgnoreCase))
            {
                return policy;
            }
        }

        return null;
    }

    /// <summary>The short name of a policy URI (the part after '#'), for messages.</summary>
    public static string ShortName(string? uri) =>
        uri is null ? "(none)" : uri.Contains('#', StringComparison.Ordinal) ? uri[(uri.IndexOf('#', StringComparison.Ordinal) + 1)..] : uri;

    /// <summary>Signs <paramref name="data"/> with the policy's asymmetric signature.</summary>
    public byte[] AsymmetricSign(RSA key, ReadOnlySpan<byte> data)
    {
        ArgumentNullException.ThrowIfNull(key);
        var signature = new byte[key.KeySize / 8];
        if (!key.TrySignData(data, signature, HashAlgorithmName.SHA256, AsymmetricSignaturePadding, out var written) || written != signature.Length)
        {
            throw new ServiceResultException(StatusCodes.BadSecurityChecksFailed, "Signing failed.");
        }

        return signature;
    }

    /// <summary>Checks an asymmetric signature made with this policy.</summary>
    public bool AsymmetricVerify(RSA key, ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature)
    {
        ArgumentNullException.ThrowIfNull(key);
        return key.VerifyData(data, signature, HashAlgorithmName.SHA256, AsymmetricSignaturePadding);
    }

    /// <summary>Encrypts <paramref name="data"/> in as many OAEP blocks as it needs (for user token secrets).</summary>
    public byte[] AsymmetricEncrypt(RSA key, ReadOnlySpan<byte> data)
    {
        ArgumentNullException.ThrowIfNull(key);
        var cipherBlock = key.KeySize / 8;
        var plainBlock = cipherBlock - OaepOverhead;
        var blocks = Math.Max(1, (data.Length + plainBlock - 1) / plainBlock);
        var output = new byte[blocks * cipherBlock];
        for (var i = 0; i < blocks; i++)
        {
            var part = data.Slice(i * plainBlock, Math.Min(plainBlock, data.Length - (i * plainBlock)));
            if (!key.TryEncrypt(part, output.AsSpan(i * cipherBlock, cipherBlock), AsymmetricEncryptionPadding, out var written) || written != cipherBlock)
            {
                throw new ServiceResultException(StatusCodes.BadSecurityChecksFailed, "RSA encryption failed.");
            }
        }

        return output;
    }

    public override string ToString() => Name;
}

/// <summary>P_SHA256 of RFC 5246 §5, the key derivation of OPC 10000-6 §6.7.5.</summary>
public static class PSha256
{
    /// <summary>Derives <paramref name="length"/> bytes from <paramref name="secret"/> and <paramref name="seed"/>.</summary>
    public static byte[] Derive(ReadOnlySpan<byte> secret, ReadOnlySpan<byte> seed, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        var output = new byte[length];
        Span<byte> a = stackalloc byte[32];
        Span<byte> block = stackalloc byte[32];
        var input = new byte[32 + seed.Length];
        seed.CopyTo(input.AsSpan(32));

        // A(1) = HMAC(secret, seed); block i = HMAC(secret, A(i) + seed); A(i+1) = HMAC(secret, A(i)).
        HMACSHA256.HashData(secret, seed, a);
        var at = 0;
        while (at < length)
        {
            a.CopyTo(input);
            HMACSHA256.HashData(secret, input, block);
            var n = Math.Min(32, length - at);
            block[..n].CopyTo(output.AsSpan(at));
            at += n;
            HMACSHA256.HashData(secret, a, a);
        }

        return output;
    }
}
