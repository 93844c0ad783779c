using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FactoryEdge.Modbus;

/// <summary>What the probe reads: endpoint, table, range and how to decode it.</summary>
public sealed record ModbusProbeRequest
{
    public required string Host { get; init; }

    public int Port { get; init; } = 502;

    public byte UnitId { get; init; } = 1;

    public ModbusFraming Framing { get; init; } = ModbusFraming.Tcp;

    public ModbusTable Table { get; init; } = ModbusTable.HoldingRegisters;

    /// <summary>First address, in the numbering of <see cref="AddressBase"/>.</summary>
    public int Start { get; init; }

    /// <summary>Number of values (not registers: a float32 takes two).</summary>
    public int Count { get; init; } = 1;

    public ModbusValueFormat Format { get; init; } = new(ModbusDataType.UInt16);

    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>0: addresses are protocol addresses; 1: the device manual counts from 1.</summary>
    public int AddressBase { get; init; }

    /// <summary>
    /// Parses <c>modbus://HOST:PORT[/UNIT] (--holding|--input|--coils|--discrete) START:COUNT
    /// [--type T] [--order ABCD|CDAB|BADC|DCBA] [--timeout MS] [--base 0|1]</c>. Throws
    /// <see cref="FormatException"/> with a message that says what is wrong.
    /// </summary>
    public static ModbusProbeRequest Parse(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        string? uri = null;
        ModbusTable? table = null;
        string? range = null;
        string? type = null;
        string? order = null;
        var timeoutMs = 1000;
        var addressBase = 0;
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            switch (arg)
            {
                case "--holding" or "--input" or "--coils" or "--discrete":
                    if (table is not null)
                    {
                        throw new FormatException("Give one of --holding, --input, --coils, --discrete.");
                    }

                    table = arg switch
                    {
                        "--holding" => ModbusTable.HoldingRegisters,
                        "--input" => ModbusTable.InputRegisters,
                        "--coils" => ModbusTable.Coils,
                        _ => ModbusTable.DiscreteInputs,
                    };
                    range = Value(args, ref i);
                    break;
                case "--type":
                    type = Value(args, ref i);
                    break;
                case "--order":
                    order = Value(args, ref i);
                    break;
                case "--timeout":
                    timeoutMs = ParseInt(Value(args, ref i), "--timeout", 1, 60_000);
                    break;
                case "--base":
                    addressBase = ParseInt(Value(args, ref i), "--base", 0, 1);
                    break;
                default:
                    if (arg.StartsWith("--", StringComparison.Ordinal) || uri is not null)
                    {
                        throw new FormatException($"Unexpected argument '{arg}'.");
                    }

                    uri = arg;
                    break;
            }
        }

        if (uri is null)
        {
            throw new FormatException("Missing modbus://HOST:PORT[/UNIT].");
        }

        if (table is null || range is null)
        {
            throw new FormatException("Give the table and range, e.g. --holding 0:10 (also --input, --coils, --discrete).");
        }

