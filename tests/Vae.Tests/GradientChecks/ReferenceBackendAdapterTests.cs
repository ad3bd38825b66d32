// The adapter check: ReferenceBackend (float buffers) must give ReferenceMath's double results on the same values,
// rounded to float, and must reject bad indices and targets before writing anything.
using Vae.Cpu;
using Vae.Random;
using Xunit;

namespace Vae.Tests.GradientChecks;

public sealed class ReferenceBackendAdapterTests : IDisposable
{
    readonly ReferenceBackend backend = new();
    readonly List<DeviceBuffer> buffers = [];

    public void Dispose()
    {
        foreach (var buffer in buffers) buffer.Dispose();
        backend.Dispose();
    }

    DeviceSpan<T> Upload<T>(T[] values) where T : unmanaged
    {
        var buffer = backend.Allocate((long)values.Length * System.Runtime.CompilerServices.Unsafe.SizeOf<T>());
        buffers.Add(buffer);
        var view = buffer.AsSpan<T>();
        backend.Upload<T>(values, view);
        return view;
    }

    float[] Download(DeviceSpan<float> view)
    {
        var values = new float[view.Length];
        backend.Download(view, values.AsSpan());
        return values;
    }

    /// <summary>Float values uniform in [low, high); the same numbers widened to double are the oracle's input.</summary>
    static float[] Floats(System.Random random, int length, double low, double high)
    {
        var values = new float[length];
        for (int i = 0; i < length; i++) values[i] = (float)(low + (high - low) * random.NextDouble());
        return values;
    }

    static double[] Wide(float[] values) => Array.ConvertAll(values, v => (double)v);

