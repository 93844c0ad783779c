namespace FactoryEdge.Modbus;

/// <summary>
/// Modbus devices the gateway polls (configuration section <see cref="SectionName"/>). Strings are
/// used for enumerations so that a bad value is reported with its key and the allowed values;
/// <see cref="ModbusOptionsValidator"/> checks everything at start-up.
/// </summary>
public sealed class ModbusOptions
{
    public const string SectionName = "FactoryEdge:Modbus";

    /// <summary>False turns the Modbus source off (it declares no channels).</summary>
    public bool Enabled { get; set; } = true;

    public List<ModbusDeviceOptions> Devices { get; set; } = [];
}

/// <summary>One Modbus device (a unit id at an endpoint). Devices at the same endpoint share one connection.</summary>
public sealed class ModbusDeviceOptions
{
    /// <summary>Unique name, used in logs.</summary>
    public string Name { get; set; } = "";

    /// <summary>Tcp (default), RtuOverTcp or RtuSerial.</summary>
    public string Framing { get; set; } = "Tcp";

    public string Host { get; set; } = "";

    public int Port { get; set; } = 502;

    /// <summary>Serial device for RtuSerial (e.g. /dev/ttyUSB0).</summary>
    public string? SerialPort { get; set; }

    public int BaudRate { get; set; } = 19200;

    /// <summary>None, Even (default) or Odd.</summary>
    public string Parity { get; set; } = "Even";

    public int DataBits { get; set; } = 8;

    public int StopBits { get; set; } = 1;

    /// <summary>Unit id (slave address): 0–255 on TCP, 1–247 on RTU.</summary>
    public int UnitId { get; set; } = 1;

    /// <summary>
    /// Numbering of the addresses in this device's map: 0 (protocol addresses, as on the wire) or 1
    /// (the device manual counts from 1; register 1 is protocol address 0).
    /// </summary>
    public int AddressBase { get; set; }

    /// <summary>Poll interval of the scalar points, in milliseconds.</summary>
    public int PollIntervalMs { get; set; } = 1000;

    /// <summary>Time a request may wait for its reply, in milliseconds (raise it for slow devices).</summary>
    public int TimeoutMs { get; set; } = 1000;

    public int ConnectTimeoutMs { get; set; } = 3000;

    /// <summary>Largest register read the device accepts (spec maximum 125; some devices allow fewer).</summary>
    public int MaxRegistersPerRead { get; set; } = ModbusLimits.MaxReadRegisters;

    /// <summary>Largest bit read the device accepts (spec maximum 2000).</summary>
    public int MaxBitsPerRead { get; set; } = ModbusLimits.MaxReadBits;

    /// <summary>Unused registers (bits) allowed inside one coalesced read.</summary>
    public int MaxGap { get; set; } = 8;

    /// <summary>Requests in flight at once on the connection (pipelining depth). 1 turns pipelining off.</summary>
    public int MaxInFlight { get; set; } = 4;

    /// <summary>The unit sits behind a TCP→RTU gateway that serves one request at a time: depth 1 per unit.</summary>
    public bool BehindGateway { get; set; }

    /// <summary>Writes through the service are refused unless this is true.</summary>
    public bool WritesEnabled { get; set; }

    public int ReconnectInitialDelayMs { get; set; } = 200;

    public int ReconnectMaxDelayMs { get; set; } = 30_000;

    public List<ModbusPointOptions> Points { get; set; } = [];

    public List<ModbusWaveformOptions> Waveforms { get; set; } = [];
}

/// <summary>A scalar value (overall RMS, temperature, speed...) polled at the device's rate.</summary>
public sealed class ModbusPointOptions
{
    /// <summary>Channel id site/line/machine/sensor/axis.</summary>
    public string Channel { get; set; } = "";

    /// <summary>Holding (default), Input, Coils or Discrete.</summary>
    public string Table { get; set; } = "Holding";

    /// <summary>Address in the device's numbering (see <see cref="ModbusDeviceOptions.AddressBase"/>).</summary>
    public int Address { get; set; } = -1;

    /// <summary>bool, int16, uint16, int32, uint32, int64, uint64, float32, float64.</summary>
    public string Type { get; set; } = "uint16";

    /// <summary>ABCD (default), CDAB, BADC or DCBA; or use <see cref="ByteOrder"/> and <see cref="WordOrder"/>.</summary>
    public string? Order { get; set; }

    /// <summary>BigEndian or LittleEndian (bytes inside a register); overrides <see cref="Order"/>.</summary>
    public string? ByteOrder { get; set; }

    /// <summary>HighWordFirst or LowWordFirst (registers of a 32/64-bit value); overrides <see cref="Order"/>.</summary>
    public string? WordOrder { get; set; }

    /// <summary>For a bool in a register: the bit (0–15); otherwise any non-zero register is true.</summary>
    public int? Bit { get; set; }

    /// <summary>Engineering value = raw × Scale + Offset.</summary>
    public double Scale { get; set; } = 1;

    public double Offset { get; set; }

    /// <summary>Unit of the engineering value (g, m/s2, mm/s, um map to the pipeline's units; others are kept as text).</summary>
    public string? Unit { get; set; }

    /// <summary>Values below are written with bad quality.</summary>
    public double? Min { get; set; }

    /// <summary>Values above are written with bad quality.</summary>
    public double? Max { get; set; }
}

/// <summary>A waveform block in the documented layout (sequence head, count, rate, float32 samples, sequence tail).</summary>
public sealed class ModbusWaveformOptions
{
    public string Channel { get; set; } = "";

    /// <summary>Input (default) or Holding.</summary>
    public string Table { get; set; } = "Input";

    /// <summary>Address of the block's head register, in the device's numbering.</summary>
    public int Address { get; set; } = -1;

    public int SampleCount { get; set; }

    public double SampleRateHz { get; set; }

    public string? Unit { get; set; } = "g";

    /// <summary>Order of the float32 samples: ABCD (default), CDAB, BADC, DCBA.</summary>
    public string? Order { get; set; }

    /// <summary>How often the block is checked for a new sequence number, in milliseconds.</summary>
    public int PollIntervalMs { get; set; } = 1000;

    /// <summary>
    /// True when consecutive blocks are back to back in time (a streaming device or a replay);
    /// false (default) for snapshot devices, whose every block starts after a gap.
    /// </summary>
    public bool Contiguous { get; set; }

    /// <summary>Immediate re-reads after a torn read before the block is given up.</summary>
    public int TornRetries { get; set; } = 3;

    public double Scale { get; set; } = 1;

    public double Offset { get; set; }

    /// <summary>Sensor full scale in its unit (0 = unknown), passed to the channel descriptor.</summary>
    public double FullScale { get; set; }
}
