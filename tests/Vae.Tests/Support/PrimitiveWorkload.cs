// Every primitive of IComputeBackend as a named, ready-to-run call on one backend, with deterministic data allocated
// once up front. The thread-count determinism test runs the list on several backends and compares the outputs bit for
// bit; the allocation test runs each call repeatedly and counts managed allocations. Each call writes only its own
// output buffers, so the calls can run in any order and any number of times.
namespace Vae.Tests.Support;

/// <summary>Sizes of one workload; VAE-like is the Fashion-MNIST model (batch 128, 784 -> 400 -> 20).</summary>
public sealed record WorkloadSize(int Batch, int Input, int Hidden, int Latent, int Classes, int TableRows, int Codes, int Elements)
{
    public static WorkloadSize Small { get; } = new(3, 7, 5, 2, 3, 4, 3, 37);
    public static WorkloadSize VaeLike { get; } = new(128, 784, 400, 20, 10, 1000, 512, 784 * 400 + 400);
    public static WorkloadSize Large { get; } = new(512, 784, 400, 20, 100, 3000, 512, 300_003);
}

/// <summary>One primitive call and the views it writes.</summary>
public sealed record PrimitiveCall(string Name, Action Invoke, DeviceSpan<float>[] FloatOutputs, DeviceSpan<int>[] IntOutputs);

public sealed class PrimitiveWorkload : IDisposable
{
    readonly IComputeBackend backend;
    readonly System.Random rng;
    readonly List<DeviceBuffer> buffers = [];
    readonly List<PrimitiveCall> calls = [];

    public PrimitiveWorkload(IComputeBackend backend, WorkloadSize size, int seed)
    {
        this.backend = backend;
        rng = new System.Random(seed);
        Size = size;
        AddLinearAlgebra(size);
        AddElementwise(size);
        AddActivations(size);
        AddLosses(size);
        AddSampling(size);
        AddOptimizer(size);
        AddRows(size);
        AddRecurrent(size);
    }

    public WorkloadSize Size { get; }

    public IReadOnlyList<PrimitiveCall> Calls => calls;

    public void Dispose()
    {
        foreach (var buffer in buffers) buffer.Dispose();
        buffers.Clear();
    }

    void Add(string name, Action invoke, params DeviceSpan<float>[] outputs) => calls.Add(new PrimitiveCall(name, invoke, outputs, []));

    DeviceSpan<float> Floats(float[] data)
    {
        var buffer = backend.Allocate(Math.Max(data.Length, 1) * sizeof(float));
        buffers.Add(buffer);
        var view = buffer.AsSpan<float>().Slice(0, data.Length);
        backend.Upload<float>(data, view);
        return view;
    }

    DeviceSpan<int> Ints(int[] data)
    {
        var buffer = backend.Allocate(Math.Max(data.Length, 1) * sizeof(int));
        buffers.Add(buffer);
        var view = buffer.AsSpan<int>().Slice(0, data.Length);
        backend.Upload<int>(data, view);
        return view;
    }

    DeviceSpan<float> Uniform(int length, float low = -1, float high = 1) => Floats(HostData.Uniform(rng, length, low, high));

    DeviceSpan<float> Zeros(int length) => Floats(new float[length]);

    void AddLinearAlgebra(WorkloadSize s)
    {
        // One encoder layer: x (batch, input), W (hidden, input), y (batch, hidden).
        var x = Uniform(s.Batch * s.Input);
        var w = Uniform(s.Hidden * s.Input, -0.05f, 0.05f);
        var dy = Uniform(s.Batch * s.Hidden);
        var y = Zeros(s.Batch * s.Hidden);
        var dW = Zeros(s.Hidden * s.Input);
        var dx = Zeros(s.Batch * s.Input);
        var yTT = Zeros(s.Input * s.Batch);
        Add("Gemm(N,T) forward", () => backend.Gemm(false, true, s.Batch, s.Hidden, s.Input, 1f, x, w, 0f, y), y);
        Add("Gemm(T,N) weight gradient", () => backend.Gemm(true, false, s.Hidden, s.Input, s.Batch, 1f, dy, x, 1f, dW), dW);
        Add("Gemm(N,N) input gradient", () => backend.Gemm(false, false, s.Batch, s.Input, s.Hidden, 1f, dy, w, 0f, dx), dx);
        Add("Gemm(T,T)", () => backend.Gemm(true, true, s.Input, s.Batch, s.Hidden, -0.5f, w, dy, 0.5f, yTT), yTT);

        var bias = Uniform(s.Hidden);
        var biased = Uniform(s.Batch * s.Hidden);
        var dBias = Zeros(s.Hidden);
        Add("BiasAdd", () => backend.BiasAdd(biased, bias, s.Batch, s.Hidden), biased);
        Add("BiasGradient", () => backend.BiasGradient(dy, dBias, s.Batch, s.Hidden), dBias);
    }

