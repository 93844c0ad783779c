using System.Buffers.Binary;
using System.Collections;

namespace FactoryEdge.Modbus;

/// <summary>
/// The four Modbus tables of a simulated device (65536 entries each), with optional holes (addresses
/// that answer exception 02, as real devices with sparse maps do). Every request is served under
/// <see cref="SyncRoot"/>, so an update made under that lock is atomic with respect to requests.
/// </summary>
public sealed class ModbusRegisterBank
{
    private const int Size = 65536;
    private readonly ushort[] _holding = new ushort[Size];
    private readonly ushort[] _input = new ushort[Size];
    private readonly bool[] _coils = new bool[Size];
    private readonly bool[] _discrete = new bool[Size];
    private readonly BitArray[] _holes = [new(Size), new(Size), new(Size), new(Size)];
    private readonly bool[] _hasHoles = new bool[4];

    /// <summary>Held while a request is served; take it to make multi-register updates atomic.</summary>
    public Lock SyncRoot { get; } = new();

    /// <summary>Called (under <see cref="SyncRoot"/>) after a client wrote: table, address, count.</summary>
    public Action<ModbusTable, ushort, int>? Written { get; set; }

    public void SetRegisters(ModbusTable table, ushort address, ReadOnlySpan<ushort> values)
    {
        CheckSpan(address, values.Length);
        lock (SyncRoot)
        {
            values.CopyTo(Registers(table).AsSpan(address));
        }
    }

    public void SetRegister(ModbusTable table, ushort address, ushort value)
    {
        lock (SyncRoot)
        {
            Registers(table)[address] = value;
        }
    }

    public void GetRegisters(ModbusTable table, ushort address, Span<ushort> destination)
    {
        CheckSpan(address, destination.Length);
        lock (SyncRoot)
        {
            Registers(table).AsSpan(address, destination.Length).CopyTo(destination);
        }
    }

    public ushort GetRegister(ModbusTable table, ushort address)
    {
        lock (SyncRoot)
        {
            return Registers(table)[address];
        }
    }

    public void SetBits(ModbusTable table, ushort address, ReadOnlySpan<bool> values)
    {
        CheckSpan(address, values.Length);
        lock (SyncRoot)
        {
            values.CopyTo(Bits(table).AsSpan(address));
        }
    }

    public void GetBits(ModbusTable table, ushort address, Span<bool> destination)
    {
        CheckSpan(address, destination.Length);
        lock (SyncRoot)
        {
            Bits(table).AsSpan(address, destination.Length).CopyTo(destination);
        }
    }

    /// <summary>Encodes a value into registers at <paramref name="address"/>.</summary>
    public void SetValue(ModbusTable table, ushort address, double value, ModbusValueFormat format)
    {
        Span<ushort> registers = stackalloc ushort[4];
        RegisterCodec.Encode(value, format, registers);
        SetRegisters(table, address, registers[..format.RegisterCount]);
    }

    /// <summary>Marks addresses as absent (exception 02 on any request touching them) or present again.</summary>
    public void SetHole(ModbusTable table, ushort address, int count, bool absent = true)
    {
        CheckSpan(address, count);
        lock (SyncRoot)
        {
            var holes = _holes[(int)table];
            for (var i = 0; i < count; i++)
            {
                holes[address + i] = absent;
            }

            _hasHoles[(int)table] = HasAny(holes);
        }
    }

