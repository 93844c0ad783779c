using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using FactoryEdge.OpcUa.Encoding;
using FactoryEdge.OpcUa.Protocol;

namespace FactoryEdge.OpcUa.Client;

/// <summary>Who the session acts for: anonymous, or a user name and password.</summary>
public sealed record UserIdentity
{
    private UserIdentity(UserTokenType type, string? userName, string? password)
    {
        TokenType = type;
        UserName = userName;
        Password = password;
    }

    public static UserIdentity Anonymous { get; } = new(UserTokenType.Anonymous, null, null);

    public static UserIdentity FromUserName(string userName, string password)
    {
        ArgumentException.ThrowIfNullOrEmpty(userName);
        ArgumentNullException.ThrowIfNull(password);
        return new UserIdentity(UserTokenType.UserName, userName, password);
    }

    public UserTokenType TokenType { get; }

    public string? UserName { get; }

    /// <summary>Never logged; <see cref="ToString"/> leaves it out.</summary>
    public string? Password { get; }

    public override string ToString() => TokenType == UserTokenType.Anonymous ? "anonymous" : "user " + UserName;

    /// <summary>
    /// Builds the identity token for ActivateSession from the server's token policies. A user name
    /// token goes in clear only where the policy has no security policy (or None); otherwise the
    /// password is encrypted with the server certificate as the policy says (OPC 10000-4 §7.41.2.3).
    /// </summary>
    internal ExtensionObject CreateToken(IReadOnlyList<UserTokenPolicy> policies, byte[]? serverCertificate, byte[]? serverNonce, string? channelPolicyUri = null)
    {
        if (TokenType == UserTokenType.Anonymous)
        {
            var policy = Find(policies, UserTokenType.Anonymous, preferUnsecured: true);
            return new ExtensionObject(new AnonymousIdentityToken { PolicyId = policy?.PolicyId ?? "anonymous" });
        }

        var userPolicy = Find(policies, UserTokenType.UserName, preferUnsecured: true)
            ?? throw new ServiceResultException(StatusCodes.BadIdentityTokenInvalid, "The server's endpoint offers no user name token policy.");
        var password = System.Text.Encoding.UTF8.GetBytes(Password!);
        // An empty policy means the endpoint's (the channel's) policy (OPC 10000-4 §7.42).
        var securityPolicy = string.IsNullOrEmpty(userPolicy.SecurityPolicyUri) ? channelPolicyUri : userPolicy.SecurityPolicyUri;
        if (string.IsNullOrEmpty(securityPolicy) || securityPolicy == SecurityPolicyUris.None)
        {
            return new ExtensionObject(new UserNameIdentityToken { PolicyId = userPolicy.PolicyId, UserName = UserName, Password = password });
        }

        if (serverCertificate is not { Length: > 0 })
        {
            throw new ServiceResultException(StatusCodes.BadIdentityTokenInvalid, $"The user token policy needs {securityPolicy} encryption but the server sent no certificate.");
        }

        var (padding, algorithm) = securityPolicy switch
        {
            "http://opcfoundation.org/UA/SecurityPolicy#Basic128Rsa15" => (RSAEncryptionPadding.Pkcs1, "http://www.w3.org/2001/04/xmlenc#rsa-1_5"),
            "http://opcfoundation.org/UA/SecurityPolicy#Aes256_Sha256_RsaPss" => (RSAEncryptionPadding.OaepSHA256, "http://opcfoundation.org/UA/security/rsa-oaep-sha2-256"),
            _ => (RSAEncryptionPadding.OaepSHA1, "http://www.w3.org/2001/04/xmlenc#rsa-oaep"),
        };
        var nonce = serverNonce ?? [];
        var secret = new byte[4 + password.Length + nonce.Length];
        BinaryPrimitives.WriteInt32LittleEndian(secret, password.Length + nonce.Length);
        password.CopyTo(secret, 4);
        nonce.CopyTo(secret, 4 + password.Length);
        using var certificate = X509CertificateLoader.LoadCertificate(serverCertificate);
        using var rsa = certificate.GetRSAPublicKey()
            ?? throw new ServiceResultException(StatusCodes.BadCertificateInvalid, "The server certificate has no RSA key.");
        var keyBytes = rsa.KeySize / 8;
        var block = padding == RSAEncryptionPadding.Pkcs1 ? keyBytes - 11 : padding == RSAEncryptionPadding.OaepSHA256 ? keyBytes - 66 : keyBytes - 42;
        using var output = new MemoryStream();
        for (var offset = 0; offset < secret.Length; offset += block)
        {
            var part = rsa.Encrypt(secret.AsSpan(offset, Math.Min(block, secret.Length - offset)).ToArray(), padding);
            output.Write(part);
        }

        CryptographicOperations.ZeroMemory(secret);
        CryptographicOperations.ZeroMemory(password);
        return new ExtensionObject(new UserNameIdentityToken { PolicyId = userPolicy.PolicyId, UserName = UserName, Password = output.ToArray(), EncryptionAlgorithm = algorithm });
    }

    private static UserTokenPolicy? Find(IReadOnlyList<UserTokenPolicy> policies, UserTokenType type, bool preferUnsecured)
    {
        UserTokenPolicy? any = null;
        foreach (var policy in policies)
        {
            if (policy.TokenType != type)
            {
                continue;
            }

            var unsecured = string.IsNullOrEmpty(policy.SecurityPolicyUri) || policy.SecurityPolicyUri == SecurityPolicyUris.None;
            if (unsecured && preferUnsecured)
            {
                return policy;
            }

            // Prefer the policies .NET's RSA handles best (OAEP).
            if (any is null || policy.SecurityPolicyUri == "http://opcfoundation.org/UA/SecurityPolicy#Basic256Sha256")
            {
                any = policy;
            }
        }

        return any;
    }
}