    void AddElementwise(WorkloadSize s)
    {
        var source = Uniform(s.Elements);
        var copy = Zeros(s.Elements);
        var filled = Zeros(s.Elements);
        var scaled = Uniform(s.Elements);
        var axpy = Uniform(s.Elements);
        var sum = Zeros(1);
        Add("Copy", () => backend.Copy(source, copy), copy);
        Add("Fill", () => backend.Fill(filled, 0.25f), filled);
        Add("Scale", () => backend.Scale(scaled, 0.999f), scaled);
        Add("Axpy", () => backend.Axpy(-0.001f, source, axpy), axpy);
        Add("Sum", () => backend.Sum(source, sum), sum);

        // The encoder's (mu | logVar) head: (batch, 2 latent).
        var a = Uniform(s.Batch * s.Latent);
        var b = Uniform(s.Batch * s.Latent);
        var joined = Zeros(s.Batch * 2 * s.Latent);
        var left = Zeros(s.Batch * s.Latent);
        var right = Zeros(s.Batch * s.Latent);
        var head = Uniform(s.Batch * 2 * s.Latent);
        Add("Concat", () => backend.Concat(a, b, joined, s.Batch, s.Latent, s.Latent), joined);
        Add("Split", () => backend.Split(head, left, right, s.Batch, s.Latent, s.Latent), left, right);
    }

    void AddActivations(WorkloadSize s)
    {
        int n = s.Batch * s.Hidden;
        var x = Uniform(n, -4, 4);
        var dy = Uniform(n);
        foreach (var f in Enum.GetValues<Activation>())
        {
            var y = Zeros(n);
            var inPlace = Uniform(n, -4, 4);
            var yForBackward = Floats(HostData.Uniform(rng, n, 0.01f, 0.99f));
            var dx = Zeros(n);
            Add($"ActivationForward({f})", () => backend.ActivationForward(f, x, y, 0.1f), y);
            Add($"ActivationForward({f}) in place", () => backend.ActivationForward(f, inPlace, inPlace, 0.1f), inPlace);
            Add($"ActivationBackward({f})", () => backend.ActivationBackward(f, x, yForBackward, dy, dx, 0.1f), dx);
        }
    }

    void AddLosses(WorkloadSize s)
    {
        int n = s.Batch * s.Input;
        var logits = Uniform(n, -6, 6);
        var targets = Uniform(n, 0, 1);
        var logVar = Uniform(n, -2, 2);
        var perSample = Zeros(s.Batch);
        var total = Zeros(1);
        var grad = Zeros(n);
        Add("BceWithLogitsForward", () => backend.BceWithLogitsForward(logits, targets, perSample, total, s.Batch, s.Input), perSample, total);
        Add("BceWithLogitsBackward", () => backend.BceWithLogitsBackward(logits, targets, grad, s.Batch, s.Input, 1f / s.Batch), grad);
        var msePerSample = Zeros(s.Batch);
        Add("MseForward", () => backend.MseForward(logits, targets, msePerSample, default, s.Batch, s.Input), msePerSample);
        var mseGrad = Zeros(n);
        Add("MseBackward", () => backend.MseBackward(logits, targets, mseGrad, s.Batch, s.Input, 1f / s.Batch), mseGrad);
        var nllPerSample = Zeros(s.Batch);
        var nllTotal = Zeros(1);
        Add("GaussianNllForward", () => backend.GaussianNllForward(logits, logVar, targets, nllPerSample, nllTotal, s.Batch, s.Input), nllPerSample, nllTotal);
        var dMean = Zeros(n);
        var dLogVar = Zeros(n);
        Add("GaussianNllBackward", () => backend.GaussianNllBackward(logits, logVar, targets, dMean, dLogVar, s.Batch, s.Input, 1f / s.Batch), dMean, dLogVar);

        var classLogits = Uniform(s.Batch * s.Classes, -5, 5);
        var classTargets = new int[s.Batch];
        for (int r = 0; r < classTargets.Length; r++) classTargets[r] = r % 7 == 3 ? -100 : rng.Next(s.Classes);
        var ceTargets = Ints(classTargets);
        var cePerSample = Zeros(s.Batch);
        var ceTotal = Zeros(1);
        var ceGrad = Zeros(s.Batch * s.Classes);
        Add("CrossEntropyForward", () => backend.CrossEntropyForward(classLogits, ceTargets, cePerSample, ceTotal, s.Batch, s.Classes, -100), cePerSample, ceTotal);
        Add("CrossEntropyBackward", () => backend.CrossEntropyBackward(classLogits, ceTargets, ceGrad, s.Batch, s.Classes, -100, 1f / s.Batch), ceGrad);

        int z = s.Batch * s.Latent;
        var mu = Uniform(z, -2, 2);
        var lv = Uniform(z, -3, 3);
        var muP = Uniform(z, -2, 2);
        var lvP = Uniform(z, -3, 3);
        var klPerSample = Zeros(s.Batch);
        var klTotal = Zeros(1);
        var dMu = Zeros(z);
        var dLv = Zeros(z);
        Add("KlStandardNormalForward", () => backend.KlStandardNormalForward(mu, lv, klPerSample, klTotal, s.Batch, s.Latent), klPerSample, klTotal);
        Add("KlStandardNormalBackward", () => backend.KlStandardNormalBackward(mu, lv, dMu, dLv, s.Batch, s.Latent, 1f / s.Batch), dMu, dLv);
        var fbMu = Zeros(z);
        var fbLv = Zeros(z);
        var fbPerDimension = Zeros(s.Latent);
        // A floor near the data's mean KL per dimension (about 1.8 nats), so some dimensions are above it and some below.
        Add("KlFreeBitsBackward", () => backend.KlFreeBitsBackward(mu, lv, fbMu, fbLv, fbPerDimension, s.Batch, s.Latent, 1f / s.Batch, 1.8f), fbMu, fbLv, fbPerDimension);
        var klgPerSample = Zeros(s.Batch);
        var dMuQ = Zeros(z);
        var dLogVarQ = Zeros(z);
        var dMuP = Zeros(z);
        var dLogVarP = Zeros(z);
        Add("KlGaussianForward", () => backend.KlGaussianForward(mu, lv, muP, lvP, klgPerSample, default, s.Batch, s.Latent), klgPerSample);
        Add("KlGaussianBackward", () => backend.KlGaussianBackward(mu, lv, muP, lvP, dMuQ, dLogVarQ, dMuP, dLogVarP, s.Batch, s.Latent, 1f / s.Batch),
            dMuQ, dLogVarQ, dMuP, dLogVarP);
    }

