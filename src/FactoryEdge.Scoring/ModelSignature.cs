using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace FactoryEdge.Scoring;

/// <summary>File names of a model's companions: <c>MODEL.onnx.manifest.json</c> and <c>MODEL.onnx.sig</c>.</summary>
public static class ModelFiles
{
    public const string ManifestSuffix = ".manifest.json";
    public const string SignatureSuffix = ".sig";

    public static string ManifestPath(string modelPath) => modelPath + ManifestSuffix;

    public static string SignaturePath(string modelPath) => modelPath + SignatureSuffix;

    /// <summary>Lower-case hex SHA-256.</summary>
    public static string Sha256Hex(ReadOnlySpan<byte> data) => Convert.ToHexStringLower(SHA256.HashData(data));

    /// <summary>Lower-case hex SHA-256 of a file, streamed.</summary>
    public static string Sha256HexOfFile(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}

/// <summary>The detached signature file (<c>MODEL.onnx.sig</c>), JSON.</summary>
public sealed record ModelSignatureFile
{
    public const string EcdsaP256Sha256 = "ECDSA-P256-SHA256";

    public string Algorithm { get; init; } = EcdsaP256Sha256;

    /// <summary>First 16 hex digits of the SHA-256 of the signer's SubjectPublicKeyInfo.</summary>
    public required string KeyId { get; init; }

    public required string ManifestSha256 { get; init; }

    public required string ModelSha256 { get; init; }

    /// <summary>IEEE P1363 (r‖s, 64 bytes), base64.</summary>
    public required string Signature { get; init; }

    internal static JsonSerializerOptions JsonOptions { get; } = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };
}

/// <summary>Outcome of a signature check.</summary>
public enum SignatureStatus
{
    Valid,
    Unsigned,
    /// <summary>The ONNX file is not the one the manifest describes.</summary>
    ModelHashMismatch,
    /// <summary>The manifest or model changed after signing, or the signature is forged.</summary>
    BadSignature,
    /// <summary>Signed, but by a key this gateway does not trust.</summary>
    UntrustedKey,
    Malformed,
}

public sealed record SignatureCheck(SignatureStatus Status, string Message, string? KeyId = null)
{
    public bool IsValid => Status == SignatureStatus.Valid;
}

/// <summary>
/// ECDSA P-256 / SHA-256 signatures of models (Ed25519 is not in .NET's System.Security.Cryptography).
/// The signed statement binds the manifest bytes and the model bytes:
/// <c>"factoryedge-model-signature-v1\nmanifest-sha256:HEX\nmodel-sha256:HEX\n"</c>; the manifest
/// itself also carries the model's hash, so a swapped ONNX file is refused even before the signature.
/// </summary>
public static class ModelSigner
{
    private const string Statement = "factoryedge-model-signature-v1";

