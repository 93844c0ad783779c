using System.Security.Cryptography;
using System.Text;

namespace FactoryEdge.Uplink;

/// <summary>
/// AES-256-GCM envelope of a batch at rest (<c>.feb.enc</c>):
/// <code>
/// "FEE1" | u8 algorithm (1 = AES-256-GCM) | 8-byte key id | 32-byte SHA-256 of the plain batch | 12-byte nonce | 16-byte tag | ciphertext
/// </code>
/// The first 45 bytes (magic … content hash) are the associated data: a header changed or moved to
/// another file fails authentication like a changed ciphertext. Key id = first 8 bytes of
/// SHA-256("factoryedge-uplink-key-id" ‖ key), so a wrong key is told apart from tampering.
/// </summary>
public sealed class BatchEncryption
{
    public const string FileExtension = ".enc";
    public const int KeyBytes = 32;
    private const int HeaderBytes = 4 + 1 + 8 + 32;
    private const int NonceBytes = 12;
    private const int TagBytes = 16;

    private readonly byte[] _key;

    public BatchEncryption(ReadOnlySpan<byte> key, string source)
    {
        if (key.Length != KeyBytes)
        {
            throw new ArgumentException($"The uplink key from {source} must be {KeyBytes} bytes (got {key.Length}).", nameof(key));
        }

        _key = key.ToArray();
        KeyId = ComputeKeyId(key);
        Source = source;
    }

    /// <summary>Hex key id (never the key).</summary>
    public string KeyId { get; }

    /// <summary>Where the key came from (for logs): "file /etc/…", "environment variable …".</summary>
    public string Source { get; }

    private static ReadOnlySpan<byte> Magic => "FEE1"u8;

    /// <summary>Loads the key from a file (wins) or an environment variable: raw 32 bytes, base64 or hex.</summary>
    public static BatchEncryption Load(EncryptionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!string.IsNullOrWhiteSpace(options.KeyFile))
        {
            var bytes = File.ReadAllBytes(options.KeyFile);
            var key = bytes.Length == KeyBytes ? bytes : ParseText(Encoding.ASCII.GetString(bytes), "file " + options.KeyFile);
            return new BatchEncryption(key, "file " + options.KeyFile);
        }

        var text = Environment.GetEnvironmentVariable(options.KeyEnv);
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new InvalidOperationException($"Uplink encryption key not found: {UplinkOptions.SectionName}:Encryption:KeyFile is empty and environment variable {options.KeyEnv} is not set.");
        }

        return new BatchEncryption(ParseText(text, "environment variable " + options.KeyEnv), "environment variable " + options.KeyEnv);
    }

    /// <summary>A new random key as base64 (for <c>FACTORYEDGE_UPLINK_KEY</c> or a key file).</summary>
    public static string GenerateKeyBase64() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(KeyBytes));

    /// <summary>Encrypts <paramref name="plain"/> whose SHA-256 is <paramref name="contentHash"/>.</summary>
    public byte[] Encrypt(ReadOnlySpan<byte> plain, ReadOnlySpan<byte> contentHash)
    {
        var output = new byte[HeaderBytes + NonceBytes + TagBytes + plain.Length];
        var span = output.AsSpan();
        Magic.CopyTo(span);
        span[4] = 1;
        Convert.FromHexString(KeyId).CopyTo(span[5..13]);
        contentHash.CopyTo(span[13..45]);
        var nonce = span.Slice(HeaderBytes, NonceBytes);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_key, TagBytes);
        aes.Encrypt(nonce, plain, span[(HeaderBytes + NonceBytes + TagBytes)..], span.Slice(HeaderBytes + NonceBytes, TagBytes), span[..HeaderBytes]);
        return output;
    }

    /// <summary>The content hash in the envelope's header (hex), without decrypting.</summary>
    public static string ReadContentHash(ReadOnlySpan<byte> envelope)
    {
        CheckHeader(envelope);
        return Convert.ToHexStringLower(envelope[13..45]);
    }

    /// <summary>The key id in the envelope's header (hex).</summary>
    public static string ReadKeyId(ReadOnlySpan<byte> envelope)
    {
        CheckHeader(envelope);
        return Convert.ToHexStringLower(envelope[5..13]);
    }

    /// <summary>
    /// Decrypts and checks the content hash. Throws <see cref="WrongKeyException"/> for another key,
    /// <see cref="InvalidDataException"/> for anything tampered with or truncated.
    /// </summary>
    public byte[] Decrypt(ReadOnlySpan<byte> envelope)
    {
        CheckHeader(envelope);
        var keyId = Convert.ToHexStringLower(envelope[5..13]);
        if (keyId != KeyId)
        {
            throw new WrongKeyException($"encrypted with key id {keyId}, the configured key ({Source}) has id {KeyId}");
        }

        var plain = new byte[envelope.Length - HeaderBytes - NonceBytes - TagBytes];
        try
        {
            using var aes = new AesGcm(_key, TagBytes);
            aes.Decrypt(envelope.Slice(HeaderBytes, NonceBytes), envelope[(HeaderBytes + NonceBytes + TagBytes)..], envelope.Slice(HeaderBytes + NonceBytes, TagBytes), plain, envelope[..HeaderBytes]);
        }
        catch (AuthenticationTagMismatchException ex)
        {
            throw new InvalidDataException("AES-GCM authentication failed: the encrypted batch was modified or damaged on disk", ex);
        }

        var hash = SHA256.HashData(plain);
        if (!hash.AsSpan().SequenceEqual(envelope[13..45]))
        {
            throw new InvalidDataException("decrypted batch does not match its content hash");
        }

        return plain;
    }

    internal static string ComputeKeyId(ReadOnlySpan<byte> key)
    {
        var data = new byte[25 + key.Length];
        "factoryedge-uplink-key-id"u8.CopyTo(data);
        key.CopyTo(data.AsSpan(25));
        return Convert.ToHexStringLower(SHA256.HashData(data).AsSpan(0, 8));
    }

    private static void CheckHeader(ReadOnlySpan<byte> envelope)
    {
        if (envelope.Length < HeaderBytes + NonceBytes + TagBytes || !envelope[..4].SequenceEqual(Magic))
        {
            throw new InvalidDataException("not an encrypted FactoryEdge batch (magic 'FEE1' missing or file truncated)");
        }

        if (envelope[4] != 1)
        {
            throw new InvalidDataException($"unknown encryption algorithm {envelope[4]}");
        }
    }

    private static byte[] ParseText(string text, string source)
    {
        text = text.Trim();
        try
        {
            if (text.Length == KeyBytes * 2 && text.All(Uri.IsHexDigit))
            {
                return Convert.FromHexString(text);
            }

            return Convert.FromBase64String(text);
        }
        catch (FormatException ex)
        {
            throw new InvalidOperationException($"The uplink key from {source} is neither 32 raw bytes, base64 nor hex.", ex);
        }
    }
}

/// <summary>The batch was encrypted with another key than the configured one (key rotation, misconfiguration).</summary>
public sealed class WrongKeyException(string message) : Exception(message);
