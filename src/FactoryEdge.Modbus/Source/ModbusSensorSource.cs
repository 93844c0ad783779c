using System.Collections.Concurrent;
using FactoryEdge.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace FactoryEdge.Modbus;

/// <summary>
/// The Modbus sensor source: polls the configured devices at their rates and feeds (a) scalar
/// channels, one sample per poll, and (b) waveform blocks read in snapshot mode with torn-read
/// rejection and missed/repeated block detection. Modbus carries no timestamps: every sample is
/// stamped at receipt with the host clock, marked <see cref="ClockQuality.Unsynchronized"/> unless the
/// host clock is known to be synchronised (<see cref="HostClock.ReceiptClockQuality"/>).
/// </summary>
/// <remarks>
/// Sample indices: a scalar channel's index is its poll slot number, so a failed or skipped poll
/// leaves a hole in the indices; a waveform's first index is its unwrapped block sequence × the
/// block size. After a channel recovers from a communication failure, and when blocks were missed,
/// the source also calls <see cref="IChannelWriter.MarkGap"/>. Values out of the configured range,
/// non-finite values and device exception responses are written with <see cref="SampleQuality.Bad"/>.
/// </remarks>
public sealed class ModbusSensorSource : ISensorSource
{
    private readonly IReadOnlyList<ModbusDeviceDefinition> _devices;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly ConcurrentDictionary<string, ModbusClient> _clients = new(StringComparer.Ordinal);

    public ModbusSensorSource(IOptions<ModbusOptions> options, ILoggerFactory? loggerFactory = null, TimeProvider? timeProvider = null)
        : this(options?.Value!, loggerFactory, timeProvider)
    {
    }

    public ModbusSensorSource(ModbusOptions options, ILoggerFactory? loggerFactory = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = ModbusDeviceMap.Build(options, out var devices, out var channels);
        if (errors.Count > 0)
        {
            throw new OptionsValidationException(ModbusOptions.SectionName, typeof(ModbusOptions), errors);
        }

        _devices = devices;
        Channels = channels;
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _logger = _loggerFactory.CreateLogger<ModbusSensorSource>();
        _timeProvider = timeProvider ?? TimeProvider.System;
    }

    public string Name => "modbus";

    public IReadOnlyList<ChannelDescriptor> Channels { get; }

    public IReadOnlyList<ModbusDeviceDefinition> Devices => _devices;

    public ModbusSourceStatistics Statistics { get; } = new();

    /// <summary>Statistics of each connection (by endpoint) while the source runs.</summary>
    public IReadOnlyDictionary<string, ModbusClientStatistics> ClientStatistics =>
        _clients.ToDictionary(x => x.Key, x => x.Value.Statistics, StringComparer.Ordinal);

    public async Task RunAsync(IReadOnlyList<IChannelWriter> writers, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(writers);
        if (writers.Count != Channels.Count)
        {
            throw new ArgumentException($"Expected {Channels.Count} writers (one per channel), got {writers.Count}.", nameof(writers));
        }

        var tasks = new List<Task>();
        try
        {
            foreach (var group in _devices.GroupBy(d => d.ConnectionKey, StringComparer.Ordinal))
            {
                var options = group.First().Client.Clone();
                options.MaxInFlight = group.Min(d => d.Client.MaxInFlight);
                options.MaxInFlightPerUnit = group.Max(d => d.Client.MaxInFlightPerUnit);
                _clients[group.Key] = new ModbusClient(options, _loggerFactory.CreateLogger<ModbusClient>(), _timeProvider);
            }

            var phaseIndex = 0;
            var phaseCount = Math.Max(1, _devices.Sum(d => (d.Points.Count > 0 ? 1 : 0) + d.Waveforms.Count));
            foreach (var device in _devices)
            {
                var client = _clients[device.ConnectionKey];
                if (device.Points.Count > 0)
                {
                    var poller = new ScalarPoller(device, client, writers, Statistics, _logger, _timeProvider);
                    var phase = device.PollInterval * ((double)phaseIndex++ / phaseCount);
                    tasks.Add(Task.Run(() => poller.RunAsync(phase, cancellationToken), CancellationToken.None));
                }

                foreach (var waveform in device.Waveforms)
                {
                    var poller = new WaveformPoller(device, waveform, client, writers[waveform.ChannelIndex], Statistics, _logger, _timeProvider);
                    var phase = waveform.PollInterval * ((double)phaseIndex++ / phaseCount);
                    tasks.Add(Task.Run(() => poller.RunAsync(phase, cancellationToken), CancellationToken.None));
                }
            }

            if (tasks.Count == 0)
            {
                await Task.Delay(Timeout.InfiniteTimeSpan, _timeProvider, cancellationToken).ConfigureAwait(false);
            }

            await Task.WhenAll(tasks).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping.
        }
        finally
        {
            foreach (var client in _clients.Values)
            {
                await client.DisposeAsync().ConfigureAwait(false);
            }

            _clients.Clear();
        }
    }

