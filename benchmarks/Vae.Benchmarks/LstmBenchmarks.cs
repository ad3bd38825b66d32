// BenchmarkDotNet: one LSTM layer (Nn/Lstm) over a full batch of sequences, forward alone and forward + backward
// (gradients zeroed, the whole output's gradient given, the input gradient computed), on the CPU backend with every
// core: batch 64, 32 steps, 128 input features, 256 hidden units, unidirectional and bidirectional.
// [MemoryDiagnoser] shows the 0 bytes allocated. benchmarks/pytorch/compare_lstm.sh runs this beside PyTorch's nn.LSTM
// (benchmarks/pytorch/bench_lstm.py) on the same shapes and prints the ratio.
// Run: dotnet run -c Release --project benchmarks/Vae.Benchmarks -- --filter '*LstmLayer*'
using BenchmarkDotNet.Attributes;
using Vae.Cpu;
using Vae.Nn;

namespace Vae.Benchmarks;

[MemoryDiagnoser]
public class LstmLayerBenchmarks
{
    public const int Batch = 64, Steps = 32, Input = 128, Hidden = 256;

    CpuBackend backend = null!;
    ParameterStore store = null!;
    Lstm lstm = null!;
    DeviceBuffer data = null!;
    DeviceSpan<float> input, dOutput, dInput;

    [Params(false, true)]
    public bool Bidirectional { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        backend = new CpuBackend();
        var layout = new TensorLayout();
        Lstm.AddParameters(layout, "", Input, Hidden, 1, Bidirectional);
        store = new ParameterStore(backend, layout);
        var host = new float[layout.TotalLength];
        Lstm.Initialize(host, layout, "", Input, Hidden, 1, Bidirectional, seed: 1, firstStream: 0);
        backend.Upload<float>(host, store.Parameters);
        lstm = new Lstm(backend, store, "", Input, Hidden, 1, Bidirectional, Steps, Batch);
        int rows = Steps * Batch;
        data = backend.Allocate((2L * rows * Input + (long)rows * lstm.OutputSize) * sizeof(float));
        var all = data.AsSpan<float>();
        input = all.Slice(0, rows * Input);
        dInput = all.Slice(rows * Input, rows * Input);
        dOutput = all.Slice(2 * rows * Input, rows * lstm.OutputSize);
        var random = new System.Random(2);
        var values = new float[rows * Math.Max(Input, lstm.OutputSize)];
        for (int i = 0; i < values.Length; i++) values[i] = 2 * random.NextSingle() - 1;
        backend.Upload<float>(values.AsSpan(0, input.Length), input);
        backend.Upload<float>(values.AsSpan(0, dOutput.Length), dOutput);
    }

    [Benchmark]
    public void Forward() => lstm.Forward(input, default, default, default, Steps, Batch);

    [Benchmark]
    public void ForwardBackward()
    {
        store.ZeroGradients();
        lstm.Forward(input, default, default, default, Steps, Batch);
        lstm.Backward(dOutput, default, default, dInput, default, default);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        lstm.Dispose();
        data.Dispose();
        store.Dispose();
        backend.Dispose();
    }
}