    void AddSampling(WorkloadSize s)
    {
        int z = s.Batch * s.Latent;
        var mu = Uniform(z, -2, 2);
        var logVar = Uniform(z, -8, 8);
        var eps = Floats(HostData.Normal(rng, z));
        var dz = Uniform(z);
        var sample = Zeros(z);
        var dMu = Zeros(z);
        var dLogVar = Zeros(z);
        var noise = Zeros(z);
        Add("ReparameterizeForward", () => backend.ReparameterizeForward(mu, logVar, eps, sample, -6f, 6f), sample);
        Add("ReparameterizeBackward", () => backend.ReparameterizeBackward(logVar, eps, dz, dMu, dLogVar, -6f, 6f), dMu, dLogVar);
        Add("RandomNormal", () => backend.RandomNormal(noise, 1234, 5), noise);

        // Embedding-style lookups: a table (tableRows, hidden), batch rows gathered with repeats.
        var table = Uniform(s.TableRows * s.Hidden);
        var indices = Ints(HostData.Indices(rng, s.Batch, s.TableRows));
        var gathered = Zeros(s.Batch * s.Hidden);
        var dRows = Uniform(s.Batch * s.Hidden);
        var dTable = Zeros(s.TableRows * s.Hidden);
        Add("GatherRows", () => backend.GatherRows(table, indices, gathered, s.TableRows, s.Batch, s.Hidden), gathered);
        Add("ScatterAddRows", () => backend.ScatterAddRows(dRows, indices, dTable, s.TableRows, s.Batch, s.Hidden), dTable);

        // VQ-VAE quantization: latents (batch, latent) against a codebook (codes, latent).
        var latents = Uniform(z);
        var codebook = Uniform(s.Codes * s.Latent);
        var codeDistances = Zeros(s.Batch);
        var codeBuffer = backend.Allocate(Math.Max(s.Batch, 1) * sizeof(int));
        buffers.Add(codeBuffer);
        var codes = codeBuffer.AsSpan<int>().Slice(0, s.Batch);
        calls.Add(new PrimitiveCall("NearestCode", () => backend.NearestCode(latents, codebook, codes, codeDistances, s.Batch, s.Codes, s.Latent), [codeDistances], [codes]));
        // The EMA quantizer's codebook from its statistics: cluster sizes in [0.5, 20], sums (codes, latent).
        var clusterSizes = Uniform(s.Codes, 0.5f, 20f);
        var embedSums = Uniform(s.Codes * s.Latent);
        var emaCodebook = Zeros(s.Codes * s.Latent);
        Add("EmaCodebook", () => backend.EmaCodebook(clusterSizes, embedSums, emaCodebook, s.Codes, s.Latent, 1e-5f), emaCodebook);
    }

