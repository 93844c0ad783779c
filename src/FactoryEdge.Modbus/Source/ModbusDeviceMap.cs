using System.Globalization;
using FactoryEdge.Core;
using Microsoft.Extensions.Options;

namespace FactoryEdge.Modbus;

/// <summary>A scalar point after parsing: where it is, how to decode it, which channel it feeds.</summary>
public sealed record ModbusScalarPoint(
    int ChannelIndex,
    ChannelDescriptor Descriptor,
    string? UnitText,
    ModbusPointAddress Address,
    double Scale,
    double Offset,
    double Min,
    double Max);

/// <summary>A waveform block after parsing.</summary>
public sealed record ModbusWaveformPoint(
    int ChannelIndex,
    ChannelDescriptor Descriptor,
    ModbusTable Table,
    ModbusWaveformLayout Layout,
    ModbusByteOrder ByteOrder,
    ModbusWordOrder WordOrder,
    TimeSpan PollInterval,
    bool Contiguous,
    int TornRetries,
    double Scale,
    double Offset);

/// <summary>A device after parsing: client settings, unit, points and their read plan.</summary>
public sealed record ModbusDeviceDefinition(
    string Name,
    ModbusClientOptions Client,
    byte UnitId,
    TimeSpan PollInterval,
    bool WritesEnabled,
    int AddressBase,
    IReadOnlyList<ModbusScalarPoint> Points,
    IReadOnlyList<ModbusWaveformPoint> Waveforms,
    int MaxRegistersPerRead,
    int MaxBitsPerRead,
    int MaxGap)
{
    /// <summary>Key of the connection this device uses: devices with the same key share it.</summary>
    public string ConnectionKey => Client.Endpoint;
}

/// <summary>Parses and checks <see cref="ModbusOptions"/>; every problem names its configuration key and the allowed values.</summary>
public static class ModbusDeviceMap
{
    /// <summary>Builds the device definitions and the channel list; returns the problems found (empty when valid).</summary>
    public static IReadOnlyList<string> Build(ModbusOptions options, out IReadOnlyList<ModbusDeviceDefinition> devices, out IReadOnlyList<ChannelDescriptor> channels)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        var deviceList = new List<ModbusDeviceDefinition>();
        var channelList = new List<ChannelDescriptor>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        var channelIds = new HashSet<ChannelId>();
        if (!options.Enabled)
        {
            devices = deviceList;
            channels = channelList;
            return errors;
        }

