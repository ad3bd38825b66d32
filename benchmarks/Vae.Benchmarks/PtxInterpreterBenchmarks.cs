// How fast the PTX interpreter runs kernels over 100000 elements (the CI budget is about a second each), as a
// ratio to the same computation in plain C# measured in the same run: saxpy (global memory, grid-stride loop) and a
// block sum (shared-memory tree with barriers, warp shuffles, a global atomic), with and without race detection.
using BenchmarkDotNet.Attributes;
using Vae.PtxInterpreter;

namespace Vae.Benchmarks;

[MemoryDiagnoser]
public class PtxInterpreterBenchmarks
{
    const int N = 100_000;
    float[] _x = [], _y = [];
    PtxModule _saxpy = null!, _blockSum = null!;
    PtxMachine _gpu = null!, _gpuNoRaces = null!;
    DevicePointer _dx, _dy, _dout, _dx2, _dout2;

    [GlobalSetup]
    public void Setup()
    {
        var rng = new System.Random(1);
        _x = Enumerable.Range(0, N).Select(_ => (float)rng.NextDouble()).ToArray();
        _y = Enumerable.Range(0, N).Select(_ => (float)rng.NextDouble()).ToArray();
        string dir = Path.Combine(AppContext.BaseDirectory, "Kernels");
        _saxpy = PtxModule.Parse(File.ReadAllText(Path.Combine(dir, "saxpy.ptx")), "saxpy.ptx");
        _blockSum = PtxModule.Parse(File.ReadAllText(Path.Combine(dir, "block_sum.ptx")), "block_sum.ptx");
        _gpu = new PtxMachine();
        _dx = _gpu.Upload(_x);
        _dy = _gpu.Upload(_y);
        _dout = _gpu.Upload(new float[1]);
        _gpuNoRaces = new PtxMachine();
        _gpuNoRaces.Options.DetectSharedRaces = false;
        _dx2 = _gpuNoRaces.Upload(_x);
        _dout2 = _gpuNoRaces.Upload(new float[1]);
    }

    [Benchmark(Baseline = true, Description = "C# saxpy 1e5 (native baseline)")]
    public float NativeSaxpy()
    {
        var y = _y;
        for (int i = 0; i < y.Length; i++) y[i] = MathF.FusedMultiplyAdd(1.0001f, _x[i], y[i]);
        return y[0];
    }

    [Benchmark(Description = "interpreted saxpy 1e5")]
    public long InterpretedSaxpy() =>
        _gpu.Launch(_saxpy, "saxpy", new Dim3((N + 255) / 256), new Dim3(256), 0, _dx, _dy, 1.0001f, (uint)N).ThreadInstructions;

    [Benchmark(Description = "interpreted block sum 1e5 (race detection on)")]
    public long InterpretedBlockSum() =>
        _gpu.Launch(_blockSum, "block_sum", new Dim3((N + 255) / 256), new Dim3(256), 0, _dx, _dout, (uint)N).ThreadInstructions;

    [Benchmark(Description = "interpreted block sum 1e5 (race detection off)")]
    public long InterpretedBlockSumNoRaceDetection() =>
        _gpuNoRaces.Launch(_blockSum, "block_sum", new Dim3((N + 255) / 256), new Dim3(256), 0, _dx2, _dout2, (uint)N).ThreadInstructions;
}