    void AddOptimizer(WorkloadSize s)
    {
        int n = s.Elements;
        var gradients = Uniform(n);
        foreach (var (name, settings) in new[] { ("AdamStep(Adam)", new AdamSettings(WeightDecay: 0.01f)), ("AdamStep(AdamW)", new AdamSettings(WeightDecay: 0.01f, Decoupled: true)) })
        {
            var parameters = Uniform(n);
            var m = Zeros(n);
            var v = Zeros(n);
            Add(name, () => backend.AdamStep(parameters, gradients, m, v, settings, 3), parameters, m, v);
        }
        var x = Uniform(n);
        var norm = Zeros(1);
        var clipped = Uniform(n);
        var clipNorm = Floats([(float)Math.Sqrt(n / 3.0)]);
        Add("GlobalNorm", () => backend.GlobalNorm(x, norm), norm);
        Add("ClipByNorm", () => backend.ClipByNorm(clipped, clipNorm, 1f), clipped);

        var tainted = HostData.Uniform(rng, n, -1, 1);
        if (n > 0) tainted[n - 1] = float.NaN;
        var finite = x;
        var notFinite = Floats(tainted);
        var finiteFlag = Ints([-1]);
        var notFiniteFlag = Ints([-1]);
        calls.Add(new PrimitiveCall("AllFinite(finite)", () => backend.AllFinite(finite, finiteFlag), [], [finiteFlag]));
        calls.Add(new PrimitiveCall("AllFinite(NaN at the end)", () => backend.AllFinite(notFinite, notFiniteFlag), [], [notFiniteFlag]));
    }

    void AddRows(WorkloadSize s)
    {
        // Softmax over wide rows with their log-sum-exp, and over narrow ones (importance weights: a few samples per image).
        var logits = Uniform(s.Batch * s.Hidden, -10, 10);
        var softmax = Zeros(s.Batch * s.Hidden);
        var logSumExp = Zeros(s.Batch);
        Add("SoftmaxRows", () => backend.SoftmaxRows(logits, softmax, logSumExp, s.Batch, s.Hidden), softmax, logSumExp);
        var logWeights = Uniform(s.Batch * s.Classes, -300, -200);
        var weights = Zeros(s.Batch * s.Classes);
        Add("SoftmaxRows(no logSumExp)", () => backend.SoftmaxRows(logWeights, weights, default, s.Batch, s.Classes), weights);
        // Each row of a (batch, input) gradient times its own weight.
        var gradient = Uniform(s.Batch * s.Input);
        var rowScale = Uniform(s.Batch, 0, 1);
        var scaled = Zeros(s.Batch * s.Input);
        Add("ScaleRows", () => backend.ScaleRows(gradient, rowScale, scaled, s.Batch, s.Input), scaled);
        // Greedy decoding: the arg-max of each row of logits rounded to integers, so most rows tie in several columns.
        var roundedLogits = Floats(HostData.Uniform(rng, s.Batch * s.Hidden, -6, 6).Select(v => MathF.Round(v)).ToArray());
        var argMax = Ints(new int[s.Batch]);
        calls.Add(new PrimitiveCall("ArgMaxRows", () => backend.ArgMaxRows(roundedLogits, argMax, s.Batch, s.Hidden), [], [argMax]));
    }

    void AddRecurrent(WorkloadSize s)
    {
        // One LSTM step of a batch, hidden units per direction: half the rows padding (lengths 0..3 at step 2), the output
        // y and its gradient in one direction's columns of a bidirectional (batch, 2 hidden) output.
        int n = s.Batch * s.Hidden, stride = 2 * s.Hidden, extent = s.Batch == 0 ? 0 : (s.Batch - 1) * stride + s.Hidden;
        var lengths = Ints(Enumerable.Range(0, s.Batch).Select(r => r % 4).ToArray());
        var gates = Uniform(4 * n, -4, 4);
        var cPrev = Uniform(n, -2, 2);
        var hPrev = Uniform(n);
        var activated = Zeros(4 * n);
        var c = Zeros(n);
        var h = Zeros(n);
        var y = Zeros(extent);
        Add("LstmCellForward", () => backend.LstmCellForward(gates, cPrev, hPrev, lengths, activated, c, h, y, s.Batch, s.Hidden, stride, 2), activated, c, h, y);

        var activatedInput = Uniform(4 * n, 0, 1);
        var cInput = Uniform(n, -2, 2);
        var dy = Uniform(extent);
        var dhNext = Uniform(n);
        var dcNext = Uniform(n);
        var dGates = Zeros(4 * n);
        var dhPrev = Zeros(n);
        var dcPrev = Zeros(n);
        Add("LstmCellBackward", () => backend.LstmCellBackward(activatedInput, cPrev, cInput, lengths, dy, dhNext, dcNext, dGates, dhPrev, dcPrev,
            s.Batch, s.Hidden, stride, 2), dGates, dhPrev, dcPrev);
    }
}