    /// <summary>A new P-256 key pair as PEM: PKCS#8 private key, SubjectPublicKeyInfo public key.</summary>
    public static (string PrivateKeyPem, string PublicKeyPem, string KeyId) GenerateKeyPair()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return (key.ExportPkcs8PrivateKeyPem(), key.ExportSubjectPublicKeyInfoPem(), KeyId(key));
    }

    /// <summary>Key id: first 16 hex digits of SHA-256(SubjectPublicKeyInfo DER).</summary>
    public static string KeyId(ECDsa key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return ModelFiles.Sha256Hex(key.ExportSubjectPublicKeyInfo())[..16];
    }

    /// <summary>Loads a P-256 private key from PEM (PKCS#8 or SEC1); throws naming the problem.</summary>
    public static ECDsa LoadPrivateKey(string pem, string source)
    {
        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(pem);
            RequireP256(key, source);
            _ = key.ExportParameters(includePrivateParameters: true);
            return key;
        }
        catch (Exception ex) when (ex is CryptographicException or ArgumentException)
        {
            key.Dispose();
            throw new CryptographicException($"{source}: not a P-256 private key in PEM ({ex.Message})", ex);
        }
    }

    /// <summary>Loads a P-256 public key from PEM (SubjectPublicKeyInfo); throws naming the problem.</summary>
    public static ECDsa LoadPublicKey(string pem, string source)
    {
        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(pem);
            RequireP256(key, source);
            return key;
        }
        catch (Exception ex) when (ex is CryptographicException or ArgumentException)
        {
            key.Dispose();
            throw new CryptographicException($"{source}: not a P-256 public key in PEM ({ex.Message})", ex);
        }
    }

    /// <summary>Signs the model and its manifest; writes <c>MODEL.onnx.sig</c> and returns it.</summary>
    public static ModelSignatureFile Sign(string modelPath, ECDsa privateKey)
    {
        ArgumentNullException.ThrowIfNull(privateKey);
        var manifestBytes = File.ReadAllBytes(ModelFiles.ManifestPath(modelPath));
        var modelBytes = File.ReadAllBytes(modelPath);
        var manifest = ModelManifest.Parse(manifestBytes, ModelFiles.ManifestPath(modelPath));
        var modelHash = ModelFiles.Sha256Hex(modelBytes);
        if (!string.Equals(manifest.ModelSha256, modelHash, StringComparison.OrdinalIgnoreCase))
        {
            throw new ModelLoadException($"{modelPath}: the file's SHA-256 {modelHash} is not the manifest's model_sha256 {manifest.ModelSha256}; refusing to sign a model its manifest does not describe");
        }

        var manifestHash = ModelFiles.Sha256Hex(manifestBytes);
        var signature = privateKey.SignData(Payload(manifestHash, modelHash), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        var file = new ModelSignatureFile
        {
            KeyId = KeyId(privateKey),
            ManifestSha256 = manifestHash,
            ModelSha256 = modelHash,
            Signature = Convert.ToBase64String(signature),
        };
        File.WriteAllBytes(ModelFiles.SignaturePath(modelPath), JsonSerializer.SerializeToUtf8Bytes(file, ModelSignatureFile.JsonOptions));
        return file;
    }

    /// <summary>Checks <paramref name="modelBytes"/> + <paramref name="manifestBytes"/> against the signature file's bytes.</summary>
    public static SignatureCheck Verify(ReadOnlySpan<byte> modelBytes, ReadOnlySpan<byte> manifestBytes, ReadOnlySpan<byte> signatureBytes, string manifestModelSha256, TrustedKeyRing trusted)
    {
        ArgumentNullException.ThrowIfNull(trusted);
        var modelHash = ModelFiles.Sha256Hex(modelBytes);
        if (!string.Equals(manifestModelSha256, modelHash, StringComparison.OrdinalIgnoreCase))
        {
            return new(SignatureStatus.ModelHashMismatch, $"the model's SHA-256 {modelHash} is not the manifest's model_sha256 {manifestModelSha256} (model file replaced or altered)");
        }

        if (signatureBytes.IsEmpty)
        {
            return new(SignatureStatus.Unsigned, "no signature file");
        }

        ModelSignatureFile? signature;
        try
        {
            signature = JsonSerializer.Deserialize<ModelSignatureFile>(signatureBytes, ModelSignatureFile.JsonOptions);
        }
        catch (JsonException ex)
        {
            return new(SignatureStatus.Malformed, "signature file is not valid JSON: " + ex.Message);
        }

        if (signature is null || signature.Algorithm != ModelSignatureFile.EcdsaP256Sha256)
        {
            return new(SignatureStatus.Malformed, $"signature algorithm must be {ModelSignatureFile.EcdsaP256Sha256}");
        }

        byte[] raw;
        try
        {
            raw = Convert.FromBase64String(signature.Signature);
        }
        catch (FormatException)
        {
            return new(SignatureStatus.Malformed, "signature is not base64");
        }

        var key = trusted.Find(signature.KeyId);
        if (key is null)
        {
            return new(SignatureStatus.UntrustedKey, $"signed by key {signature.KeyId}, which is not among the trusted keys ({trusted.Describe()})", signature.KeyId);
        }

        var payload = Payload(ModelFiles.Sha256Hex(manifestBytes), modelHash);
        if (!key.VerifyData(payload, raw, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation))
        {
            return new(SignatureStatus.BadSignature, $"the signature by key {signature.KeyId} does not match the manifest and model (altered after signing)", signature.KeyId);
        }

        return new(SignatureStatus.Valid, $"signed by trusted key {signature.KeyId}", signature.KeyId);
    }

    internal static byte[] Payload(string manifestSha256, string modelSha256) =>
        Encoding.UTF8.GetBytes($"{Statement}\nmanifest-sha256:{manifestSha256.ToLowerInvariant()}\nmodel-sha256:{modelSha256.ToLowerInvariant()}\n");

    private static void RequireP256(ECDsa key, string source)
    {
        var curve = key.ExportParameters(false).Curve;
        if (!curve.IsNamed || curve.Oid.Value != ECCurve.NamedCurves.nistP256.Oid.Value)
        {
            throw new CryptographicException($"{source}: the key is not on curve P-256 (nistP256)");
        }
    }
}

/// <summary>
/// The public keys a gateway trusts for models (several, so that keys can rotate: sign with the new
/// key, roll the new public key out, retire the old one). Each entry is a PEM file path or inline PEM.
/// </summary>
public sealed class TrustedKeyRing : IDisposable
{
    private readonly Dictionary<string, ECDsa> _keys = new(StringComparer.OrdinalIgnoreCase);

    public TrustedKeyRing(IEnumerable<string> entries, string? baseDirectory = null)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var index = 0;
        foreach (var entry in entries)
        {
            var source = $"TrustedKeys[{index++}]";
            string pem;
            if (entry.Contains("-----BEGIN", StringComparison.Ordinal))
            {
                pem = entry;
            }
            else
            {
                var path = baseDirectory is null ? entry : Path.GetFullPath(entry, baseDirectory);
                source += $" ({path})";
                pem = File.ReadAllText(path);
            }

            var key = ModelSigner.LoadPublicKey(pem, source);
            _keys[ModelSigner.KeyId(key)] = key;
        }
    }

    public int Count => _keys.Count;

    public IReadOnlyCollection<string> KeyIds => _keys.Keys;

    public ECDsa? Find(string keyId) => _keys.GetValueOrDefault(keyId);

    public string Describe() => _keys.Count == 0 ? "none configured" : string.Join(", ", _keys.Keys);

    public void Dispose()
    {
        foreach (var key in _keys.Values)
        {
            key.Dispose();
        }

        _keys.Clear();
    }
}
