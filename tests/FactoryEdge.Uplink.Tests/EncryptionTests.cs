using System.Security.Cryptography;

namespace FactoryEdge.Uplink.Tests;

public sealed class EncryptionTests
{
    private static readonly byte[] Plain = RandomNumberGenerator.GetBytes(10_000);

    [Fact]
    public void Encrypt_ThenDecrypt_RoundTrips()
    {
        var crypto = new BatchEncryption(TestSupport.Key, "test");
        var envelope = crypto.Encrypt(Plain, SHA256.HashData(Plain));

        Assert.Equal(Plain, crypto.Decrypt(envelope));
        Assert.Equal(BatchFormat.Sha256Hex(Plain), BatchEncryption.ReadContentHash(envelope));
        Assert.Equal(crypto.KeyId, BatchEncryption.ReadKeyId(envelope));
        Assert.False(envelope.AsSpan().IndexOf(Plain.AsSpan(0, 64)) >= 0, "plain text visible in the envelope");
    }

    [Theory]
    [InlineData(10)]   // key id in the header: another key
    [InlineData(20)]   // content hash in the header (associated data)
    [InlineData(50)]   // nonce
    [InlineData(65)]   // tag
    [InlineData(500)]  // ciphertext
    public void Decrypt_AnyByteChanged_IsDetected(int offset)
    {
        var crypto = new BatchEncryption(TestSupport.Key, "test");
        var envelope = crypto.Encrypt(Plain, SHA256.HashData(Plain));
        envelope[offset] ^= 0x01;

        var ex = Assert.ThrowsAny<Exception>(() => crypto.Decrypt(envelope));
        Assert.True(ex is InvalidDataException or WrongKeyException, ex.GetType().Name);
    }

    [Fact]
    public void Decrypt_WithAnotherKey_SaysWhichKeyIdsDiffer()
    {
        var envelope = new BatchEncryption(TestSupport.Key, "test").Encrypt(Plain, SHA256.HashData(Plain));
        var other = new BatchEncryption(RandomNumberGenerator.GetBytes(32), "other");

        var ex = Assert.Throws<WrongKeyException>(() => other.Decrypt(envelope));
        Assert.Contains(other.KeyId, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_KeyAsRawBase64OrHexFile_GivesTheSameKeyId()
    {
        using var dir = new TempDir();
        var raw = Path.Combine(dir.Path, "raw");
        var b64 = Path.Combine(dir.Path, "b64");
        var hex = Path.Combine(dir.Path, "hex");
        File.WriteAllBytes(raw, TestSupport.Key);
        File.WriteAllText(b64, TestSupport.KeyBase64 + "\n");
        File.WriteAllText(hex, Convert.ToHexString(TestSupport.Key));

        var ids = new[] { raw, b64, hex }.Select(f => BatchEncryption.Load(new EncryptionOptions { KeyFile = f }).KeyId).Distinct().ToList();

        Assert.Single(ids);
        Assert.Equal(new BatchEncryption(TestSupport.Key, "x").KeyId, ids[0]);
    }

    [Fact]
    public void Load_FromEnvironmentVariable_Works_AndMissingVariableIsNamed()
    {
        var name = "FE_UPLINK_TEST_KEY_" + Guid.NewGuid().ToString("N")[..8];
        Environment.SetEnvironmentVariable(name, TestSupport.KeyBase64);
        try
        {
            var crypto = BatchEncryption.Load(new EncryptionOptions { KeyEnv = name });
            Assert.Contains(name, crypto.Source, StringComparison.Ordinal);
        }
        finally
        {
            Environment.SetEnvironmentVariable(name, null);
        }

        var ex = Assert.Throws<InvalidOperationException>(() => BatchEncryption.Load(new EncryptionOptions { KeyEnv = name }));
        Assert.Contains(name, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_ShortKey_IsRefused()
    {
        Assert.Throws<ArgumentException>(() => new BatchEncryption(new byte[16], "short"));
    }
}