        for (var d = 0; d < options.Devices.Count; d++)
        {
            var device = options.Devices[d];
            var key = Key($"Devices:{d}");
            var before = errors.Count;
            if (device is null)
            {
                errors.Add($"{key}: empty device entry");
                continue;
            }

            if (string.IsNullOrWhiteSpace(device.Name))
            {
                errors.Add($"{key}:Name: required");
            }
            else if (!names.Add(device.Name))
            {
                errors.Add($"{key}:Name: '{device.Name}' is used by another device; names must be unique");
            }

            if (!ModbusNames.TryParseFraming(device.Framing, out var framing))
            {
                errors.Add($"{key}:Framing: '{device.Framing}' is not allowed; allowed: {ModbusNames.AllowedFramings}");
            }

            if (!TryParseParity(device.Parity, out var parity))
            {
                errors.Add($"{key}:Parity: '{device.Parity}' is not allowed; allowed: None, Even, Odd");
            }

            if (framing == ModbusFraming.RtuSerial)
            {
                Check(errors, device.UnitId is >= 1 and <= 247, $"{key}:UnitId", device.UnitId, "1..247 on a serial line");
                Check(errors, !string.IsNullOrWhiteSpace(device.SerialPort), $"{key}:SerialPort", device.SerialPort, "a serial device such as /dev/ttyUSB0");
                Check(errors, device.DataBits is 7 or 8, $"{key}:DataBits", device.DataBits, "7 or 8");
                Check(errors, device.StopBits is 1 or 2, $"{key}:StopBits", device.StopBits, "1 or 2");
                Check(errors, device.BaudRate is >= 300 and <= 921600, $"{key}:BaudRate", device.BaudRate, "300..921600");
            }
            else
            {
                Check(errors, device.UnitId is >= 0 and <= 255, $"{key}:UnitId", device.UnitId, "0..255");
                Check(errors, !string.IsNullOrWhiteSpace(device.Host), $"{key}:Host", device.Host, "a host name or address");
                Check(errors, device.Port is >= 1 and <= 65535, $"{key}:Port", device.Port, "1..65535");
            }

            Check(errors, device.AddressBase is 0 or 1, $"{key}:AddressBase", device.AddressBase, "0 or 1");
            Check(errors, device.PollIntervalMs is >= 10 and <= 3_600_000, $"{key}:PollIntervalMs", device.PollIntervalMs, "10..3600000");
            Check(errors, device.TimeoutMs is >= 10 and <= 60_000, $"{key}:TimeoutMs", device.TimeoutMs, "10..60000");
            Check(errors, device.ConnectTimeoutMs is >= 10 and <= 60_000, $"{key}:ConnectTimeoutMs", device.ConnectTimeoutMs, "10..60000");
            Check(errors, device.MaxRegistersPerRead is >= 4 and <= ModbusLimits.MaxReadRegisters, $"{key}:MaxRegistersPerRead", device.MaxRegistersPerRead, "4..125");
            Check(errors, device.MaxBitsPerRead is >= 1 and <= ModbusLimits.MaxReadBits, $"{key}:MaxBitsPerRead", device.MaxBitsPerRead, "1..2000");
            Check(errors, device.MaxGap is >= 0 and <= 120, $"{key}:MaxGap", device.MaxGap, "0..120");
            Check(errors, device.MaxInFlight is >= 1 and <= 64, $"{key}:MaxInFlight", device.MaxInFlight, "1..64");
            Check(errors, device.ReconnectInitialDelayMs is >= 10 and <= 600_000, $"{key}:ReconnectInitialDelayMs", device.ReconnectInitialDelayMs, "10..600000");
            Check(errors, device.ReconnectMaxDelayMs >= device.ReconnectInitialDelayMs && device.ReconnectMaxDelayMs <= 3_600_000, $"{key}:ReconnectMaxDelayMs", device.ReconnectMaxDelayMs, "ReconnectInitialDelayMs..3600000");
            if (device.Points.Count == 0 && device.Waveforms.Count == 0)
            {
                errors.Add($"{key}: declares no Points and no Waveforms");
            }

            var pollInterval = TimeSpan.FromMilliseconds(Math.Max(1, device.PollIntervalMs));
            var points = new List<ModbusScalarPoint>();
            for (var p = 0; p < device.Points.Count; p++)
            {
                var point = ParsePoint(device, device.Points[p], $"{key}:Points:{p}", pollInterval, channelList.Count + points.Count, channelIds, errors);
                if (point is not null)
                {
                    points.Add(point);
                }
            }

            var waveforms = new List<ModbusWaveformPoint>();
            for (var w = 0; w < device.Waveforms.Count; w++)
            {
                var waveform = ParseWaveform(device, device.Waveforms[w], $"{key}:Waveforms:{w}", channelList.Count + points.Count + waveforms.Count, channelIds, errors);
                if (waveform is not null)
                {
                    waveforms.Add(waveform);
                }
            }

            if (errors.Count != before)
            {
                continue;
            }

            var client = new ModbusClientOptions
            {
                Host = device.Host,
                Port = device.Port,
                Framing = framing,
                SerialPort = device.SerialPort,
                BaudRate = device.BaudRate,
                Parity = parity,
                DataBits = device.DataBits,
                StopBits = device.StopBits,
                RequestTimeout = TimeSpan.FromMilliseconds(device.TimeoutMs),
                ConnectTimeout = TimeSpan.FromMilliseconds(device.ConnectTimeoutMs),
                MaxInFlight = device.MaxInFlight,
                MaxInFlightPerUnit = device.BehindGateway ? 1 : 0,
                ReconnectInitialDelay = TimeSpan.FromMilliseconds(device.ReconnectInitialDelayMs),
                ReconnectMaxDelay = TimeSpan.FromMilliseconds(device.ReconnectMaxDelayMs),
            };
            channelList.AddRange(points.Select(x => x.Descriptor));
            channelList.AddRange(waveforms.Select(x => x.Descriptor));
            deviceList.Add(new ModbusDeviceDefinition(
                device.Name,
                client,
                (byte)device.UnitId,
                pollInterval,
                device.WritesEnabled,
                device.AddressBase,
                points,
                waveforms,
                device.MaxRegistersPerRead,
                device.MaxBitsPerRead,
                device.MaxGap));
        }

