using FactoryEdge.Tests.Shared;

namespace FactoryEdge.Scoring.Tests;

[Collection("model")]
public sealed class SignatureTests(ModelFixture fixture)
{
    [Fact]
    public void Load_SignedByTrustedKey_Loads()
    {
        using var dir = new TempDirectory();
        var (path, keys) = SignedModel(dir);
        using (keys)
        {
            using var model = ModelLoader.Load(path, new ModelLoadPolicy { TrustedKeys = keys });
            Assert.Equal(SignatureStatus.Valid, model.Origin.Signature.Status);
        }
    }

    [Fact]
    public void Load_ModelByteFlippedAfterSigning_RefusedAsHashMismatch_EvenWithoutSignatureRequirement()
    {
        using var dir = new TempDirectory();
        var (path, keys) = SignedModel(dir);
        using (keys)
        {
            var bytes = File.ReadAllBytes(path);
            bytes[bytes.Length / 2] ^= 0x01;
            File.WriteAllBytes(path, bytes);
            var ex = Assert.Throws<ModelLoadException>(() => ModelLoader.Load(path, new ModelLoadPolicy { TrustedKeys = keys }));
            Assert.Contains("model_sha256", ex.Message, StringComparison.Ordinal);
            Assert.Throws<ModelLoadException>(() => ModelLoader.Load(path, new ModelLoadPolicy { TrustedKeys = keys, RequireSignature = false }));
        }
    }

    [Fact]
    public void Load_ManifestEditedAfterSigning_RefusedAsBadSignature()
    {
        using var dir = new TempDirectory();
        var (path, keys) = SignedModel(dir);
        using (keys)
        {
            // Raise the threshold (a way to silence alerts) without touching the model.
            var manifest = ModelManifest.Parse(File.ReadAllBytes(ModelFiles.ManifestPath(path)), "m");
            File.WriteAllBytes(ModelFiles.ManifestPath(path), (manifest with { Threshold = manifest.Threshold * 100 }).ToJsonBytes());
            var ex = Assert.Throws<ModelLoadException>(() => ModelLoader.Load(path, new ModelLoadPolicy { TrustedKeys = keys }));
            Assert.Contains("does not match the manifest and model", ex.Message, StringComparison.Ordinal);
            Assert.Throws<ModelLoadException>(() => ModelLoader.Load(path, new ModelLoadPolicy { TrustedKeys = keys, RequireSignature = false }));
        }
    }

    [Fact]
    public void Load_Unsigned_RefusedWhenRequired_LoadsInDevelopmentMode()
    {
        using var dir = new TempDirectory();
        var path = TestModels.Write(fixture.Model, dir.Path, "m");
        var (_, publicPem, _) = ModelSigner.GenerateKeyPair();
        using var keys = new TrustedKeyRing([publicPem]);
        var ex = Assert.Throws<ModelLoadException>(() => ModelLoader.Load(path, new ModelLoadPolicy { TrustedKeys = keys }));
        Assert.Contains("no signature", ex.Message, StringComparison.Ordinal);
        using var model = ModelLoader.Load(path, new ModelLoadPolicy { TrustedKeys = keys, RequireSignature = false });
        Assert.Equal(SignatureStatus.Unsigned, model.Origin.Signature.Status);
    }

