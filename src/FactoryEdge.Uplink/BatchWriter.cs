using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;

namespace FactoryEdge.Uplink;

/// <summary>Serialises a batch: manifest + gzip(payload) in the <see cref="BatchFormat"/> layout.</summary>
public static class BatchWriter
{
    public static bool TryParseLevel(string? text, out CompressionLevel level)
    {
        switch (text)
        {
            case "Fastest":
                level = CompressionLevel.Fastest;
                return true;
            case "Optimal" or "" or null:
                level = CompressionLevel.Optimal;
                return true;
            case "SmallestSize":
                level = CompressionLevel.SmallestSize;
                return true;
            default:
                level = CompressionLevel.Optimal;
                return false;
        }
    }

    /// <summary>Writes with the configured encoding: <c>Plain</c>, <c>ByteSplit</c>, or <c>Auto</c> (both; the smaller file).</summary>
    public static (byte[] File, byte[] Sha256) Write(BatchManifest manifest, ReadOnlySpan<byte> payload, CompressionLevel level, string encoding)
    {
        switch (encoding)
        {
            case "Plain":
                return Write(manifest, payload, level, byteSplit: false);
            case "ByteSplit":
                return Write(manifest, payload, level, byteSplit: true);
            default:
                var plain = Write(manifest, payload, level, byteSplit: false);
                var split = Write(manifest, payload, level, byteSplit: true);
                return split.File.Length < plain.File.Length ? split : plain;
        }
    }

    /// <summary>
    /// Writes the batch file. <paramref name="payload"/> holds every window's samples as float32 LE,
    /// window after window in manifest order. The file's payload is laid out in runs: the windows of
    /// one channel sorted by sample index, overlapping or adjacent windows merged so that a sample
    /// shared by two overlapping windows is stored once (50 % overlap halves the bytes). The windows'
    /// offsets, the runs and <see cref="BatchManifest.PayloadBytes"/> are filled in. Returns the file
    /// bytes and their SHA-256.
    /// </summary>
    public static (byte[] File, byte[] Sha256) Write(BatchManifest manifest, ReadOnlySpan<byte> payload, CompressionLevel level, bool byteSplit)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var source = new long[manifest.Windows.Count];
        long offset = 0;
        for (var i = 0; i < source.Length; i++)
        {
            source[i] = offset;
            offset += (long)manifest.Windows[i].Samples * 4;
        }

        if (offset != payload.Length)
        {
            throw new ArgumentException($"windows cover {offset} bytes, payload has {payload.Length}", nameof(payload));
        }

        // Runs: per channel, by first sample index; a window that starts inside (or right after) the
        // current run and agrees with it on the shared samples only appends its new samples.
        var order = Enumerable.Range(0, source.Length)
            .OrderBy(i => manifest.Windows[i].Channel).ThenBy(i => manifest.Windows[i].FirstSampleIndex).ThenBy(i => i).ToArray();
        var laid = ArrayPool<byte>.Shared.Rent(Math.Max(1, payload.Length));
        var length = 0;
        manifest.Runs = [];
        BatchRun? run = null;
        long runFirstSample = 0;
        var runChannel = -1;
        foreach (var i in order)
        {
            var w = manifest.Windows[i];
            var bytes = payload.Slice((int)source[i], w.Samples * 4);
            var runSamples = run is null ? 0 : run.Bytes / 4;
            var shared = run is null || w.Channel != runChannel || w.FirstSampleIndex < runFirstSample || w.FirstSampleIndex > runFirstSample + runSamples
                ? -1
                : runFirstSample + runSamples - w.FirstSampleIndex;
            if (shared >= 0)
            {
                shared = Math.Min(shared, w.Samples);
                var overlap = laid.AsSpan((int)(run!.Offset + ((w.FirstSampleIndex - runFirstSample) * 4)), (int)shared * 4);
                if (!overlap.SequenceEqual(bytes[..((int)shared * 4)]))
                {
                    shared = -1; // same indices, other samples (a restarted source): a new run
                }
            }

            if (shared < 0)
            {
                run = new BatchRun { Offset = length };
                manifest.Runs.Add(run);
                runFirstSample = w.FirstSampleIndex;
                runChannel = w.Channel;
                shared = 0;
            }

            var added = bytes[((int)shared * 4)..];
            added.CopyTo(laid.AsSpan(length));
            length += added.Length;
            run!.Bytes += added.Length;
            w.Offset = run.Offset + ((w.FirstSampleIndex - runFirstSample) * 4);
        }

        byte[]? split = null;
        ReadOnlySpan<byte> encoded = laid.AsSpan(0, length);
        if (byteSplit)
        {
            split = ArrayPool<byte>.Shared.Rent(Math.Max(1, length));
            foreach (var r in manifest.Runs)
            {
                BatchFormat.SplitBytes(laid.AsSpan((int)r.Offset, (int)r.Bytes), split.AsSpan((int)r.Offset, (int)r.Bytes));
            }

            encoded = split.AsSpan(0, length);
        }

        try
        {
            manifest.SampleEncoding = byteSplit ? BatchFormat.EncodingByteSplit : BatchFormat.EncodingPlain;
            manifest.Compression = "gzip";
            manifest.PayloadBytes = length;
            manifest.PayloadSha256 = Convert.ToHexStringLower(SHA256.HashData(encoded));
            var json = JsonSerializer.SerializeToUtf8Bytes(manifest, BatchFormat.Json);
            using var output = new MemoryStream(json.Length + 8 + (length / 2));
            output.Write(BatchFormat.Magic);
            Span<byte> manifestLength = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(manifestLength, (uint)json.Length);
            output.Write(manifestLength);
            output.Write(json);
            using (var gzip = new GZipStream(output, level, leaveOpen: true))
            {
                gzip.Write(encoded);
            }

            var file = output.ToArray();
            return (file, SHA256.HashData(file));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(laid);
            if (split is not null)
            {
                ArrayPool<byte>.Shared.Return(split);
            }
        }
    }
}
