using System.Globalization;

namespace FactoryEdge.Uplink;

/// <summary>A sealed batch waiting in <c>pending/</c>.</summary>
/// <param name="Path">Full path of the file.</param>
/// <param name="ContentHash">Hex SHA-256 of the plain batch: the idempotency key.</param>
/// <param name="HasAlerts">Holds captures around an alert (may go out outside the upload windows).</param>
/// <param name="Bytes">Size on disk.</param>
public sealed record PendingBatch(string Path, string ContentHash, bool HasAlerts, long Bytes);

/// <summary>
/// The folder of sealed batches. Names sort by age:
/// <c>pending/TICKS-KIND-HASH.feb[.enc]</c> (KIND <c>a</c> = alert captures, <c>s</c> = samples only).
/// Files are written to <c>tmp/</c>, flushed to the device, then renamed into <c>pending/</c>, so a
/// file in pending/ is always complete; it is deleted only after the receiver acknowledged it.
/// Corrupt files go to <c>quarantine/</c> with a <c>.reason.txt</c> beside them.
/// </summary>
public sealed class BatchSpool
{
    private readonly string _pending;
    private readonly string _quarantine;
    private readonly string _tmp;

    public BatchSpool(string root)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        Root = System.IO.Path.GetFullPath(root);
        _pending = System.IO.Path.Combine(Root, "pending");
        _quarantine = System.IO.Path.Combine(Root, "quarantine");
        _tmp = System.IO.Path.Combine(Root, "tmp");
        Directory.CreateDirectory(_pending);
        Directory.CreateDirectory(_quarantine);
        Directory.CreateDirectory(_tmp);
        foreach (var stale in Directory.EnumerateFiles(_tmp))
        {
            // A crash between write and rename: the batch was never accepted.
            File.Delete(stale);
        }
    }

    public string Root { get; }

    public string PendingDirectory => _pending;

    public string QuarantineDirectory => _quarantine;

    /// <summary>Default folder: $STATE_DIRECTORY/uplink under systemd, else the user's local data folder.</summary>
    public static string DefaultPath()
    {
        if (Environment.GetEnvironmentVariable("STATE_DIRECTORY") is { Length: > 0 } state)
        {
            return System.IO.Path.Combine(state.Split(':')[0], "uplink");
        }

        return System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create), "FactoryEdge", "uplink");
    }

    /// <summary>Writes a sealed batch durably (tmp, fsync, rename) and returns its pending entry.</summary>
    public PendingBatch Write(ReadOnlySpan<byte> content, string contentHash, bool hasAlerts, bool encrypted, long createdTicks)
    {
        var name = string.Create(CultureInfo.InvariantCulture, $"{createdTicks:D19}-{(hasAlerts ? 'a' : 's')}-{contentHash}{BatchFormat.FileExtension}{(encrypted ? BatchEncryption.FileExtension : "")}");
        var tmp = System.IO.Path.Combine(_tmp, name);
        using (var stream = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.None))
        {
            stream.Write(content);
            stream.Flush(flushToDisk: true);
        }

        var final = System.IO.Path.Combine(_pending, name);
        File.Move(tmp, final, overwrite: true);
        return new PendingBatch(final, contentHash, hasAlerts, content.Length);
    }

    /// <summary>Pending batches, oldest first.</summary>
    public List<PendingBatch> ListPending()
    {
        var list = new List<PendingBatch>();
        foreach (var file in Directory.EnumerateFiles(_pending, "*" + BatchFormat.FileExtension + "*"))
        {
            if (TryParseName(System.IO.Path.GetFileName(file), out var hash, out var alerts))
            {
                long size;
                try
                {
                    size = new FileInfo(file).Length;
                }
                catch (FileNotFoundException)
                {
                    continue;
                }

                list.Add(new PendingBatch(file, hash, alerts, size));
            }
        }

        list.Sort(static (a, b) => string.CompareOrdinal(System.IO.Path.GetFileName(a.Path), System.IO.Path.GetFileName(b.Path)));
        return list;
    }

    public long PendingBytes()
    {
        long total = 0;
        foreach (var file in Directory.EnumerateFiles(_pending))
        {
            try
            {
                total += new FileInfo(file).Length;
            }
            catch (FileNotFoundException)
            {
            }
        }

        return total;
    }

    /// <summary>Removes an acknowledged batch.</summary>
    public static void Delete(PendingBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        File.Delete(batch.Path);
    }

    /// <summary>Moves a batch to quarantine/ with the reason beside it; returns the new path.</summary>
    public string Quarantine(PendingBatch batch, string reason)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var target = System.IO.Path.Combine(_quarantine, System.IO.Path.GetFileName(batch.Path));
        File.Move(batch.Path, target, overwrite: true);
        File.WriteAllText(target + ".reason.txt", reason + Environment.NewLine);
        return target;
    }

    internal static bool TryParseName(string name, out string hash, out bool alerts)
    {
        // TICKS(19)-K-HASH(64).feb[.enc]
        hash = "";
        alerts = false;
        if (name.Length < 19 + 3 + 64 + BatchFormat.FileExtension.Length || name[19] != '-' || name[21] != '-')
        {
            return false;
        }

        var rest = name[(19 + 3 + 64)..];
        if (rest != BatchFormat.FileExtension && rest != BatchFormat.FileExtension + BatchEncryption.FileExtension)
        {
            return false;
        }

        hash = name.Substring(22, 64);
        alerts = name[20] == 'a';
        return true;
    }
}