        var (host, port, unit, framing) = ParseUri(uri);
        var colon = range.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0)
        {
            throw new FormatException($"Range '{range}' must be START:COUNT.");
        }

        var start = ParseInt(range[..colon], "START", addressBase, 65535 + addressBase);
        var count = ParseInt(range[(colon + 1)..], "COUNT", 1, 65536);
        var dataType = table.Value.IsBitTable() ? ModbusDataType.Bool : ModbusDataType.UInt16;
        if (type is not null && !ModbusValueFormat.TryParseType(type, out dataType))
        {
            throw new FormatException($"Unknown --type '{type}'. Allowed: {ModbusValueFormat.AllowedTypes}.");
        }

        if (table.Value.IsBitTable() && dataType != ModbusDataType.Bool)
        {
            throw new FormatException($"{table} holds bits; --type must be bool.");
        }

        if (!ModbusValueFormat.TryParseOrder(order, out var byteOrder, out var wordOrder))
        {
            throw new FormatException($"Unknown --order '{order}'. Allowed: {ModbusValueFormat.AllowedOrders}.");
        }

        var format = new ModbusValueFormat(dataType, byteOrder, wordOrder);
        var span = table.Value.IsBitTable() ? count : count * format.RegisterCount;
        if (start - addressBase + span > 65536)
        {
            throw new FormatException($"{count} value(s) from {start} run past the end of the address space.");
        }

        return new ModbusProbeRequest
        {
            Host = host,
            Port = port,
            UnitId = unit,
            Framing = framing,
            Table = table.Value,
            Start = start,
            Count = count,
            Format = format,
            Timeout = TimeSpan.FromMilliseconds(timeoutMs),
            AddressBase = addressBase,
        };
    }

    /// <summary>Parses modbus://HOST[:PORT][/UNIT] (Modbus TCP) or modbus+rtu://HOST[:PORT][/UNIT] (RTU over TCP).</summary>
    public static (string Host, int Port, byte UnitId, ModbusFraming Framing) ParseUri(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || (uri.Scheme != "modbus" && uri.Scheme != "modbus+rtu") || string.IsNullOrEmpty(uri.Host))
        {
            throw new FormatException($"'{text}' is not a modbus://HOST:PORT[/UNIT] address.");
        }

        var port = uri.IsDefaultPort || uri.Port < 0 ? 502 : uri.Port;
        var unit = 1;
        var path = uri.AbsolutePath.Trim('/');
        if (path.Length > 0)
        {
            unit = ParseInt(path, "UNIT", 0, 255);
        }

        var host = uri.HostNameType == UriHostNameType.IPv6 ? uri.Host.Trim('[', ']') : uri.Host;
        return (host, port, (byte)unit, uri.Scheme == "modbus+rtu" ? ModbusFraming.RtuOverTcp : ModbusFraming.Tcp);
    }

    private static string Value(IReadOnlyList<string> args, ref int i)
    {
        if (i + 1 >= args.Count)
        {
            throw new FormatException($"{args[i]} needs a value.");
        }

        return args[++i];
    }

    private static int ParseInt(string text, string what, int min, int max)
    {
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
        {
            throw new FormatException(string.Create(CultureInfo.InvariantCulture, $"{what} '{text}' must be an integer in {min}..{max}."));
        }

        return value;
    }
}

/// <summary>
/// The commissioning verb's logic: <c>factoryedge probe modbus://HOST:PORT[/UNIT] --holding START:COUNT</c>.
/// Prints one <c>ADDRESS VALUE</c> line per value (16-bit types add the raw register in hex), and on
/// an exception response, timeout or connection failure a clear error with a non-zero exit code.
/// </summary>
public sealed class ModbusProbe
{
    public const int ExitOk = 0;
    public const int ExitUsage = 2;
    public const int ExitDeviceException = 3;
    public const int ExitTimeout = 4;
    public const int ExitConnection = 5;
    public const int ExitMalformed = 6;

    public const string Usage =
        "usage: probe modbus://HOST[:PORT][/UNIT] (--holding|--input|--coils|--discrete) START:COUNT\n" +
        "             [--type bool|int16|uint16|int32|uint32|int64|uint64|float32|float64] [--order ABCD|CDAB|BADC|DCBA]\n" +
        "             [--timeout MS] [--base 0|1]\n" +
        "  COUNT counts values (a float32 takes two registers). Exit codes: 0 ok, 2 usage, 3 device exception,\n" +
        "  4 timeout, 5 connection failure, 6 malformed reply.";

    private readonly ILoggerFactory _loggerFactory;
    private readonly TimeProvider _timeProvider;

    public ModbusProbe(ILoggerFactory? loggerFactory = null, TimeProvider? timeProvider = null)
    {
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _timeProvider = timeProvider ?? TimeProvider.System;
    }

    /// <summary>Parses the arguments (after the verb) and runs the probe.</summary>
    public async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(error);
        ModbusProbeRequest request;
        try
        {
            request = ModbusProbeRequest.Parse(args);
        }
        catch (FormatException ex)
        {
            await error.WriteLineAsync("error: " + ex.Message).ConfigureAwait(false);
            await error.WriteLineAsync(Usage).ConfigureAwait(false);
            return ExitUsage;
        }