    /// <summary>
    /// Writes holding registers of a device through the running source's connection. Refused unless
    /// the device has WritesEnabled. <paramref name="address"/> is in the device's numbering.
    /// </summary>
    public async Task WriteRegistersAsync(string deviceName, int address, ReadOnlyMemory<ushort> values, CancellationToken cancellationToken)
    {
        var device = _devices.FirstOrDefault(d => string.Equals(d.Name, deviceName, StringComparison.Ordinal))
            ?? throw new ArgumentException($"No Modbus device named '{deviceName}'.", nameof(deviceName));
        if (!device.WritesEnabled)
        {
            throw new InvalidOperationException($"Writes to Modbus device '{deviceName}' are disabled; set WritesEnabled to true for that device to allow them.");
        }

        if (!_clients.TryGetValue(device.ConnectionKey, out var client))
        {
            throw new InvalidOperationException("The Modbus source is not running.");
        }

        var wire = address - device.AddressBase;
        if (wire < 0 || wire + values.Length > 65536)
        {
            throw new ArgumentOutOfRangeException(nameof(address), address, "Address outside the device's register space.");
        }

        await client.WriteMultipleRegistersAsync(device.UnitId, (ushort)wire, values, cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>Fixed-rate poll slots on a <see cref="TimeProvider"/>; overrunning polls skip slots instead of drifting.</summary>
internal sealed class SlotClock
{
    private readonly TimeProvider _timeProvider;
    private readonly long _start;
    private readonly long _interval;

    public SlotClock(TimeProvider timeProvider, TimeSpan interval, TimeSpan phase)
    {
        _timeProvider = timeProvider;
        _interval = Math.Max(1, (long)(interval.TotalSeconds * timeProvider.TimestampFrequency));
        _start = timeProvider.GetTimestamp() + (long)(phase.TotalSeconds * timeProvider.TimestampFrequency);
        Tolerance = Math.Max((long)(0.002 * timeProvider.TimestampFrequency), _interval / 10);
    }

    /// <summary>How late a poll may start and still be on time: 10 % of the interval, at least 2 ms.</summary>
    public long Tolerance { get; }

    public async ValueTask<long> WaitAsync(long slot, CancellationToken cancellationToken)
    {
        var due = _start + (slot * _interval);
        var wait = due - _timeProvider.GetTimestamp();
        if (wait > 0)
        {
            await Task.Delay(TimeSpan.FromSeconds((double)wait / _timeProvider.TimestampFrequency), _timeProvider, cancellationToken).ConfigureAwait(false);
        }

        return _timeProvider.GetTimestamp() - due;
    }

    /// <summary>The next slot to poll after <paramref name="slot"/>, and how many were skipped.</summary>
    public long Next(long slot, out long skipped)
    {
        var current = (_timeProvider.GetTimestamp() - _start) / _interval;
        var next = Math.Max(slot + 1, current + 1);
        skipped = next - slot - 1;
        return next;
    }
}

/// <summary>Polls the scalar points of one device.</summary>
internal sealed class ScalarPoller
{
    private enum PointState : byte
    {
        Pending,
        Ok,
        DeviceError,
        CommunicationError,
    }

    private readonly ModbusDeviceDefinition _device;
    private readonly ModbusClient _client;
    private readonly IReadOnlyList<IChannelWriter> _writers;
    private readonly ModbusSourceStatistics _statistics;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly IReadOnlyList<ModbusReadBlock> _blocks;
    private readonly ushort[][] _registers;
    private readonly bool[][] _bits;
    private readonly double[] _values;
    private readonly PointState[] _states;
    private readonly bool[] _down;
    private readonly bool[] _errorLogged;
    private readonly float[] _sample = new float[1];

    public ScalarPoller(ModbusDeviceDefinition device, ModbusClient client, IReadOnlyList<IChannelWriter> writers, ModbusSourceStatistics statistics, ILogger logger, TimeProvider timeProvider)
    {
        _device = device;
        _client = client;
        _writers = writers;
        _statistics = statistics;
        _logger = logger;
        _timeProvider = timeProvider;
        var addresses = new ModbusPointAddress[device.Points.Count];
        for (var i = 0; i < addresses.Length; i++)
        {
            addresses[i] = device.Points[i].Address;
        }

        _blocks = ModbusReadPlanner.Plan(addresses, device.MaxRegistersPerRead, device.MaxBitsPerRead, device.MaxGap);
        _registers = new ushort[_blocks.Count][];
        _bits = new bool[_blocks.Count][];
        for (var b = 0; b < _blocks.Count; b++)
        {
            if (_blocks[b].Table.IsBitTable())
            {
                _bits[b] = new bool[_blocks[b].Count];
            }
            else
            {
                _registers[b] = new ushort[_blocks[b].Count];
            }
        }

        _values = new double[addresses.Length];
        _states = new PointState[addresses.Length];
        _down = new bool[addresses.Length];
        _errorLogged = new bool[addresses.Length];
    }

    public async Task RunAsync(TimeSpan phase, CancellationToken cancellationToken)
    {
        var clock = new SlotClock(_timeProvider, _device.PollInterval, phase);
        long slot = 0;
        var tasks = new Task[_blocks.Count];
        while (true)
        {
            var lateness = await clock.WaitAsync(slot, cancellationToken).ConfigureAwait(false);
            Array.Fill(_states, PointState.Pending);
            for (var b = 0; b < _blocks.Count; b++)
            {
                tasks[b] = ReadBlockAsync(b, cancellationToken);
            }

            try
            {
                await Task.WhenAll(tasks).ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
                Publish(slot);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // A bug or an unexpected error must not end polling silently: log it and go on.
                _statistics.OnFailedPoll();
                Log.PollCrashed(_logger, _device.Name, ex);
            }

            var next = clock.Next(slot, out var skipped);
            _statistics.OnPoll(lateness <= clock.Tolerance && skipped == 0);
            if (skipped > 0)
            {
                _statistics.OnSkippedSlots(skipped);
            }

            slot = next;
        }
    }

    private void Publish(long slot)
    {
        var receivedTicks = _timeProvider.GetUtcNow().UtcTicks;
        var clock = HostClock.ReceiptClockQuality(_timeProvider);
        var failed = false;
        for (var i = 0; i < _states.Length; i++)
        {
            var point = _device.Points[i];
            var writer = _writers[point.ChannelIndex];
            var state = _states[i];
            if (state == PointState.CommunicationError)
            {
                failed = true;
                _down[i] = true;
                continue;
            }

            if (_down[i])
            {
                _down[i] = false;
                writer.MarkGap();
                _statistics.OnGap();
            }

            SampleQuality quality;
            if (state == PointState.Ok)
            {
                _errorLogged[i] = false;
                var value = _values[i];
                _sample[0] = (float)value;
                quality = double.IsFinite(value) && value >= point.Min && value <= point.Max && float.IsFinite(_sample[0]) ? SampleQuality.Good : SampleQuality.Bad;
            }
            else
            {
                failed = true;
                _sample[0] = float.NaN;
                quality = SampleQuality.Bad;
            }

            if (quality == SampleQuality.Bad)
            {
                _statistics.OnBadSample();
            }

            if (writer.TryWrite(new SampleBlock(_sample, slot, receivedTicks, quality, clock)))
            {
                _statistics.OnSamples(1);
            }
            else
            {
                _statistics.OnDropped(1);
            }
        }

        if (failed)
        {
            _statistics.OnFailedPoll();
        }
    }

    private async Task ReadBlockAsync(int b, CancellationToken cancellationToken)
    {
        var block = _blocks[b];
        if (!block.Split)
        {
            try
            {
                if (block.Table.IsBitTable())
                {
                    await _client.ReadBitsAsync(block.Table, _device.UnitId, block.Address, _bits[b], cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    await _client.ReadRegistersAsync(block.Table, _device.UnitId, block.Address, _registers[b], cancellationToken).ConfigureAwait(false);
                }

                foreach (var i in block.PointIndices)
                {
                    Decode(i, block.Address, _registers[b], _bits[b]);
                }

                return;
            }
            catch (ModbusExceptionResponseException ex) when (ex.Code == ModbusExceptionCode.IllegalDataAddress && block.PointIndices.Length > 1)
            {
                block.Split = true;
                _statistics.OnSplit();
                Log.SplitFallback(_logger, _device.Name, block.Table.ToString(), block.Address, block.Count, block.PointIndices.Length);
            }
            catch (ModbusException ex)
            {
                Fail(block.PointIndices, ex);
                return;
            }
        }

        var reads = new Task[block.PointIndices.Length];
        for (var k = 0; k < reads.Length; k++)
        {
            reads[k] = ReadPointAsync(block.PointIndices[k], cancellationToken);
        }

        await Task.WhenAll(reads).ConfigureAwait(false);
    }

    private async Task ReadPointAsync(int i, CancellationToken cancellationToken)
    {
        var address = _device.Points[i].Address;
        try
        {
            if (address.Table.IsBitTable())
            {
                var bits = new bool[1];
                await _client.ReadBitsAsync(address.Table, _device.UnitId, address.Address, bits, cancellationToken).ConfigureAwait(false);
                Decode(i, address.Address, [], bits);
            }
            else
            {
                var registers = new ushort[address.Length];
                await _client.ReadRegistersAsync(address.Table, _device.UnitId, address.Address, registers, cancellationToken).ConfigureAwait(false);
                Decode(i, address.Address, registers, []);
            }
        }
        catch (ModbusException ex)
        {
            Fail([i], ex);
        }
    }

    private void Decode(int i, ushort blockAddress, ushort[] registers, bool[] bits)
    {
        var point = _device.Points[i];
        var offset = point.Address.Address - blockAddress;
        var raw = point.Address.Table.IsBitTable()
            ? (bits[offset] ? 1.0 : 0.0)
            : RegisterCodec.Decode(registers.AsSpan(offset, point.Address.Length), point.Address.Format, point.Address.Bit);
        _values[i] = (raw * point.Scale) + point.Offset;
        _states[i] = PointState.Ok;
    }

    private void Fail(int[] pointIndices, ModbusException error)
    {
        var state = error is ModbusExceptionResponseException ? PointState.DeviceError : PointState.CommunicationError;
        foreach (var i in pointIndices)
        {
            _states[i] = state;
            if (!_errorLogged[i])
            {
                _errorLogged[i] = true;
                Log.PointReadFailed(_logger, _device.Name, _device.Points[i].Descriptor.Id.ToString(), error.Message);
            }
        }
    }
}

/// <summary>Reads one waveform block in snapshot mode: tail sequence, samples, head sequence.</summary>
internal sealed class WaveformPoller
{
    private readonly ModbusDeviceDefinition _device;
    private readonly ModbusWaveformPoint _waveform;
    private readonly ModbusClient _client;
    private readonly IChannelWriter _writer;
    private readonly ModbusSourceStatistics _statistics;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly ushort[] _registers;
    private readonly float[] _samples;
    private readonly ushort[] _one = new ushort[1];
    private long _lastSequence = -1;
    private bool _down;
    private bool _errorLogged;

    public WaveformPoller(ModbusDeviceDefinition device, ModbusWaveformPoint waveform, ModbusClient client, IChannelWriter writer, ModbusSourceStatistics statistics, ILogger logger, TimeProvider timeProvider)
    {
        _device = device;
        _waveform = waveform;
        _client = client;
        _writer = writer;
        _statistics = statistics;
        _logger = logger;
        _timeProvider = timeProvider;

        // Count, rate and samples: everything between the head and the tail.
        _registers = new ushort[waveform.Layout.TotalRegisters - 2];
        _samples = new float[waveform.Layout.SampleCount];
    }

    public async Task RunAsync(TimeSpan phase, CancellationToken cancellationToken)
    {
        var clock = new SlotClock(_timeProvider, _waveform.PollInterval, phase);
        long slot = 0;
        while (true)
        {
            var lateness = await clock.WaitAsync(slot, cancellationToken).ConfigureAwait(false);
            try
            {
                await PollOnceAsync(cancellationToken).ConfigureAwait(false);
                _errorLogged = false;
            }
            catch (Exception ex) when (ex is not ModbusException and not OperationCanceledException)
            {
                _statistics.OnFailedPoll();
                Log.PollCrashed(_logger, _device.Name, ex);
            }
            catch (ModbusException ex)
            {
                _statistics.OnFailedPoll();
                if (ex is not ModbusExceptionResponseException)
                {
                    _down = true;
                }

                if (!_errorLogged)
                {
                    _errorLogged = true;
                    Log.PointReadFailed(_logger, _device.Name, _waveform.Descriptor.Id.ToString(), ex.Message);
                }
            }

            var next = clock.Next(slot, out var skipped);
            _statistics.OnPoll(lateness <= clock.Tolerance && skipped == 0);
            if (skipped > 0)
            {
                _statistics.OnSkippedSlots(skipped);
            }

            slot = next;
        }
    }

    /// <summary>One check of the block. Returns true when a new block was written.</summary>
    internal async Task<bool> PollOnceAsync(CancellationToken cancellationToken)
    {
        var layout = _waveform.Layout;
        for (var attempt = 0; attempt <= _waveform.TornRetries; attempt++)
        {
            await _client.ReadRegistersAsync(_waveform.Table, _device.UnitId, layout.TailAddress, _one, cancellationToken).ConfigureAwait(false);
            var tail = _one[0];
            if (_lastSequence >= 0 && tail == (ushort)_lastSequence)
            {
                _statistics.OnRepeated();
                return false;
            }

            await ReadBetweenAsync(cancellationToken).ConfigureAwait(false);
            await _client.ReadRegistersAsync(_waveform.Table, _device.UnitId, layout.HeadAddress, _one, cancellationToken).ConfigureAwait(false);
            var head = _one[0];
            if (head != tail)
            {
                _statistics.OnTorn();
                Log.TornRead(_logger, _device.Name, _waveform.Descriptor.Id.ToString(), tail, head, attempt + 1);
                continue;
            }

            Accept(tail);
            return true;
        }

        _statistics.OnTornRejected();
        return false;
    }

    private async Task ReadBetweenAsync(CancellationToken cancellationToken)
    {
        var start = _waveform.Layout.CountAddress;
        var max = _device.MaxRegistersPerRead;
        var chunks = new Task[(_registers.Length + max - 1) / max];
        for (var c = 0; c < chunks.Length; c++)
        {
            var offset = c * max;
            var count = Math.Min(max, _registers.Length - offset);
            chunks[c] = _client.ReadRegistersAsync(_waveform.Table, _device.UnitId, (ushort)(start + offset), _registers.AsMemory(offset, count), cancellationToken).AsTask();
        }

        await Task.WhenAll(chunks).ConfigureAwait(false);
    }

    private void Accept(ushort sequence)
    {
        var receivedTicks = _timeProvider.GetUtcNow().UtcTicks;
        var n = _waveform.Layout.SampleCount;
        var quality = SampleQuality.Good;
        if (_registers[0] != n)
        {
            // The device's block size differs from the configuration: the samples cannot be trusted.
            Log.BlockSizeMismatch(_logger, _device.Name, _waveform.Descriptor.Id.ToString(), _registers[0], n);
            quality = SampleQuality.Bad;
        }

        var samples = _registers.AsSpan(ModbusWaveformLayout.SamplesOffset - 1, 2 * n);
        for (var i = 0; i < n; i++)
        {
            var value = (RegisterCodec.DecodeSingle(samples.Slice(2 * i, 2), _waveform.ByteOrder, _waveform.WordOrder) * _waveform.Scale) + _waveform.Offset;
            _samples[i] = (float)value;
            if (!float.IsFinite(_samples[i]))
            {
                quality = SampleQuality.Bad;
            }
        }

        long unwrapped;
        var gap = false;
        if (_lastSequence < 0)
        {
            unwrapped = sequence;
        }
        else
        {
            var delta = (ushort)(sequence - (ushort)_lastSequence);
            if (delta is 0 or > 32768)
            {
                // The counter went back (or repeated after an outage): the device restarted. Indices
                // stay increasing; the gap is flagged explicitly.
                unwrapped = _lastSequence + 1;
                Log.SequenceReset(_logger, _device.Name, _waveform.Descriptor.Id.ToString(), (ushort)_lastSequence, sequence);
                gap = true;
            }
            else
            {
                unwrapped = _lastSequence + delta;
                if (delta != 1)
                {
                    _statistics.OnMissed(delta - 1);
                    Log.BlocksMissed(_logger, _device.Name, _waveform.Descriptor.Id.ToString(), (ushort)_lastSequence, sequence);
                    gap = true;
                }
            }
        }

        if (_down || gap || (!_waveform.Contiguous && _lastSequence >= 0))
        {
            _writer.MarkGap();
            _statistics.OnGap();
        }

        _down = false;
        _lastSequence = unwrapped;
        var durationTicks = (long)(n / _waveform.Descriptor.SampleRateHz * TimeSpan.TicksPerSecond);
        if (quality == SampleQuality.Bad)
        {
            _statistics.OnBadSample();
        }

        if (_writer.TryWrite(new SampleBlock(_samples, unwrapped * n, receivedTicks - durationTicks, quality, HostClock.ReceiptClockQuality(_timeProvider))))
        {
            _statistics.OnSamples(n);
        }
        else
        {
            _statistics.OnDropped(n);
        }

        _statistics.OnBlock();
    }
}

internal static partial class Log
{
    [LoggerMessage(EventId = 3060, Level = LogLevel.Information, Message = "Modbus device {Device}: coalesced read of {Table} {Address} count {Count} ({Points} points) met exception 02; reading those points one by one from now on")]
    public static partial void SplitFallback(ILogger logger, string device, string table, ushort address, int count, int points);

    [LoggerMessage(EventId = 3061, Level = LogLevel.Warning, Message = "Modbus device {Device}: channel {Channel} read failed: {Error}")]
    public static partial void PointReadFailed(ILogger logger, string device, string channel, string error);

    [LoggerMessage(EventId = 3062, Level = LogLevel.Debug, Message = "Modbus device {Device}: waveform {Channel} torn read (tail {Tail}, head {Head}), attempt {Attempt}")]
    public static partial void TornRead(ILogger logger, string device, string channel, ushort tail, ushort head, int attempt);

    [LoggerMessage(EventId = 3063, Level = LogLevel.Information, Message = "Modbus device {Device}: waveform {Channel} sequence jumped from {Last} to {Current}; gap flagged")]
    public static partial void BlocksMissed(ILogger logger, string device, string channel, ushort last, ushort current);

    [LoggerMessage(EventId = 3065, Level = LogLevel.Information, Message = "Modbus device {Device}: waveform {Channel} sequence went from {Last} back to {Current} (device restart?); gap flagged")]
    public static partial void SequenceReset(ILogger logger, string device, string channel, ushort last, ushort current);

    [LoggerMessage(EventId = 3066, Level = LogLevel.Error, Message = "Modbus device {Device}: poll failed unexpectedly; polling goes on")]
    public static partial void PollCrashed(ILogger logger, string device, Exception exception);

    [LoggerMessage(EventId = 3064, Level = LogLevel.Warning, Message = "Modbus device {Device}: waveform {Channel} reports {DeviceCount} samples per block but {ConfiguredCount} are configured; block marked bad")]
    public static partial void BlockSizeMismatch(ILogger logger, string device, string channel, ushort deviceCount, int configuredCount);
}
