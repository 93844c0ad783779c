using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using FactoryEdge.OpcUa.Encoding;
using FactoryEdge.OpcUa.Protocol;
using FactoryEdge.OpcUa.SecureChannel;

namespace FactoryEdge.OpcUa.Security;

/// <summary>Which end of the channel an <see cref="PolicyChannelSecurity"/> is: it decides which derived keys are ours.</summary>
public enum ChannelRole
{
    Client,
    Server,
}

/// <summary>
/// Sign and SignAndEncrypt for one secure channel (OPC 10000-6 §6.7), client or server side.
/// OpenSecureChannel chunks are always signed with our private key and encrypted with the peer's
/// public key (also in mode Sign); other chunks are signed with HMAC-SHA256 and, in SignAndEncrypt,
/// encrypted with AES-CBC under keys derived per token with P_SHA256 from both nonces. Each token's
/// keys are kept until two newer tokens exist, so messages under the previous token are still
/// accepted after a renewal. Any check that fails throws <see cref="ServiceResultException"/>
/// (BadSecurityChecksFailed, ...), which closes the channel.
/// </summary>
public sealed class PolicyChannelSecurity : IChannelSecurity, IDisposable
{
    private readonly X509Certificate2 _localCertificate;
    private readonly RSA _localKey;
    private readonly Func<X509Certificate2, X509Certificate2>? _acceptRemote;
    private readonly Lock _tokensLock = new();
    private X509Certificate2? _remoteCertificate;
    private RSA? _remoteKey;
    private TokenKeys[] _tokens = [];
    private byte[]? _lastLocalNonce;

    /// <summary>
    /// Creates the security of one channel. <paramref name="localCertificate"/> must carry its private
    /// key. The client knows the server's certificate from its endpoint and passes it as
    /// <paramref name="remoteCertificate"/>; a server passes null and learns the client's from the first
    /// OpenSecureChannel, after <paramref name="acceptRemoteCertificate"/> (which validates it and
    /// throws a <see cref="ServiceResultException"/> such as BadCertificateUntrusted to refuse it; it
    /// returns the certificate to use, normally its argument).
    /// </summary>
    public PolicyChannelSecurity(
        SecurityPolicy policy,
        MessageSecurityMode mode,
        ChannelRole role,
        X509Certificate2 localCertificate,
        X509Certificate2? remoteCertificate,
        Func<X509Certificate2, X509Certificate2>? acceptRemoteCertificate = null)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(localCertificate);
        if (mode is not (MessageSecurityMode.Sign or MessageSecurityMode.SignAndEncrypt))
        {
            throw new ArgumentOutOfRangeException(nameof(mode), mode, "Sign or SignAndEncrypt; use NoneChannelSecurity for None.");
        }

