using System.Diagnostics;
using FactoryEdge.Core;
using FactoryEdge.Signal;

namespace FactoryEdge.Pipeline;

/// <summary>
/// Everything one channel needs on its worker thread: ring reader, window assembler, health check,
/// feature extractor and machine-state detector. Turns blocks into <see cref="WindowItem"/>s.
/// </summary>
internal sealed class ChannelProcessor
{
    /// <summary>A tachometer reading older than this is not used (the spectrum tracks speed instead).</summary>
    private static readonly TimeSpan TachometerMaxAge = TimeSpan.FromSeconds(10);

    private readonly WindowAssembler _assembler;
    private readonly FeatureExtractor _extractor;
    private readonly ChannelHealthChecker _health;
    private readonly MachineStateDetector _state;
    private readonly int _rmsIndex;
    private readonly int _speedIndex;
    private readonly ScalarCell? _tachometer;
    private long _windowNumber;

    /// <summary>A processor for a scalar channel: keeps the latest reading in <paramref name="cell"/>.</summary>
    public ChannelProcessor(ChannelInput input, ScalarCell cell)
    {
        Input = input;
        Scalar = cell;
        _assembler = null!;
        _extractor = null!;
        _health = null!;
        _state = null!;
    }

    public ChannelProcessor(ChannelInput input, PipelineOptions options, IReadOnlyList<FrequencyBand> bands, ScalarCell? tachometer)
    {
        Input = input;
        _tachometer = tachometer;
        var descriptor = input.Descriptor;
        _assembler = new WindowAssembler(options.WindowSize, options.Hop, descriptor.SampleRateHz);
        var extractorOptions = FeatureExtractorOptions.For(descriptor, options.WindowSize, options.Hop) with
        {
            Bands = bands,
            // Golden-ratio spacing spreads the channels' long-spectrum updates evenly over the period.
            LongSpectrumPhase = (input.Index * 0.6180339887498949) % 1.0,
        };
        _extractor = new FeatureExtractor(extractorOptions);
        _health = new ChannelHealthChecker(descriptor);
        _state = new MachineStateDetector(options.MachineState);
        _rmsIndex = FeatureSchema.Rms;
        _speedIndex = FeatureSchema.IndexOf("shaft_hz", bands.Count);
    }

    public ChannelInput Input { get; }

    /// <summary>Set for scalar channels: the latest reading (speed channels in Hz).</summary>
    public ScalarCell? Scalar { get; }

    public WindowAssembler? Assembler => _assembler;

    public IReadOnlyList<string> FeatureNames => _extractor.FeatureNames;

    /// <summary>Windows completed on this channel.</summary>
    public long Windows => Volatile.Read(ref _windowNumber);

    /// <summary>Consumes every block in the ring, emitting windows through <paramref name="worker"/>.</summary>
    public int Drain(PipelineWorker worker)
    {
        if (Scalar is { } cell)
        {
            DrainScalar(cell);
            return 0;
        }

        var produced = 0;
        var headers = Input.Headers;
        var samples = Input.Samples;
        while (headers.TryRead(out var header))
        {
            samples.Peek(header.Count, out var first, out var second);
            var before = _windowNumber;
            try
            {
                _assembler.Add(header, first, second, (this, worker), static (state, window, in info) => state.Item1.OnWindow(state.Item2, window, info));
            }
            finally
            {
                samples.Advance(header.Count);
                produced += (int)(_windowNumber - before);
            }
        }

        return produced;
    }

    private void DrainScalar(ScalarCell cell)
    {
        var unit = Input.Descriptor.Unit;
        while (Input.Headers.TryRead(out var header))
        {
            Input.Samples.Peek(header.Count, out var first, out var second);
            var last = second.IsEmpty ? first[^1] : second[^1];
            Input.Samples.Advance(header.Count);
            if (header.Quality == SampleQuality.Bad || !float.IsFinite(last))
            {
                continue;
            }

            var lastTicks = header.SourceTimestampTicks + (long)Math.Round((header.Count - 1) * TimeSpan.TicksPerSecond / Input.Descriptor.SampleRateHz);
            cell.Set(unit.IsSpeed() ? unit.ToHertz(last) : last, lastTicks);
        }
    }

    private void OnWindow(PipelineWorker worker, ReadOnlySpan<float> window, in WindowInfo info)
    {
        var item = worker.Rent();
        var result = item.Result;
        result.ChannelIndex = Input.Index;
        result.Channel = Input.Descriptor.Id;
        result.FirstSampleIndex = info.FirstSampleIndex;
        result.WindowSize = window.Length;
        result.SampleRateHz = Input.Descriptor.SampleRateHz;
        result.WindowNumber = _windowNumber;
        result.Clock = info.Clock;
        result.Score = float.NaN;
        result.Threshold = float.NaN;
        result.Anomalous = false;
        result.WarmingUp = false;
        result.Timestamps = new WindowTimestamps
        {
            SourceStartTicks = info.SourceStartTicks,
            ReceivedTicks = info.ReceivedTicks,
            CompleteTicks = Stopwatch.GetTimestamp(),
        };

        var health = _health.Check(window);
        if (info.GapBefore)
        {
            health |= ChannelHealthFlags.GapBefore;
            _extractor.Reset();
        }

        if (info.BadQuality)
        {
            health |= ChannelHealthFlags.BadQuality;
        }

        result.Health = health;
        if ((health & ChannelHealthFlags.NonFinite) != 0)
        {
            // NaN/Inf would poison the spectra and the envelope history: report, skip, start afresh.
            result.Features.AsSpan().Fill(float.NaN);
            _extractor.Reset();
            item.SpeedHz = double.NaN;
            result.MachineState = _state.State;
        }
        else
        {
            // Measured apart: MathNet's FFT allocates inside Extract; everything else must not.
            var before = GC.GetAllocatedBytesForCurrentThread();
            var tachometerHz = _tachometer?.ValueIfFresh(TachometerMaxAge) ?? double.NaN;
            _extractor.Extract(window, result.Features, tachometerHz > 0 ? tachometerHz : double.NaN);
            worker.ExtractorAllocatedBytes += GC.GetAllocatedBytesForCurrentThread() - before;
            item.SpeedHz = result.Features[_speedIndex];
            result.MachineState = _state.Update(result.Features[_rmsIndex], item.SpeedHz);
        }

        result.Timestamps.FeaturesDoneTicks = Stopwatch.GetTimestamp();
        if (item.Samples is { } copy)
        {
            window.CopyTo(copy);
        }

        _windowNumber++;
        worker.Emit(item);
    }
}
