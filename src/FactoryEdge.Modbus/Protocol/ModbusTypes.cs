namespace FactoryEdge.Modbus;

/// <summary>The public function codes this stack speaks (Modbus Application Protocol V1.1b3, §6).</summary>
public enum ModbusFunction : byte
{
    ReadCoils = 0x01,
    ReadDiscreteInputs = 0x02,
    ReadHoldingRegisters = 0x03,
    ReadInputRegisters = 0x04,
    WriteSingleCoil = 0x05,
    WriteSingleRegister = 0x06,
    WriteMultipleCoils = 0x0F,
    WriteMultipleRegisters = 0x10,
}

/// <summary>Exception codes of an exception response (§7).</summary>
public enum ModbusExceptionCode : byte
{
    IllegalFunction = 0x01,
    IllegalDataAddress = 0x02,
    IllegalDataValue = 0x03,
    ServerDeviceFailure = 0x04,
    Acknowledge = 0x05,
    ServerDeviceBusy = 0x06,
    MemoryParityError = 0x08,
    GatewayPathUnavailable = 0x0A,
    GatewayTargetDeviceFailedToRespond = 0x0B,
}

/// <summary>The four data tables of the Modbus data model.</summary>
public enum ModbusTable
{
    Coils,
    DiscreteInputs,
    HoldingRegisters,
    InputRegisters,
}

/// <summary>How requests are framed on the wire.</summary>
public enum ModbusFraming
{
    /// <summary>Modbus TCP: MBAP header with transaction ids (pipelining possible).</summary>
    Tcp,
    /// <summary>RTU frames (unit, PDU, CRC-16) carried over a TCP connection: one request at a time.</summary>
    RtuOverTcp,
    /// <summary>RTU frames on a serial line (System.IO.Ports): one request at a time.</summary>
    RtuSerial,
}

/// <summary>Protocol limits from the specification.</summary>
public static class ModbusLimits
{
    /// <summary>Largest PDU: 253 bytes (256-byte RTU ADU minus unit and CRC).</summary>
    public const int MaxPduLength = 253;

    /// <summary>MBAP header: transaction id, protocol id, length, unit id.</summary>
    public const int MbapHeaderLength = 7;

    /// <summary>Largest Modbus TCP ADU: 7-byte MBAP header plus 253-byte PDU.</summary>
    public const int MaxTcpAduLength = MbapHeaderLength + MaxPduLength;

    /// <summary>Largest RTU ADU: unit, PDU, CRC.</summary>
    public const int MaxRtuAduLength = 256;

    /// <summary>Registers per read request (function 03/04).</summary>
    public const int MaxReadRegisters = 125;

    /// <summary>Bits per read request (function 01/02).</summary>
    public const int MaxReadBits = 2000;

    /// <summary>Registers per write-multiple request (function 16).</summary>
    public const int MaxWriteRegisters = 123;

    /// <summary>Coils per write-multiple request (function 15).</summary>
    public const int MaxWriteCoils = 1968;
}

/// <summary>Names and helpers for the protocol enums.</summary>
public static class ModbusNames
{
    public static string Describe(this ModbusExceptionCode code) => code switch
    {
        ModbusExceptionCode.IllegalFunction => "the function code is not supported by the device",
        ModbusExceptionCode.IllegalDataAddress => "the address range is not (entirely) present in the device",
        ModbusExceptionCode.IllegalDataValue => "a value in the request is not acceptable to the device",
        ModbusExceptionCode.ServerDeviceFailure => "the device failed while performing the request",
        ModbusExceptionCode.Acknowledge => "the device accepted a long-running request",
        ModbusExceptionCode.ServerDeviceBusy => "the device is busy, retry later",
        ModbusExceptionCode.MemoryParityError => "the device found a memory parity error",
        ModbusExceptionCode.GatewayPathUnavailable => "the gateway has no path to the target unit (check the unit id and the gateway's routing)",
        ModbusExceptionCode.GatewayTargetDeviceFailedToRespond => "the gateway's target device did not respond (device off, wiring, unit id or baud rate)",
        _ => "unknown exception code",
    };

    /// <summary>The table a read function addresses.</summary>
    public static ModbusFunction ReadFunction(this ModbusTable table) => table switch
    {
        ModbusTable.Coils => ModbusFunction.ReadCoils,
        ModbusTable.DiscreteInputs => ModbusFunction.ReadDiscreteInputs,
        ModbusTable.HoldingRegisters => ModbusFunction.ReadHoldingRegisters,
        ModbusTable.InputRegisters => ModbusFunction.ReadInputRegisters,
        _ => throw new ArgumentOutOfRangeException(nameof(table), table, null),
    };

    public static bool IsBitTable(this ModbusTable table) => table is ModbusTable.Coils or ModbusTable.DiscreteInputs;

    /// <summary>Largest read of this table in one request.</summary>
    public static int MaxReadCount(this ModbusTable table) => table.IsBitTable() ? ModbusLimits.MaxReadBits : ModbusLimits.MaxReadRegisters;

    /// <summary>Parses a table name as used in configuration and on the command line.</summary>
    public static bool TryParseTable(string? text, out ModbusTable table)
    {
        switch (text?.Trim().ToLowerInvariant())
        {
            case "holding" or "holdingregisters" or "holding-registers" or "hr" or "4x":
                table = ModbusTable.HoldingRegisters;
                return true;
            case "input" or "inputregisters" or "input-registers" or "ir" or "3x":
                table = ModbusTable.InputRegisters;
                return true;
            case "coil" or "coils" or "0x":
                table = ModbusTable.Coils;
                return true;
            case "discrete" or "discreteinputs" or "discrete-inputs" or "di" or "1x":
                table = ModbusTable.DiscreteInputs;
                return true;
            default:
                table = default;
                return false;
        }
    }

    /// <summary>Table names accepted by <see cref="TryParseTable"/>.</summary>
    public const string AllowedTables = "Holding, Input, Coils, Discrete";

    public static bool TryParseFraming(string? text, out ModbusFraming framing)
    {
        switch (text?.Trim().ToLowerInvariant())
        {
            case "tcp" or "" or null:
                framing = ModbusFraming.Tcp;
                return true;
            case "rtuovertcp" or "rtu-over-tcp" or "rtutcp":
                framing = ModbusFraming.RtuOverTcp;
                return true;
            case "rtu" or "rtuserial" or "serial":
                framing = ModbusFraming.RtuSerial;
                return true;
            default:
                framing = default;
                return false;
        }
    }

    /// <summary>Framing names accepted by <see cref="TryParseFraming"/>.</summary>
    public const string AllowedFramings = "Tcp, RtuOverTcp, RtuSerial";
}
