using System.Numerics;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace FactoryEdge.Scoring;

/// <summary>
/// The small seam in front of ONNX Runtime: a preallocated input matrix the caller fills, one run
/// over the first <c>rows</c> rows, a preallocated output matrix. Tests use a fake.
/// </summary>
internal interface IModelSession : IDisposable
{
    int InputWidth { get; }

    int OutputWidth { get; }

    /// <summary>Rows the buffers hold; larger batches are run in chunks by the caller.</summary>
    int MaxBatch { get; }

    /// <summary>Row-major, <see cref="MaxBatch"/> × <see cref="InputWidth"/>.</summary>
    Span<float> Input { get; }

    /// <summary>Row-major, <see cref="MaxBatch"/> × <see cref="OutputWidth"/>; valid after <see cref="Run"/>.</summary>
    ReadOnlySpan<float> Output { get; }

    void Run(int rows);
}

/// <summary>Session settings.</summary>
internal sealed record ModelSessionOptions
{
    /// <summary>Largest batch per run (rounded up to a power of two).</summary>
    public int MaxBatch { get; init; } = 256;

    /// <summary>Threads inside one run. 1: the pipeline parallelises across channels, and batches are small.</summary>
    public int IntraOpThreads { get; init; } = 1;
}

/// <summary>
/// One <see cref="InferenceSession"/> per model with preallocated tensors bound through
/// <see cref="OrtIoBinding"/>: the input and output arrays are pinned once, and for each power-of-two
/// batch size (1, 2, 4 … MaxBatch) an OrtValue view of their first rows is bound in its own binding.
/// A run picks the smallest bucket that holds the rows (padding rows are computed and ignored), so
/// a steady-state run allocates nothing on the managed heap.
/// </summary>
internal sealed class OrtModelSession : IModelSession
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly float[] _input;
    private readonly float[] _output;
    private readonly OrtValue[] _values;
    private readonly OrtIoBinding[] _bindings;
    private int _disposed;

    public OrtModelSession(byte[] model, string inputName, string outputName, int inputWidth, int outputWidth, ModelSessionOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        InputWidth = inputWidth;
        OutputWidth = outputWidth;
        MaxBatch = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(1, options.MaxBatch));
        using var sessionOptions = new SessionOptions
        {
            IntraOpNumThreads = Math.Max(1, options.IntraOpThreads),
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            EnableMemoryPattern = true,
        };
        try
        {
            _session = new InferenceSession(model, sessionOptions);
        }
        catch (OnnxRuntimeException ex)
        {
            throw new ModelLoadException("ONNX Runtime cannot load the graph: " + ex.Message, ex);
        }

        try
        {
            CheckTensor(_session.InputMetadata, inputName, inputWidth, "input");
            CheckTensor(_session.OutputMetadata, outputName, outputWidth, "output");
            _input = new float[MaxBatch * inputWidth];
            _output = new float[MaxBatch * outputWidth];
            var buckets = BitOperations.Log2((uint)MaxBatch) + 1;
            _values = new OrtValue[buckets * 2];
            _bindings = new OrtIoBinding[buckets];
            for (var b = 0; b < buckets; b++)
            {
                var rows = 1 << b;
                var input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _input.AsMemory(0, rows * inputWidth), [rows, inputWidth]);
                var output = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _output.AsMemory(0, rows * outputWidth), [rows, outputWidth]);
                _values[2 * b] = input;
                _values[(2 * b) + 1] = output;
                var binding = _session.CreateIoBinding();
                binding.BindInput(inputName, input);
                binding.BindOutput(outputName, output);
                binding.SynchronizeBoundInputs();
                _bindings[b] = binding;
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public int InputWidth { get; }

    public int OutputWidth { get; }

    public int MaxBatch { get; }

    public Span<float> Input => _input;

    public ReadOnlySpan<float> Output => _output;

    public void Run(int rows)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(rows, MaxBatch);
        var bucket = BitOperations.Log2(BitOperations.RoundUpToPowerOf2((uint)rows));
        _session.RunWithBinding(_runOptions, _bindings[bucket]);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        foreach (var binding in _bindings ?? [])
        {
            binding?.Dispose();
        }

        foreach (var value in _values ?? [])
        {
            value?.Dispose();
        }

        _runOptions.Dispose();
        _session?.Dispose();
    }

    private static void CheckTensor(IReadOnlyDictionary<string, NodeMetadata> metadata, string name, int width, string kind)
    {
        if (!metadata.TryGetValue(name, out var node))
        {
            throw new ModelLoadException($"the ONNX graph has no {kind} '{name}' (it has: {string.Join(", ", metadata.Keys)})");
        }

        if (node.ElementDataType != TensorElementType.Float)
        {
            throw new ModelLoadException($"ONNX {kind} '{name}' is {node.ElementDataType}, expected float");
        }

        var dims = node.Dimensions;
        if (dims.Length != 2 || dims[1] != width || (dims[0] != -1 && dims[0] < 1))
        {
            throw new ModelLoadException($"ONNX {kind} '{name}' has shape [{string.Join(", ", dims)}], the manifest says [batch, {width}]");
        }

        if (dims[0] != -1)
        {
            throw new ModelLoadException($"ONNX {kind} '{name}' has a fixed batch size {dims[0]}; the scorer needs a dynamic batch dimension");
        }
    }
}