    [Fact]
    public void Load_SignedByUntrustedKey_Refused_SecondTrustedKeyAccepted()
    {
        using var dir = new TempDirectory();
        var path = TestModels.Write(fixture.Model, dir.Path, "m");
        var (oldPrivate, oldPublic, _) = ModelSigner.GenerateKeyPair();
        var (newPrivate, newPublic, newId) = ModelSigner.GenerateKeyPair();
        using (var key = ModelSigner.LoadPrivateKey(newPrivate, "new"))
        {
            ModelSigner.Sign(path, key);
        }

        using (var onlyOld = new TrustedKeyRing([oldPublic]))
        {
            var ex = Assert.Throws<ModelLoadException>(() => ModelLoader.Load(path, new ModelLoadPolicy { TrustedKeys = onlyOld }));
            Assert.Contains(newId, ex.Message, StringComparison.Ordinal);
            Assert.Contains("not among the trusted keys", ex.Message, StringComparison.Ordinal);
        }

        // Rotation: both keys trusted while models signed with the new one roll out.
        using var both = new TrustedKeyRing([oldPublic, newPublic]);
        using var model = ModelLoader.Load(path, new ModelLoadPolicy { TrustedKeys = both });
        Assert.Equal(newId, model.Origin.Signature.KeyId);
        Assert.NotEmpty(oldPrivate);
    }

    [Fact]
    public void Sign_ModelNotDescribedByManifest_Refuses()
    {
        using var dir = new TempDirectory();
        var path = TestModels.Write(fixture.Model, dir.Path, "m");
        File.AppendAllText(path, "x");
        var (privatePem, _, _) = ModelSigner.GenerateKeyPair();
        using var key = ModelSigner.LoadPrivateKey(privatePem, "k");
        Assert.Throws<ModelLoadException>(() => ModelSigner.Sign(path, key));
    }

    [Fact]
    public void TrustedKeyRing_NotAP256Key_NamesTheEntry()
    {
        using var rsa = System.Security.Cryptography.RSA.Create(2048);
        var ex = Assert.Throws<System.Security.Cryptography.CryptographicException>(() => new TrustedKeyRing([rsa.ExportSubjectPublicKeyInfoPem()]));
        Assert.Contains("TrustedKeys[0]", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ModelCommand_KeygenSignVerify_EndToEnd_AndTamperedVerifyFails()
    {
        using var dir = new TempDirectory();
        var path = TestModels.Write(fixture.Model, dir.Path, "m");
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var keyBase = dir.File("plant");
        Assert.Equal(0, await ModelCommand.KeygenAsync(new ModelKeygenSettings { Out = keyBase }, stdout, stderr, CancellationToken.None));
        Assert.Equal(ModelCommand.Usage, await ModelCommand.KeygenAsync(new ModelKeygenSettings { Out = keyBase }, stdout, stderr, CancellationToken.None));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyBase + ".key.pem"));
        }

        Assert.Equal(0, await ModelCommand.SignAsync(new ModelSignSettings { Key = keyBase + ".key.pem", Model = path }, stdout, stderr, CancellationToken.None));
        Assert.True(File.Exists(ModelFiles.SignaturePath(path)));
        var verifyOut = new StringWriter();
        Assert.Equal(0, await ModelCommand.VerifyAsync(new ModelVerifySettings { Model = path, TrustedKeys = [keyBase + ".pub.pem"] }, verifyOut, stderr, CancellationToken.None));
        Assert.Contains("signature: Valid", verifyOut.ToString(), StringComparison.Ordinal);

        var bytes = File.ReadAllBytes(path);
        bytes[^10] ^= 0x20;
        File.WriteAllBytes(path, bytes);
        var verifyErr = new StringWriter();
        Assert.Equal(ModelCommand.VerificationFailed, await ModelCommand.VerifyAsync(new ModelVerifySettings { Model = path, TrustedKeys = [keyBase + ".pub.pem"] }, TextWriter.Null, verifyErr, CancellationToken.None));
        Assert.Contains("refused", verifyErr.ToString(), StringComparison.Ordinal);
    }

    private (string Path, TrustedKeyRing Keys) SignedModel(TempDirectory dir)
    {
        var path = TestModels.Write(fixture.Model, dir.Path, "m");
        var (privatePem, publicPem, _) = ModelSigner.GenerateKeyPair();
        using (var key = ModelSigner.LoadPrivateKey(privatePem, "test key"))
        {
            ModelSigner.Sign(path, key);
        }

        return (path, new TrustedKeyRing([publicPem]));
    }
}