    /// <summary>
    /// Serves a request PDU into <paramref name="response"/> (under the lock). Returns the response
    /// PDU length: a normal response, or an exception response (01 unsupported function, 02 address
    /// out of the map, 03 bad quantity or value).
    /// </summary>
    public int Serve(ReadOnlySpan<byte> request, Span<byte> response)
    {
        if (request.Length < 1)
        {
            return Exception(response, 0, ModbusExceptionCode.IllegalFunction);
        }

        var fc = request[0];
        if (!ModbusPdu.IsSupported(fc))
        {
            return Exception(response, fc, ModbusExceptionCode.IllegalFunction);
        }

        if (request.Length < 5)
        {
            return Exception(response, fc, ModbusExceptionCode.IllegalDataValue);
        }

        var address = BinaryPrimitives.ReadUInt16BigEndian(request[1..]);
        var quantity = BinaryPrimitives.ReadUInt16BigEndian(request[3..]);
        lock (SyncRoot)
        {
            switch ((ModbusFunction)fc)
            {
                case ModbusFunction.ReadCoils or ModbusFunction.ReadDiscreteInputs:
                    {
                        var table = fc == 1 ? ModbusTable.Coils : ModbusTable.DiscreteInputs;
                        if (request.Length != 5 || quantity is < 1 or > ModbusLimits.MaxReadBits)
                        {
                            return Exception(response, fc, ModbusExceptionCode.IllegalDataValue);
                        }

                        if (!Present(table, address, quantity))
                        {
                            return Exception(response, fc, ModbusExceptionCode.IllegalDataAddress);
                        }

                        var byteCount = (quantity + 7) / 8;
                        response[0] = fc;
                        response[1] = (byte)byteCount;
                        ModbusPdu.PackBits(Bits(table).AsSpan(address, quantity), response.Slice(2, byteCount));
                        return 2 + byteCount;
                    }

                case ModbusFunction.ReadHoldingRegisters or ModbusFunction.ReadInputRegisters:
                    {
                        var table = fc == 3 ? ModbusTable.HoldingRegisters : ModbusTable.InputRegisters;
                        if (request.Length != 5 || quantity is < 1 or > ModbusLimits.MaxReadRegisters)
                        {
                            return Exception(response, fc, ModbusExceptionCode.IllegalDataValue);
                        }

                        if (!Present(table, address, quantity))
                        {
                            return Exception(response, fc, ModbusExceptionCode.IllegalDataAddress);
                        }

                        response[0] = fc;
                        response[1] = (byte)(2 * quantity);
                        var source = Registers(table);
                        for (var i = 0; i < quantity; i++)
                        {
                            BinaryPrimitives.WriteUInt16BigEndian(response[(2 + (2 * i))..], source[address + i]);
                        }

                        return 2 + (2 * quantity);
                    }

                case ModbusFunction.WriteSingleCoil:
                    if (request.Length != 5 || (quantity != 0xFF00 && quantity != 0))
                    {
                        return Exception(response, fc, ModbusExceptionCode.IllegalDataValue);
                    }

                    if (!Present(ModbusTable.Coils, address, 1))
                    {
                        return Exception(response, fc, ModbusExceptionCode.IllegalDataAddress);
                    }

                    _coils[address] = quantity == 0xFF00;
                    Written?.Invoke(ModbusTable.Coils, address, 1);
                    request[..5].CopyTo(response);
                    return 5;

                case ModbusFunction.WriteSingleRegister:
                    if (request.Length != 5)
                    {
                        return Exception(response, fc, ModbusExceptionCode.IllegalDataValue);
                    }

                    if (!Present(ModbusTable.HoldingRegisters, address, 1))
                    {
                        return Exception(response, fc, ModbusExceptionCode.IllegalDataAddress);
                    }

                    _holding[address] = quantity;
                    Written?.Invoke(ModbusTable.HoldingRegisters, address, 1);
                    request[..5].CopyTo(response);
                    return 5;

                case ModbusFunction.WriteMultipleCoils:
                    {
                        if (quantity is < 1 or > ModbusLimits.MaxWriteCoils || request.Length < 6 || request[5] != (quantity + 7) / 8 || request.Length != 6 + request[5])
                        {
                            return Exception(response, fc, ModbusExceptionCode.IllegalDataValue);
                        }

                        if (!Present(ModbusTable.Coils, address, quantity))
                        {
                            return Exception(response, fc, ModbusExceptionCode.IllegalDataAddress);
                        }

                        ModbusPdu.UnpackBits(request[6..], _coils.AsSpan(address, quantity));
                        Written?.Invoke(ModbusTable.Coils, address, quantity);
                        request[..5].CopyTo(response);
                        return 5;
                    }

                default:
                    {
                        if (quantity is < 1 or > ModbusLimits.MaxWriteRegisters || request.Length < 6 || request[5] != 2 * quantity || request.Length != 6 + request[5])
                        {
                            return Exception(response, fc, ModbusExceptionCode.IllegalDataValue);
                        }

                        if (!Present(ModbusTable.HoldingRegisters, address, quantity))
                        {
                            return Exception(response, fc, ModbusExceptionCode.IllegalDataAddress);
                        }

                        ModbusPdu.ReadRegisters(request[6..], _holding.AsSpan(address, quantity));
                        Written?.Invoke(ModbusTable.HoldingRegisters, address, quantity);
                        request[..5].CopyTo(response);
                        return 5;
                    }
            }
        }
    }

    internal static int Exception(Span<byte> response, byte functionCode, ModbusExceptionCode code)
    {
        response[0] = (byte)(functionCode | 0x80);
        response[1] = (byte)code;
        return 2;
    }

    private bool Present(ModbusTable table, int address, int count)
    {
        if (address + count > Size)
        {
            return false;
        }

        if (!_hasHoles[(int)table])
        {
            return true;
        }

        var holes = _holes[(int)table];
        for (var i = 0; i < count; i++)
        {
            if (holes[address + i])
            {
                return false;
            }
        }

        return true;
    }

    private ushort[] Registers(ModbusTable table) => table switch
    {
        ModbusTable.HoldingRegisters => _holding,
        ModbusTable.InputRegisters => _input,
        _ => throw new ArgumentException($"{table} holds bits, not registers.", nameof(table)),
    };

    private bool[] Bits(ModbusTable table) => table switch
    {
        ModbusTable.Coils => _coils,
        ModbusTable.DiscreteInputs => _discrete,
        _ => throw new ArgumentException($"{table} holds registers, not bits.", nameof(table)),
    };

    private static bool HasAny(BitArray bits)
    {
        for (var i = 0; i < bits.Length; i++)
        {
            if (bits[i])
            {
                return true;
            }
        }

        return false;
    }

    private static void CheckSpan(int address, int count)
    {
        if (count < 0 || address + count > Size)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, "The span runs past address 65535.");
        }
    }
}