        Policy = policy;
        SecurityMode = mode;
        Role = role;
        _localCertificate = localCertificate;
        _localKey = localCertificate.GetRSAPrivateKey()
            ?? throw new ArgumentException("The local certificate has no RSA private key.", nameof(localCertificate));
        CheckKeySize(_localKey.KeySize, "our certificate");
        LocalCertificate = localCertificate.RawData;
        _acceptRemote = acceptRemoteCertificate;
        if (remoteCertificate is not null)
        {
            SetRemote(remoteCertificate);
        }
        else if (role == ChannelRole.Client)
        {
            throw new ArgumentNullException(nameof(remoteCertificate), "A client must know the server's certificate.");
        }
    }

    public SecurityPolicy Policy { get; }

    public ChannelRole Role { get; }

    /// <summary>Our certificate, with its private key (for the session signatures).</summary>
    public X509Certificate2 Certificate => _localCertificate;

    public string SecurityPolicyUri => Policy.Uri;

    public MessageSecurityMode SecurityMode { get; private set; }

    /// <summary>
    /// Server side: the mode the client asked for in its OpenSecureChannelRequest (the OPN itself is
    /// secured the same way in both modes, so a server can create this object before it knows the
    /// mode). Only before the first token.
    /// </summary>
    public void SelectMode(MessageSecurityMode mode)
    {
        if (mode is not (MessageSecurityMode.Sign or MessageSecurityMode.SignAndEncrypt))
        {
            throw new ServiceResultException(StatusCodes.BadSecurityModeRejected, $"Security mode {mode} does not go with {Policy.Name}.");
        }

        if (Volatile.Read(ref _tokens).Length > 0 && mode != SecurityMode)
        {
            throw new ServiceResultException(StatusCodes.BadSecurityModeRejected, "The security mode cannot change on an open channel.");
        }

        SecurityMode = mode;
    }

    /// <summary>
    /// Reads the asymmetric security header of an OPN chunk without checking it: what a server needs to
    /// pick the policy (and so the <see cref="IChannelSecurity"/>) before it creates its chunk assembler.
    /// </summary>
    public static (string? PolicyUri, byte[]? SenderCertificate, byte[]? ReceiverThumbprint) PeekAsymmetricHeader(ReadOnlyMemory<byte> chunk)
    {
        var decoder = new BinaryDecoder(chunk[12..], EncodingLimits.Default with { MaxStringLength = 65536 });
        return (decoder.ReadString(), decoder.ReadByteString(), decoder.ReadByteString());
    }

    public byte[]? LocalCertificate { get; }

    public byte[]? RemoteCertificateThumbprint { get; private set; }

    /// <summary>The peer's certificate (null on a server before the first OpenSecureChannel).</summary>
    public X509Certificate2? RemoteCertificate => Volatile.Read(ref _remoteCertificate);

    /// <summary>Tokens whose keys are held (for tests and diagnostics).</summary>
    public IReadOnlyList<uint> TokenIds => Array.ConvertAll(Volatile.Read(ref _tokens), t => t.TokenId);

    public byte[] CreateNonce()
    {
        var nonce = RandomNumberGenerator.GetBytes(Policy.NonceLength);
        _lastLocalNonce = nonce;
        return nonce;
    }

    /// <summary>The nonce most recently made by <see cref="CreateNonce"/> (a server sends it in its response).</summary>
    public byte[]? LastLocalNonce => _lastLocalNonce;

    public void OnTokenIssued(uint tokenId, ReadOnlySpan<byte> clientNonce, ReadOnlySpan<byte> serverNonce)
    {
        if (clientNonce.Length != Policy.NonceLength || serverNonce.Length != Policy.NonceLength)
        {
            throw new ServiceResultException(StatusCodes.BadNonceInvalid, $"{Policy.Name} needs nonces of {Policy.NonceLength} bytes (client {clientNonce.Length}, server {serverNonce.Length}).");
        }

        // OPC 10000-6 §6.7.5: client keys = P_SHA256(secret: server nonce, seed: client nonce); server keys the other way round.
        var client = DirectionKeys.Derive(Policy, serverNonce, clientNonce);
        var server = DirectionKeys.Derive(Policy, clientNonce, serverNonce);
        var keys = Role == ChannelRole.Client ? new TokenKeys(tokenId, client, server) : new TokenKeys(tokenId, server, client);
        lock (_tokensLock)
        {
            var current = _tokens;
            var kept = current.Where(t => t.TokenId != tokenId).TakeLast(2).Append(keys).ToArray();
            Volatile.Write(ref _tokens, kept);
        }
    }

    public void CheckAsymmetricHeader(string? securityPolicyUri, ReadOnlySpan<byte> senderCertificate, ReadOnlySpan<byte> receiverThumbprint)
    {
        if (!string.Equals(securityPolicyUri, Policy.Uri, StringComparison.Ordinal))
        {
            throw new ServiceResultException(StatusCodes.BadSecurityPolicyRejected, $"Security policy '{securityPolicyUri}' does not match the channel's ({Policy.Uri}).");
        }

        if (senderCertificate.IsEmpty)
        {
            throw new ServiceResultException(StatusCodes.BadCertificateInvalid, "The OpenSecureChannel carries no sender certificate.");
        }

        var sender = CertificateBlob.FirstCertificate(senderCertificate);
        var remote = RemoteCertificate;
        if (remote is null)
        {
            X509Certificate2 parsed;
            try
            {
                parsed = X509CertificateLoader.LoadCertificate(sender);
            }
            catch (CryptographicException ex)
            {
                throw new ServiceResultException(StatusCodes.BadCertificateInvalid, "The sender certificate cannot be parsed: " + ex.Message, ex);
            }

            SetRemote(_acceptRemote is null ? parsed : _acceptRemote(parsed));
        }
        else if (!sender.SequenceEqual(remote.RawData))
        {
            throw new ServiceResultException(StatusCodes.BadCertificateInvalid, $"The peer signs with another certificate ({Convert.ToHexString(SHA1.HashData(sender))}) than expected ({remote.Thumbprint}).");
        }

        Span<byte> ours = stackalloc byte[20];
        SHA1.HashData(LocalCertificate, ours);
        if (!receiverThumbprint.SequenceEqual(ours))
        {
            throw new ServiceResultException(StatusCodes.BadCertificateInvalid, $"The OpenSecureChannel is meant for certificate {Convert.ToHexString(receiverThumbprint)}, not ours ({Convert.ToHexString(ours)}).");
        }
    }

    public int MaxPlainTextSize(int chunkSize, int headerSize, bool asymmetric)
    {
        var room = chunkSize - headerSize;
        if (asymmetric)
        {
            var remote = RemoteKey;
            var cipherBlock = remote.KeySize / 8;
            var plainBlock = cipherBlock - Policy.OaepOverhead;
            var extra = plainBlock > 256 ? 2 : 1;
            return (room / cipherBlock * plainBlock) - (_localKey.KeySize / 8) - extra;
        }

        if (SecurityMode == MessageSecurityMode.Sign)
        {
            return room - Policy.SymmetricSignatureSize;
        }

        return (room / Policy.BlockSize * Policy.BlockSize) - Policy.SymmetricSignatureSize - 1;
    }

    public int Protect(Span<byte> chunk, int headerSize, int plainTextSize, bool asymmetric, uint tokenId)
    {
        try
        {
            return asymmetric ? ProtectAsymmetric(chunk, headerSize, plainTextSize) : ProtectSymmetric(chunk, headerSize, plainTextSize, tokenId);
        }
        catch (ObjectDisposedException ex)
        {
            throw new ServiceResultException(StatusCodes.BadSecureChannelClosed, "The secure channel is closed.", ex);
        }
    }

    public int Unprotect(Span<byte> chunk, int headerSize, bool asymmetric, uint tokenId)
    {
        try
        {
            return asymmetric ? UnprotectAsymmetric(chunk, headerSize) : UnprotectSymmetric(chunk, headerSize, tokenId);
        }
        catch (ObjectDisposedException ex)
        {
            throw new ServiceResultException(StatusCodes.BadSecureChannelClosed, "The secure channel is closed.", ex);
        }
    }

    private RSA RemoteKey => Volatile.Read(ref _remoteKey)
        ?? throw new ServiceResultException(StatusCodes.BadSecurityChecksFailed, "The peer's certificate is not known yet.");

    private int ProtectAsymmetric(Span<byte> chunk, int headerSize, int plainTextSize)
    {
        var remote = RemoteKey;
        var cipherBlock = remote.KeySize / 8;
        var plainBlock = cipherBlock - Policy.OaepOverhead;
        var signatureSize = _localKey.KeySize / 8;
        var extra = plainBlock > 256;
        var end = headerSize + plainTextSize;
        end = WritePadding(chunk, end, plainTextSize + signatureSize, plainBlock, extra);
        var plainLength = end - headerSize + signatureSize;
        var blocks = plainLength / plainBlock;
        var size = headerSize + (blocks * cipherBlock);
        if (size > chunk.Length)
        {
            throw new ServiceResultException(StatusCodes.BadTcpInternalError, $"Encrypted chunk of {size} bytes exceeds the buffer of {chunk.Length}.");
        }

        BinaryPrimitives.WriteInt32LittleEndian(chunk[4..], size);
        if (!_localKey.TrySignData(chunk[..end], chunk.Slice(end, signatureSize), HashAlgorithmName.SHA256, Policy.AsymmetricSignaturePadding, out var written) || written != signatureSize)
        {
            throw new ServiceResultException(StatusCodes.BadSecurityChecksFailed, "Signing the OpenSecureChannel failed.");
        }

        var plain = ArrayPool<byte>.Shared.Rent(plainLength);
        try
        {
            chunk.Slice(headerSize, plainLength).CopyTo(plain);
            for (var i = 0; i < blocks; i++)
            {
                if (!remote.TryEncrypt(plain.AsSpan(i * plainBlock, plainBlock), chunk.Slice(headerSize + (i * cipherBlock), cipherBlock), Policy.AsymmetricEncryptionPadding, out var n) || n != cipherBlock)
                {
                    throw new ServiceResultException(StatusCodes.BadSecurityChecksFailed, "Encrypting the OpenSecureChannel failed.");
                }
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plain.AsSpan(0, plainLength));
            ArrayPool<byte>.Shared.Return(plain);
        }

        return size;
    }

    private int UnprotectAsymmetric(Span<byte> chunk, int headerSize)
    {
        var cipherBlock = _localKey.KeySize / 8;
        var plainBlock = cipherBlock - Policy.OaepOverhead;
        var cipherLength = chunk.Length - headerSize;
        if (cipherLength <= 0 || cipherLength % cipherBlock != 0)
        {
            throw new ServiceResultException(StatusCodes.BadSecurityChecksFailed, $"Encrypted OpenSecureChannel of {cipherLength} bytes is not a whole number of {cipherBlock}-byte blocks.");
        }

        var blocks = cipherLength / cipherBlock;
        var plain = ArrayPool<byte>.Shared.Rent(blocks * plainBlock);
        var plainLength = 0;
        try
        {
            for (var i = 0; i < blocks; i++)
            {
                if (!_localKey.TryDecrypt(chunk.Slice(headerSize + (i * cipherBlock), cipherBlock), plain.AsSpan(plainLength), Policy.AsymmetricEncryptionPadding, out var n))
                {
                    throw new ServiceResultException(StatusCodes.BadSecurityChecksFailed, "Decrypting the OpenSecureChannel failed.");
                }

                plainLength += n;
            }

            plain.AsSpan(0, plainLength).CopyTo(chunk[headerSize..]);
        }
        catch (CryptographicException ex)
        {
            throw new ServiceResultException(StatusCodes.BadSecurityChecksFailed, "Decrypting the OpenSecureChannel failed: " + ex.Message, ex);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plain.AsSpan(0, plainLength));
            ArrayPool<byte>.Shared.Return(plain);
        }

        var remote = RemoteKey;
        var signatureSize = remote.KeySize / 8;
        var end = headerSize + plainLength;
        if (plainLength < signatureSize + 1)
        {
            throw new ServiceResultException(StatusCodes.BadSecurityChecksFailed, "OpenSecureChannel too short for its signature.");
        }

        var signed = end - signatureSize;
        if (!remote.VerifyData(chunk[..signed], chunk[signed..end], HashAlgorithmName.SHA256, Policy.AsymmetricSignaturePadding))
        {
            throw new ServiceResultException(StatusCodes.BadSecurityChecksFailed, "The OpenSecureChannel signature is invalid.");
        }

        return RemovePadding(chunk, headerSize, signed, plainBlock > 256);
    }

    private int ProtectSymmetric(Span<byte> chunk, int headerSize, int plainTextSize, uint tokenId)
    {
        var keys = Find(tokenId).Local;
        var end = headerSize + plainTextSize;
        var encrypt = SecurityMode == MessageSecurityMode.SignAndEncrypt;
        if (encrypt)
        {
            end = WritePadding(chunk, end, plainTextSize + Policy.SymmetricSignatureSize, Policy.BlockSize, extra: false);
        }

        var size = end + Policy.SymmetricSignatureSize;
        if (size > chunk.Length)
        {
            throw new ServiceResultException(StatusCodes.BadTcpInternalError, $"Chunk of {size} bytes exceeds the buffer of {chunk.Length}.");
        }

        BinaryPrimitives.WriteInt32LittleEndian(chunk[4..], size);
        HMACSHA256.HashData(keys.SigningKey, chunk[..end], chunk.Slice(end, Policy.SymmetricSignatureSize));
        if (encrypt)
        {
            var region = chunk[headerSize..size];
            keys.Aes.EncryptCbc(region, keys.Iv, region, PaddingMode.None);
        }

        return size;
    }

    private int UnprotectSymmetric(Span<byte> chunk, int headerSize, uint tokenId)
    {
        var keys = Find(tokenId).Remote;
        var size = chunk.Length;
        var encrypt = SecurityMode == MessageSecurityMode.SignAndEncrypt;
        if (encrypt)
        {
            var region = chunk[headerSize..size];
            if (region.Length == 0 || region.Length % Policy.BlockSize != 0)
            {
                throw new ServiceResultException(StatusCodes.BadSecurityChecksFailed, $"Encrypted chunk of {region.Length} bytes is not a whole number of {Policy.BlockSize}-byte blocks.");
            }

            try
            {
                keys.Aes.DecryptCbc(region, keys.Iv, region, PaddingMode.None);
            }
            catch (CryptographicException ex)
            {
                throw new ServiceResultException(StatusCodes.BadSecurityChecksFailed, "Decrypting a chunk failed: " + ex.Message, ex);
            }
        }

        var signed = size - Policy.SymmetricSignatureSize;
        if (signed < headerSize + 1)
        {
            throw new ServiceResultException(StatusCodes.BadSecurityChecksFailed, "Chunk too short for its signature.");
        }

        Span<byte> expected = stackalloc byte[32];
        HMACSHA256.HashData(keys.SigningKey, chunk[..signed], expected);
        if (!CryptographicOperations.FixedTimeEquals(expected, chunk[signed..size]))
        {
            throw new ServiceResultException(StatusCodes.BadSecurityChecksFailed, "The chunk's signature is invalid.");
        }

        return encrypt ? RemovePadding(chunk, headerSize, signed, extra: false) : signed - headerSize;
    }

    /// <summary>Writes PaddingSize, the padding and (for keys over 2048 bits) ExtraPaddingSize after <paramref name="end"/>; returns the new end.</summary>
    private static int WritePadding(Span<byte> chunk, int end, int contentAndSignature, int plainBlock, bool extra)
    {
        var length = contentAndSignature + (extra ? 2 : 1);
        var padding = (plainBlock - (length % plainBlock)) % plainBlock;
        if (end + padding + (extra ? 2 : 1) > chunk.Length)
        {
            throw new ServiceResultException(StatusCodes.BadTcpInternalError, "No room for the padding.");
        }

        var low = (byte)(padding & 0xFF);
        chunk[end++] = low;
        chunk.Slice(end, padding).Fill(low);
        end += padding;
        if (extra)
        {
            chunk[end++] = (byte)(padding >> 8);
        }

        return end;
    }

    /// <summary>Checks and strips the padding that ends at <paramref name="signed"/>; returns the plaintext size after the header.</summary>
    private static int RemovePadding(Span<byte> chunk, int headerSize, int signed, bool extra)
    {
        int padding;
        int sizeBytes;
        if (extra)
        {
            if (signed - headerSize < 2)
            {
                throw new ServiceResultException(StatusCodes.BadSecurityChecksFailed, "Chunk too short for its padding.");
            }

            padding = (chunk[signed - 1] << 8) | chunk[signed - 2];
            sizeBytes = 2;
        }
        else
        {
            padding = chunk[signed - 1];
            sizeBytes = 1;
        }

        var start = signed - sizeBytes - padding;
        if (start < headerSize)
        {
            throw new ServiceResultException(StatusCodes.BadSecurityChecksFailed, "Padding longer than the chunk.");
        }

        // Layout: [PaddingSize (low byte)] [padding bytes = low byte] [ExtraPaddingSize]; all low bytes equal.
        var low = (byte)(padding & 0xFF);
        var lowEnd = signed - (extra ? 1 : 0);
        for (var i = start; i < lowEnd; i++)
        {
            if (chunk[i] != low)
            {
                throw new ServiceResultException(StatusCodes.BadSecurityChecksFailed, "The chunk's padding is invalid.");
            }
        }

        return start - headerSize;
    }

    private TokenKeys Find(uint tokenId)
    {
        var tokens = Volatile.Read(ref _tokens);
        for (var i = tokens.Length - 1; i >= 0; i--)
        {
            if (tokens[i].TokenId == tokenId)
            {
                return tokens[i];
            }
        }

        throw new ServiceResultException(StatusCodes.BadSecureChannelTokenUnknown, $"No keys for security token {tokenId}.");
    }

    private void SetRemote(X509Certificate2 certificate)
    {
        var key = certificate.GetRSAPublicKey()
            ?? throw new ServiceResultException(StatusCodes.BadCertificateInvalid, "The peer's certificate has no RSA key.");
        CheckKeySize(key.KeySize, "the peer's certificate");
        RemoteCertificateThumbprint = SHA1.HashData(certificate.RawData);
        Volatile.Write(ref _remoteKey, key);
        Volatile.Write(ref _remoteCertificate, certificate);
    }

    private void CheckKeySize(int bits, string whose)
    {
        if (bits < Policy.MinimumKeySize || bits > Policy.MaximumKeySize)
        {
            throw new ServiceResultException(StatusCodes.BadCertificateInvalid, $"The RSA key of {whose} has {bits} bits; {Policy.Name} needs {Policy.MinimumKeySize}..{Policy.MaximumKeySize}.");
        }
    }

    public void Dispose()
    {
        foreach (var token in Interlocked.Exchange(ref _tokens, []))
        {
            token.Local.Dispose();
            token.Remote.Dispose();
        }

        _remoteKey?.Dispose();
        _localKey.Dispose();
    }

    private sealed record TokenKeys(uint TokenId, DirectionKeys Local, DirectionKeys Remote);

    /// <summary>Signing key, AES (with its key) and IV of one direction under one token.</summary>
    private sealed class DirectionKeys : IDisposable
    {
        private DirectionKeys(byte[] signingKey, Aes aes, byte[] iv)
        {
            SigningKey = signingKey;
            Aes = aes;
            Iv = iv;
        }

        public byte[] SigningKey { get; }

        public Aes Aes { get; }

        public byte[] Iv { get; }

        public static DirectionKeys Derive(SecurityPolicy policy, ReadOnlySpan<byte> secret, ReadOnlySpan<byte> seed)
        {
            var material = PSha256.Derive(secret, seed, policy.SigningKeyLength + policy.EncryptionKeyLength + policy.BlockSize);
            var aes = System.Security.Cryptography.Aes.Create();
            aes.Key = material[policy.SigningKeyLength..(policy.SigningKeyLength + policy.EncryptionKeyLength)];
            var keys = new DirectionKeys(material[..policy.SigningKeyLength], aes, material[(policy.SigningKeyLength + policy.EncryptionKeyLength)..]);
            CryptographicOperations.ZeroMemory(material);
            return keys;
        }

        public void Dispose() => Aes.Dispose();
    }
}