        devices = deviceList;
        channels = channelList;
        return errors;
    }

    private static ModbusScalarPoint? ParsePoint(ModbusDeviceOptions device, ModbusPointOptions? point, string key, TimeSpan pollInterval, int channelIndex, HashSet<ChannelId> channelIds, List<string> errors)
    {
        if (point is null)
        {
            errors.Add($"{key}: empty point entry");
            return null;
        }

        var before = errors.Count;
        var id = ParseChannel(point.Channel, $"{key}:Channel", channelIds, errors);
        if (!ModbusNames.TryParseTable(point.Table, out var table))
        {
            errors.Add($"{key}:Table: '{point.Table}' is not allowed; allowed: {ModbusNames.AllowedTables}");
        }

        if (!ModbusValueFormat.TryParseType(point.Type, out var type))
        {
            errors.Add($"{key}:Type: '{point.Type}' is not allowed; allowed: {ModbusValueFormat.AllowedTypes}");
        }

        var (byteOrder, wordOrder) = ParseOrders(point.Order, point.ByteOrder, point.WordOrder, key, errors);
        if (table.IsBitTable() && type != ModbusDataType.Bool)
        {
            errors.Add($"{key}:Type: '{point.Type}' cannot be read from {table}; a bit table holds bool only");
        }

        if (point.Bit is { } bit && (bit is < 0 or > 15 || type != ModbusDataType.Bool || table.IsBitTable()))
        {
            errors.Add($"{key}:Bit: {bit} is not allowed; allowed: 0..15, with Type bool in a register table");
        }

        var wire = ToWireAddress(point.Address, device.AddressBase, RegisterCodec.RegisterCount(type), $"{key}:Address", errors);
        if (!double.IsFinite(point.Scale) || point.Scale == 0 || !double.IsFinite(point.Offset))
        {
            errors.Add($"{key}:Scale/Offset: must be finite and Scale non-zero (were {point.Scale.ToString(CultureInfo.InvariantCulture)} and {point.Offset.ToString(CultureInfo.InvariantCulture)})");
        }

        if (point.Min is { } min && point.Max is { } max && min > max)
        {
            errors.Add($"{key}:Min/Max: Min {min.ToString(CultureInfo.InvariantCulture)} is above Max {max.ToString(CultureInfo.InvariantCulture)}");
        }

        var signalUnit = SignalUnit.Dimensionless;
        if (!string.IsNullOrWhiteSpace(point.Unit) && !SignalUnits.TryParse(point.Unit, out signalUnit))
        {
            errors.Add($"{key}:Unit: '{point.Unit}' is not allowed; allowed: {SignalUnits.AllowedNames}");
        }

        if (errors.Count != before || id is null)
        {
            return null;
        }

        // Scalars are not windowed: the pipeline keeps the latest value, and a speed point (rpm, Hz)
        // becomes the tachometer of its machine's waveform channels. No unit = dimensionless.
        var descriptor = new ChannelDescriptor { Id = id, Kind = ChannelKind.Scalar, SampleRateHz = 1.0 / pollInterval.TotalSeconds, Unit = signalUnit };
        return new ModbusScalarPoint(
            channelIndex,
            descriptor,
            point.Unit,
            new ModbusPointAddress(table, wire, new ModbusValueFormat(type, byteOrder, wordOrder), point.Bit ?? -1),
            point.Scale,
            point.Offset,
            point.Min ?? double.NegativeInfinity,
            point.Max ?? double.PositiveInfinity);
    }

    private static ModbusWaveformPoint? ParseWaveform(ModbusDeviceOptions device, ModbusWaveformOptions? waveform, string key, int channelIndex, HashSet<ChannelId> channelIds, List<string> errors)
    {
        if (waveform is null)
        {
            errors.Add($"{key}: empty waveform entry");
            return null;
        }

        var before = errors.Count;
        var id = ParseChannel(waveform.Channel, $"{key}:Channel", channelIds, errors);
        if (!ModbusNames.TryParseTable(waveform.Table, out var table) || table.IsBitTable())
        {
            errors.Add($"{key}:Table: '{waveform.Table}' is not allowed; allowed: Input, Holding");
        }

        var (byteOrder, wordOrder) = ParseOrders(waveform.Order, null, null, key, errors);
        Check(errors, waveform.SampleCount is >= 1 and <= ModbusWaveformLayout.MaxSampleCount, $"{key}:SampleCount", waveform.SampleCount, "1.." + ModbusWaveformLayout.MaxSampleCount.ToString(CultureInfo.InvariantCulture));
        Check(errors, double.IsFinite(waveform.SampleRateHz) && waveform.SampleRateHz > 0, $"{key}:SampleRateHz", waveform.SampleRateHz, "a positive rate in Hz");
        Check(errors, waveform.PollIntervalMs is >= 10 and <= 3_600_000, $"{key}:PollIntervalMs", waveform.PollIntervalMs, "10..3600000");
        Check(errors, waveform.TornRetries is >= 0 and <= 20, $"{key}:TornRetries", waveform.TornRetries, "0..20");
        if (waveform.Unit is not null && !SignalUnits.TryParse(waveform.Unit, out _))
        {
            errors.Add($"{key}:Unit: '{waveform.Unit}' is not allowed; allowed: {SignalUnits.AllowedNames}");
        }

        var total = (2 * Math.Max(1, waveform.SampleCount)) + ModbusWaveformLayout.SamplesOffset + 1;
        var wire = ToWireAddress(waveform.Address, device.AddressBase, total, $"{key}:Address", errors);
        if (errors.Count != before || id is null)
        {
            return null;
        }

        var descriptor = new ChannelDescriptor
        {
            Id = id,
            SampleRateHz = waveform.SampleRateHz,
            Unit = waveform.Unit is null ? SignalUnit.G : SignalUnits.Parse(waveform.Unit),
            FullScale = waveform.FullScale,
        };
        return new ModbusWaveformPoint(
            channelIndex,
            descriptor,
            table,
            new ModbusWaveformLayout(wire, waveform.SampleCount),
            byteOrder,
            wordOrder,
            TimeSpan.FromMilliseconds(waveform.PollIntervalMs),
            waveform.Contiguous,
            waveform.TornRetries,
            waveform.Scale,
            waveform.Offset);
    }

    private static ChannelId? ParseChannel(string? text, string key, HashSet<ChannelId> seen, List<string> errors)
    {
        try
        {
            var id = ChannelId.Parse(text ?? "");
            if (!seen.Add(id))
            {
                errors.Add($"{key}: channel '{id}' is declared twice");
                return null;
            }

            return id;
        }
        catch (FormatException ex)
        {
            errors.Add($"{key}: {ex.Message}");
            return null;
        }
    }

    private static (ModbusByteOrder, ModbusWordOrder) ParseOrders(string? order, string? byteOrderText, string? wordOrderText, string key, List<string> errors)
    {
        if (!ModbusValueFormat.TryParseOrder(order, out var byteOrder, out var wordOrder))
        {
            errors.Add($"{key}:Order: '{order}' is not allowed; allowed: {ModbusValueFormat.AllowedOrders}");
        }

        if (byteOrderText is not null)
        {
            if (Enum.TryParse<ModbusByteOrder>(byteOrderText, ignoreCase: true, out var parsed) && Enum.IsDefined(parsed))
            {
                byteOrder = parsed;
            }
            else
            {
                errors.Add($"{key}:ByteOrder: '{byteOrderText}' is not allowed; allowed: BigEndian, LittleEndian");
            }
        }

        if (wordOrderText is not null)
        {
            if (Enum.TryParse<ModbusWordOrder>(wordOrderText, ignoreCase: true, out var parsed) && Enum.IsDefined(parsed))
            {
                wordOrder = parsed;
            }
            else
            {
                errors.Add($"{key}:WordOrder: '{wordOrderText}' is not allowed; allowed: HighWordFirst, LowWordFirst");
            }
        }

        return (byteOrder, wordOrder);
    }

    private static ushort ToWireAddress(int address, int addressBase, int length, string key, List<string> errors)
    {
        var wire = address - addressBase;
        if (address < addressBase || wire + length > 65536)
        {
            errors.Add(string.Create(
                CultureInfo.InvariantCulture,
                $"{key}: {address} is not allowed; allowed: {addressBase}..{65536 - length + addressBase} (AddressBase {addressBase}, value spans {length})"));
            return 0;
        }

        return (ushort)wire;
    }

    private static bool TryParseParity(string? text, out ModbusParity parity) =>
        Enum.TryParse(text ?? "Even", ignoreCase: true, out parity) && Enum.IsDefined(parity);

    private static void Check<T>(List<string> errors, bool ok, string key, T value, string allowed)
    {
        if (!ok)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"{key}: {value} is not allowed; allowed: {allowed}"));
        }
    }

    private static string Key(string relative) => ModbusOptions.SectionName + ":" + relative;
}

/// <summary>Validates <see cref="ModbusOptions"/> at start-up; each failure names its key and the allowed values.</summary>
public sealed class ModbusOptionsValidator : IValidateOptions<ModbusOptions>
{
    public ValidateOptionsResult Validate(string? name, ModbusOptions options)
    {
        var errors = ModbusDeviceMap.Build(options, out _, out _);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