        return await RunAsync(request, output, error, cancellationToken).ConfigureAwait(false);
    }

    public async Task<int> RunAsync(ModbusProbeRequest request, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        var options = new ModbusClientOptions
        {
            Host = request.Host,
            Port = request.Port,
            Framing = request.Framing,
            RequestTimeout = request.Timeout,
            ConnectTimeout = request.Timeout,
            MaxInFlight = 4,
        };
        await using var client = new ModbusClient(options, _loggerFactory.CreateLogger<ModbusClient>(), _timeProvider);
        try
        {
            var lines = request.Table.IsBitTable()
                ? await ReadBitsAsync(client, request, cancellationToken).ConfigureAwait(false)
                : await ReadRegistersAsync(client, request, cancellationToken).ConfigureAwait(false);
            foreach (var line in lines)
            {
                await output.WriteLineAsync(line).ConfigureAwait(false);
            }

            return ExitOk;
        }
        catch (ModbusExceptionResponseException ex)
        {
            await error.WriteLineAsync("error: " + ex.Message).ConfigureAwait(false);
            return ExitDeviceException;
        }
        catch (ModbusTimeoutException ex)
        {
            await error.WriteLineAsync("error: timeout: " + ex.Message).ConfigureAwait(false);
            return ExitTimeout;
        }
        catch (ModbusConnectionException ex)
        {
            await error.WriteLineAsync("error: " + ex.Message).ConfigureAwait(false);
            return ExitConnection;
        }
        catch (ModbusMalformedFrameException ex)
        {
            await error.WriteLineAsync("error: " + ex.Message).ConfigureAwait(false);
            return ExitMalformed;
        }
    }

    private static async Task<List<string>> ReadRegistersAsync(ModbusClient client, ModbusProbeRequest request, CancellationToken cancellationToken)
    {
        var perValue = request.Format.RegisterCount;
        var total = request.Count * perValue;
        var registers = new ushort[total];
        var wireStart = request.Start - request.AddressBase;
        var perRead = ModbusLimits.MaxReadRegisters / perValue * perValue;
        var reads = new List<Task>();
        for (var offset = 0; offset < total; offset += perRead)
        {
            var count = Math.Min(perRead, total - offset);
            reads.Add(client.ReadRegistersAsync(request.Table, request.UnitId, (ushort)(wireStart + offset), registers.AsMemory(offset, count), cancellationToken).AsTask());
        }

        await Task.WhenAll(reads).ConfigureAwait(false);
        var lines = new List<string>(request.Count);
        for (var i = 0; i < request.Count; i++)
        {
            var value = registers.AsSpan(i * perValue, perValue);
            var address = request.Start + (i * perValue);
            var text = RegisterCodec.Format(value, request.Format);
            lines.Add(perValue == 1
                ? string.Create(CultureInfo.InvariantCulture, $"{address} {text} 0x{value[0]:X4}")
                : string.Create(CultureInfo.InvariantCulture, $"{address} {text}"));
        }

        return lines;
    }

    private static async Task<List<string>> ReadBitsAsync(ModbusClient client, ModbusProbeRequest request, CancellationToken cancellationToken)
    {
        var bits = new bool[request.Count];
        var wireStart = request.Start - request.AddressBase;
        var reads = new List<Task>();
        for (var offset = 0; offset < bits.Length; offset += ModbusLimits.MaxReadBits)
        {
            var count = Math.Min(ModbusLimits.MaxReadBits, bits.Length - offset);
            reads.Add(client.ReadBitsAsync(request.Table, request.UnitId, (ushort)(wireStart + offset), bits.AsMemory(offset, count), cancellationToken).AsTask());
        }

        await Task.WhenAll(reads).ConfigureAwait(false);
        var lines = new List<string>(bits.Length);
        for (var i = 0; i < bits.Length; i++)
        {
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"{request.Start + i} {(bits[i] ? 1 : 0)}"));
        }

        return lines;
    }
}