    /// <summary>Float precision: within 2^-23 relative of the double result (one rounding).</summary>
    static void AssertFloatEqual(string what, double[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            if (!(Math.Abs(actual[i] - expected[i]) <= Math.Abs(expected[i]) * 1.2e-7))
                Assert.Fail($"{what}[{i}]: backend {actual[i]:R}, ReferenceMath {expected[i]:R}.");
    }

    [Fact]
    public void Backend_matches_ReferenceMath_to_float_precision()
    {
        var random = new System.Random(42);
        const int M = 5, N = 4, K = 3;

        // Gemm with transB and beta = 1: c (M, N) += 0.5 a (M, K) b^T, b (N, K).
        var a = Floats(random, M * K, -2, 2);
        var b = Floats(random, N * K, -2, 2);
        var c = Floats(random, M * N, -2, 2);
        var cView = Upload(c);
        backend.Gemm(false, true, M, N, K, 0.5f, Upload(a), Upload(b), 1f, cView);
        var cExpected = Wide(c);
        ReferenceMath.Gemm(false, true, M, N, K, 0.5, Wide(a), Wide(b), 1, cExpected);
        AssertFloatEqual("Gemm", cExpected, Download(cView));

        // BCE forward with a total.
        var logits = Floats(random, M * N, -5, 5);
        var targets = Floats(random, M * N, 0, 1);
        var perSample = Upload(new float[M]);
        var total = Upload(new float[1]);
        backend.BceWithLogitsForward(Upload(logits), Upload(targets), perSample, total, M, N);
        var perSampleExpected = new double[M];
        double totalExpected = ReferenceMath.BceWithLogitsForward(Wide(logits), Wide(targets), perSampleExpected, M, N);
        AssertFloatEqual("BCE perSample", perSampleExpected, Download(perSample));
        AssertFloatEqual("BCE total", [totalExpected], Download(total));

        // Cross-entropy backward with an ignored row.
        int[] classes = [3, -1, 0, 2, 1];
        var dLogits = Upload(new float[M * N]);
        backend.CrossEntropyBackward(Upload(logits), Upload(classes), dLogits, M, N, -1, 0.25f);
        var dLogitsExpected = new double[M * N];
        ReferenceMath.CrossEntropyBackward(Wide(logits), classes, dLogitsExpected, M, N, -1, 0.25);
        AssertFloatEqual("CrossEntropyBackward", dLogitsExpected, Download(dLogits));

        // KL between Gaussians, backward: accumulates into what the outputs held.
        var inputs = new float[4][];
        var outputs = new float[4][];
        var outputViews = new DeviceSpan<float>[4];
        for (int i = 0; i < 4; i++)
        {
            inputs[i] = Floats(random, M * N, -2, 2);
            outputs[i] = Floats(random, M * N, -1, 1);
            outputViews[i] = Upload(outputs[i]);
        }
        backend.KlGaussianBackward(Upload(inputs[0]), Upload(inputs[1]), Upload(inputs[2]), Upload(inputs[3]),
            outputViews[0], outputViews[1], outputViews[2], outputViews[3], M, N, 0.5f);
        var expected = Array.ConvertAll(outputs, Wide);
        ReferenceMath.KlGaussianBackward(Wide(inputs[0]), Wide(inputs[1]), Wide(inputs[2]), Wide(inputs[3]),
            expected[0], expected[1], expected[2], expected[3], M, N, 0.5);
        for (int i = 0; i < 4; i++) AssertFloatEqual($"KlGaussianBackward output {i}", expected[i], Download(outputViews[i]));

        // AdamW, step 3.
        var parameters = Floats(random, 17, -1, 1);
        var gradients = Floats(random, 17, -1, 1);
        var m = Floats(random, 17, -0.1, 0.1);
        var v = Floats(random, 17, 0, 0.01);
        var settings = new AdamSettings(LearningRate: 0.01f, WeightDecay: 0.05f, Decoupled: true);
        var pView = Upload(parameters);
        var mView = Upload(m);
        var vView = Upload(v);
        backend.AdamStep(pView, Upload(gradients), mView, vView, settings, 3);
        double[] pExpected = Wide(parameters), mExpected = Wide(m), vExpected = Wide(v);
        ReferenceMath.AdamStep(pExpected, Wide(gradients), mExpected, vExpected, settings, 3);
        AssertFloatEqual("Adam parameters", pExpected, Download(pView));
        AssertFloatEqual("Adam m", mExpected, Download(mView));
        AssertFloatEqual("Adam v", vExpected, Download(vView));

        // Reparameterize forward with the default clamp.
        var mu = Floats(random, 9, -2, 2);
        var logVar = Floats(random, 9, -40, 40);
        var eps = Floats(random, 9, -2, 2);
        var z = Upload(new float[9]);
        backend.ReparameterizeForward(Upload(mu), Upload(logVar), Upload(eps), z, Reparameterization.MinLogVar, Reparameterization.MaxLogVar);
        var zExpected = new double[9];
        ReferenceMath.ReparameterizeForward(Wide(mu), Wide(logVar), Wide(eps), zExpected, Reparameterization.MinLogVar, Reparameterization.MaxLogVar);
        AssertFloatEqual("ReparameterizeForward", zExpected, Download(z));
    }

    [Fact]
    public void Remaining_primitives_match_ReferenceMath_to_float_precision()
    {
        var random = new System.Random(43);
        const int Rows = 4, Cols = 3;
        var x = Floats(random, Rows * Cols, -2, 2);
        var t = Floats(random, Rows * Cols, -2, 2);
        var lv = Floats(random, Rows * Cols, -2, 2);
        var xView = Upload(x);
        var tView = Upload(t);
        var lvView = Upload(lv);
        var perSample = Upload(new float[Rows]);
        var total = Upload(new float[1]);
        var expectedRows = new double[Rows];

        backend.MseForward(xView, tView, perSample, total, Rows, Cols);
        double expectedTotal = ReferenceMath.MseForward(Wide(x), Wide(t), expectedRows, Rows, Cols);
        AssertFloatEqual("MseForward", [.. expectedRows, expectedTotal], [.. Download(perSample), .. Download(total)]);

        backend.GaussianNllForward(xView, lvView, tView, perSample, total, Rows, Cols);
        expectedTotal = ReferenceMath.GaussianNllForward(Wide(x), Wide(lv), Wide(t), expectedRows, Rows, Cols);
        AssertFloatEqual("GaussianNllForward", [.. expectedRows, expectedTotal], [.. Download(perSample), .. Download(total)]);

        backend.KlStandardNormalForward(xView, lvView, perSample, default, Rows, Cols);
        ReferenceMath.KlStandardNormalForward(Wide(x), Wide(lv), expectedRows, Rows, Cols);
        AssertFloatEqual("KlStandardNormalForward", expectedRows, Download(perSample));

        int[] targets = [2, 0, -100, 1];
        backend.CrossEntropyForward(xView, Upload(targets), perSample, total, Rows, Cols, -100);
        expectedTotal = ReferenceMath.CrossEntropyForward(Wide(x), targets, expectedRows, Rows, Cols, -100);
        AssertFloatEqual("CrossEntropyForward", [.. expectedRows, expectedTotal], [.. Download(perSample), .. Download(total)]);

        var dA = Upload(new float[Rows * Cols]);
        var dB = Upload(new float[Rows * Cols]);
        var expectedA = new double[Rows * Cols];
        var expectedB = new double[Rows * Cols];
        backend.GaussianNllBackward(xView, lvView, tView, dA, dB, Rows, Cols, 0.5f);
        ReferenceMath.GaussianNllBackward(Wide(x), Wide(lv), Wide(t), expectedA, expectedB, Rows, Cols, 0.5);
        AssertFloatEqual("GaussianNllBackward dMean", expectedA, Download(dA));
        AssertFloatEqual("GaussianNllBackward dLogVar", expectedB, Download(dB));

        backend.ReparameterizeBackward(lvView, tView, xView, dA, dB, -1, 1);
        ReferenceMath.ReparameterizeBackward(Wide(lv), Wide(t), Wide(x), expectedA, expectedB, -1, 1);
        AssertFloatEqual("ReparameterizeBackward dMu", expectedA, Download(dA));
        AssertFloatEqual("ReparameterizeBackward dLogVar", expectedB, Download(dB));

        // Concat then Split round-trips; BiasGradient accumulates column sums.
        var joined = Upload(new float[Rows * 2 * Cols]);
        backend.Concat(xView, tView, joined, Rows, Cols, Cols);
        var expectedJoined = new double[Rows * 2 * Cols];
        ReferenceMath.Concat(Wide(x), Wide(t), expectedJoined, Rows, Cols, Cols);
        AssertFloatEqual("Concat", expectedJoined, Download(joined));
        backend.Split(joined, dA, dB, Rows, Cols, Cols);
        Assert.Equal(x, Download(dA));
        Assert.Equal(t, Download(dB));
        var dBias = Upload(new float[] { 1, 2, 3 });
        backend.BiasGradient(xView, dBias, Rows, Cols);
        double[] expectedBias = [1, 2, 3];
        ReferenceMath.BiasGradient(Wide(x), expectedBias, Rows, Cols);
        AssertFloatEqual("BiasGradient", expectedBias, Download(dBias));

        // Nearest code over the first two rows of t as the codebook.
        var indices = Upload(new int[Rows]);
        var distances = Upload(new float[Rows]);
        backend.NearestCode(xView, tView, indices, distances, Rows, 2, Cols);
        var expectedIndices = new int[Rows];
        var expectedDistances = new double[Rows];
        ReferenceMath.NearestCode(Wide(x), Wide(t), expectedIndices, expectedDistances, Rows, 2, Cols);
        var actualIndices = new int[Rows];
        backend.Download(indices, actualIndices.AsSpan());
        Assert.Equal(expectedIndices, actualIndices);
        AssertFloatEqual("NearestCode distances", expectedDistances, Download(distances));

        // Reductions and elementwise helpers.
        var result = Upload(new float[1]);
        backend.Sum(xView, result);
        AssertFloatEqual("Sum", [ReferenceMath.Sum(Wide(x))], Download(result));
        backend.GlobalNorm(xView, result);
        double norm = ReferenceMath.GlobalNorm(Wide(x));
        AssertFloatEqual("GlobalNorm", [norm], Download(result));
        var clipped = Upload(x);
        backend.ClipByNorm(clipped, result, 1f);
        var expectedClipped = Wide(x);
        ReferenceMath.ClipByNorm(expectedClipped, Download(result)[0], 1);
        AssertFloatEqual("ClipByNorm", expectedClipped, Download(clipped));
        var y = Upload(t);
        backend.Axpy(-0.5f, xView, y);
        var expectedY = Wide(t);
        ReferenceMath.Axpy(-0.5, Wide(x), expectedY);
        AssertFloatEqual("Axpy", expectedY, Download(y));
        backend.Scale(y, 3f);
        ReferenceMath.Scale(expectedY, 3);
        AssertFloatEqual("Scale", expectedY, Download(y));
        backend.Copy(xView, y);
        Assert.Equal(x, Download(y));
        backend.Fill(y, 2.5f);
        Assert.All(Download(y), value => Assert.Equal(2.5f, value));

        var finite = Upload(new int[1]);
        var answer = new int[1];
        backend.AllFinite(xView, finite);
        backend.Download(finite, answer.AsSpan());
        Assert.Equal(1, answer[0]);
        backend.Fill(y.Slice(5, 1), float.PositiveInfinity);
        backend.AllFinite(y, finite);
        backend.Download(finite, answer.AsSpan());
        Assert.Equal(0, answer[0]);
    }

    [Fact]
    public void In_place_activation_backward_and_sub_views_work_through_the_backend()
    {
        var random = new System.Random(7);
        var x = Floats(random, 12, -3, 3);
        var dy = Floats(random, 12, -1, 1);
        var xView = Upload(x);
        var yView = Upload(new float[12]);
        backend.ActivationForward(Activation.Tanh, xView, yView);
        var y = Download(yView);
        var dyView = Upload(dy);
        backend.ActivationBackward(Activation.Tanh, xView, yView, dyView, dyView);    // dx is dy
        var expected = new double[12];
        ReferenceMath.ActivationBackward(Activation.Tanh, Wide(x), Wide(y), Wide(dy), expected, 0.01);
        AssertFloatEqual("Tanh backward in place", expected, Download(dyView));

        // Views longer than the shape: only the first rows * cols elements change.
        var longer = Upload(new float[] { 1, 2, 3, 4, 99, 99 });
        backend.BiasAdd(longer, Upload(new float[] { 10, 20 }), 2, 2);
        Assert.Equal(new float[] { 11, 22, 13, 24, 99, 99 }, Download(longer));
    }

    [Fact]
    public void RandomNormal_follows_the_Philox_spec_for_any_offset()
    {
        var output = Upload(new float[11]);
        backend.RandomNormal(output, 0xDEADBEEFCAFEUL, 5);
        var values = Download(output);
        for (int i = 0; i < values.Length; i++) Assert.Equal(PhiloxNormal.Sample(0xDEADBEEFCAFEUL, 5 + (ulong)i), values[i]);
    }

    [Fact]
    public void Bad_indices_and_targets_throw_before_anything_is_written()
    {
        var table = Upload(new float[] { 1, 2, 3, 4, 5, 6 });    // (3, 2)
        var output = Upload(new float[] { 7, 7, 7, 7 });         // (2, 2)
        Assert.Throws<ArgumentOutOfRangeException>(() => backend.GatherRows(table, Upload(new[] { 1, 3 }), output, 3, 2, 2));
        Assert.Equal(new float[] { 7, 7, 7, 7 }, Download(output));
        Assert.Throws<ArgumentOutOfRangeException>(() => backend.ScatterAddRows(output, Upload(new[] { -1, 0 }), table, 3, 2, 2));
        Assert.Equal(new float[] { 1, 2, 3, 4, 5, 6 }, Download(table));

        var perSample = Upload(new float[] { 9, 9 });
        Assert.Throws<ArgumentOutOfRangeException>(() => backend.CrossEntropyForward(table, Upload(new[] { 0, 2 }), perSample, default, 2, 2, -100));
        Assert.Equal(new float[] { 9, 9 }, Download(perSample));
        var dLogits = Upload(new float[] { 9, 9, 9, 9 });
        Assert.Throws<ArgumentOutOfRangeException>(() => backend.CrossEntropyBackward(table, Upload(new[] { -100, -7 }), dLogits, 2, 2, -100, 1f));
        Assert.Equal(new float[] { 9, 9, 9, 9 }, Download(dLogits));

        // Shapes that do not fit the views are rejected too.
        Assert.Throws<ArgumentException>(() => backend.Gemm(false, false, 2, 2, 2, 1f, table, table, 0f, output.Slice(0, 3)));
    }
}
