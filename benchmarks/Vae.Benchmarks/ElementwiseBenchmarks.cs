// BenchmarkDotNet suite for CpuBackend's elementwise primitives at VAE sizes: BCE forward/backward (128 x 784),
// ReLU forward/backward (128 x 400), reparameterization (128 x 20) and Adam over ~1M parameters. Each category has
// a plain scalar loop as its baseline, so the report prints the SIMD (one thread) and SIMD + all-cores ratios.
// Run: dotnet run -c Release --project benchmarks/Vae.Benchmarks -- --filter '*Elementwise*'
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Vae.Cpu;

namespace Vae.Benchmarks;

[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class ElementwiseBenchmarks
{
    const int Batch = 128, Pixels = 784, Hidden = 400, Latent = 20, ParameterCount = 1 << 20;

    CpuBackend single = null!, multi = null!;
    readonly List<DeviceBuffer> buffers = [];

    // Host arrays for the scalar baselines.
    float[] logits = null!, targets = null!, perSample = null!, gradient = null!;
    float[] hidden = null!, hiddenOut = null!, hiddenGrad = null!;
    float[] mu = null!, logVar = null!, eps = null!, z = null!;
    float[] parameters = null!, gradients = null!, m = null!, v = null!;

    // The same data on each backend.
    sealed record Views(DeviceSpan<float> Logits, DeviceSpan<float> Targets, DeviceSpan<float> PerSample, DeviceSpan<float> Total,
        DeviceSpan<float> Gradient, DeviceSpan<float> Hidden, DeviceSpan<float> HiddenOut, DeviceSpan<float> HiddenGrad,
        DeviceSpan<float> Mu, DeviceSpan<float> LogVar, DeviceSpan<float> Eps, DeviceSpan<float> Z,
        DeviceSpan<float> Parameters, DeviceSpan<float> Gradients, DeviceSpan<float> M, DeviceSpan<float> V);

    Views singleViews = null!, multiViews = null!;
    int adamStep;

    [GlobalSetup]
    public void Setup()
    {
        var random = new System.Random(1);
        float[] Fill(int n, float low, float high)
        {
            var a = new float[n];
            for (int i = 0; i < n; i++) a[i] = low + (high - low) * (float)random.NextDouble();
            return a;
        }
        logits = Fill(Batch * Pixels, -8f, 8f);
        targets = Fill(Batch * Pixels, 0f, 1f);
        perSample = new float[Batch];
        gradient = new float[Batch * Pixels];
        hidden = Fill(Batch * Hidden, -3f, 3f);
        hiddenOut = new float[Batch * Hidden];
        hiddenGrad = Fill(Batch * Hidden, -1f, 1f);
        mu = Fill(Batch * Latent, -1f, 1f);
        logVar = Fill(Batch * Latent, -2f, 1f);
        eps = Fill(Batch * Latent, -2f, 2f);
        z = new float[Batch * Latent];
        parameters = Fill(ParameterCount, -0.1f, 0.1f);
        gradients = Fill(ParameterCount, -0.01f, 0.01f);
        m = new float[ParameterCount];
        v = new float[ParameterCount];

        single = new CpuBackend(threads: 1);
        multi = new CpuBackend();
        singleViews = Upload(single);
        multiViews = Upload(multi);
    }

    Views Upload(CpuBackend backend)
    {
        DeviceSpan<float> Up(float[] data)
        {
            var buffer = backend.Allocate(data.Length * sizeof(float));
            buffers.Add(buffer);
            var view = buffer.AsSpan<float>();
            backend.Upload<float>(data, view);
            return view;
        }
        return new Views(Up(logits), Up(targets), Up(perSample), Up(new float[1]), Up(gradient), Up(hidden), Up(hiddenOut), Up(hiddenGrad),
            Up(mu), Up(logVar), Up(eps), Up(z), Up(parameters), Up(gradients), Up(m), Up(v));
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var buffer in buffers) buffer.Dispose();
        single.Dispose();
        multi.Dispose();
    }

    // ------------------------------------------------------------------------------------------------ BCE forward

    [Benchmark(Baseline = true), BenchmarkCategory("BceForward 128x784")]
    public float BceForwardScalar()
    {
        float total = 0;
        for (int r = 0; r < Batch; r++)
        {
            float sum = 0;
            for (int c = 0; c < Pixels; c++)
            {
                float l = logits[r * Pixels + c];
                sum += MathF.Max(l, 0) - l * targets[r * Pixels + c] + MathF.Log(1 + MathF.Exp(-MathF.Abs(l)));
            }
            perSample[r] = sum;
            total += sum;
        }
        return total;
    }

    [Benchmark, BenchmarkCategory("BceForward 128x784")]
    public void BceForwardCpu1() => single.BceWithLogitsForward(singleViews.Logits, singleViews.Targets, singleViews.PerSample, singleViews.Total, Batch, Pixels);

    [Benchmark, BenchmarkCategory("BceForward 128x784")]
    public void BceForwardCpuAll() => multi.BceWithLogitsForward(multiViews.Logits, multiViews.Targets, multiViews.PerSample, multiViews.Total, Batch, Pixels);

    // ------------------------------------------------------------------------------------------------ BCE backward

    [Benchmark(Baseline = true), BenchmarkCategory("BceBackward 128x784")]
    public void BceBackwardScalar()
    {
        const float scale = 1f / Batch;
        for (int i = 0; i < logits.Length; i++) gradient[i] = scale * (1f / (1f + MathF.Exp(-logits[i])) - targets[i]);
    }

    [Benchmark, BenchmarkCategory("BceBackward 128x784")]
    public void BceBackwardCpu1() => single.BceWithLogitsBackward(singleViews.Logits, singleViews.Targets, singleViews.Gradient, Batch, Pixels, 1f / Batch);

    [Benchmark, BenchmarkCategory("BceBackward 128x784")]
    public void BceBackwardCpuAll() => multi.BceWithLogitsBackward(multiViews.Logits, multiViews.Targets, multiViews.Gradient, Batch, Pixels, 1f / Batch);

    // ------------------------------------------------------------------------------------------------ ReLU

    [Benchmark(Baseline = true), BenchmarkCategory("ReluForward 128x400")]
    public void ReluForwardScalar()
    {
        for (int i = 0; i < hidden.Length; i++) hiddenOut[i] = hidden[i] > 0 ? hidden[i] : 0;
    }

    [Benchmark, BenchmarkCategory("ReluForward 128x400")]
    public void ReluForwardCpu1() => single.ActivationForward(Activation.Relu, singleViews.Hidden, singleViews.HiddenOut);

    [Benchmark, BenchmarkCategory("ReluForward 128x400")]
    public void ReluForwardCpuAll() => multi.ActivationForward(Activation.Relu, multiViews.Hidden, multiViews.HiddenOut);

    [Benchmark(Baseline = true), BenchmarkCategory("ReluBackward 128x400")]
    public void ReluBackwardScalar()
    {
        for (int i = 0; i < hidden.Length; i++) hiddenOut[i] = hidden[i] > 0 ? hiddenGrad[i] : 0;
    }

    [Benchmark, BenchmarkCategory("ReluBackward 128x400")]
    public void ReluBackwardCpu1() => single.ActivationBackward(Activation.Relu, singleViews.Hidden, singleViews.HiddenOut, singleViews.HiddenGrad, singleViews.HiddenOut);

    [Benchmark, BenchmarkCategory("ReluBackward 128x400")]
    public void ReluBackwardCpuAll() => multi.ActivationBackward(Activation.Relu, multiViews.Hidden, multiViews.HiddenOut, multiViews.HiddenGrad, multiViews.HiddenOut);

    // ------------------------------------------------------------------------------------------------ reparameterization

    [Benchmark(Baseline = true), BenchmarkCategory("Reparameterize 128x20")]
    public void ReparameterizeScalar()
    {
        for (int i = 0; i < mu.Length; i++) z[i] = mu[i] + MathF.Exp(0.5f * Math.Clamp(logVar[i], -30f, 20f)) * eps[i];
    }

    [Benchmark, BenchmarkCategory("Reparameterize 128x20")]
    public void ReparameterizeCpu1() => single.ReparameterizeForward(singleViews.Mu, singleViews.LogVar, singleViews.Eps, singleViews.Z, -30f, 20f);

    // ------------------------------------------------------------------------------------------------ Adam

    [Benchmark(Baseline = true), BenchmarkCategory("Adam 1M")]
    public void AdamScalar()
    {
        const float lr = 1e-3f, b1 = 0.9f, b2 = 0.999f, epsilon = 1e-8f;
        int step = ++adamStep;
        float stepSize = (float)(lr / (1 - Math.Pow(b1, step)));
        float bc2Sqrt = (float)Math.Sqrt(1 - Math.Pow(b2, step));
        for (int i = 0; i < parameters.Length; i++)
        {
            float g = gradients[i];
            m[i] = b1 * m[i] + (1 - b1) * g;
            v[i] = b2 * v[i] + (1 - b2) * g * g;
            parameters[i] -= stepSize * m[i] / (MathF.Sqrt(v[i]) / bc2Sqrt + epsilon);
        }
    }

    [Benchmark, BenchmarkCategory("Adam 1M")]
    public void AdamCpu1() => single.AdamStep(singleViews.Parameters, singleViews.Gradients, singleViews.M, singleViews.V, new AdamSettings(), ++adamStep);

    [Benchmark, BenchmarkCategory("Adam 1M")]
    public void AdamCpuAll() => multi.AdamStep(multiViews.Parameters, multiViews.Gradients, multiViews.M, multiViews.V, new AdamSettings(), ++adamStep);
}
