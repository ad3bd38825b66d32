// ReferenceMath against numbers computed by hand, so the oracle is anchored to known values and not only to its own
// gradients: ln 2 for BCE and softplus at 0, zero KL of identical distributions, ln(classes) for uniform logits,
// Adam's first step of ~lr * sign(g), a small matrix product, clamp, clipping, ties and the documented edge semantics.
using Vae.Cpu;
using Xunit;

namespace Vae.Tests.GradientChecks;

public class ReferenceMathKnownValueTests
{
    const double Ln2 = 0.6931471805599453;

    /// <summary>|expected - actual| &lt;= tolerance (absolute).</summary>
    static void Near(double expected, double actual, double tolerance) =>
        Assert.True(Math.Abs(expected - actual) <= tolerance, $"expected {expected:R}, got {actual:R}, tolerance {tolerance:G3}");

    [Fact]
    public void Bce_of_logit_zero_and_target_one_is_ln2_per_element()
    {
        var perSample = new double[2];
        double total = ReferenceMath.BceWithLogitsForward([0, 0, 0, 0, 0, 0], [1, 1, 1, 0, 0, 0], perSample, 2, 3);
        Near(3 * Ln2, perSample[0], 1e-14);
        Near(3 * Ln2, perSample[1], 1e-14);
        Near(6 * Ln2, total, 1e-14);

        var dLogits = new double[2];
        ReferenceMath.BceWithLogitsBackward([0, 0], [1, 0], dLogits, 1, 2, 0.5);
        Assert.Equal([-0.25, 0.25], dLogits);
    }

    [Fact]
    public void Bce_is_finite_and_exact_for_huge_logits()
    {
        var perSample = new double[4];
        ReferenceMath.BceWithLogitsForward([1000, -1000, 1000, -1000], [1, 1, 0, 0], perSample, 4, 1);
        Assert.Equal([0, 1000, 1000, 0], perSample);
    }

    [Fact]
    public void Activations_have_their_textbook_values()
    {
        double[] x = [0, 2, -2, 1000, -1000];
        var y = new double[5];
        ReferenceMath.ActivationForward(Activation.Softplus, x, y, 0);
        Near(Ln2, y[0], 1e-15);
        Near(Math.Log(1 + Math.Exp(2)), y[1], 1e-14);
        Near(Math.Log(1 + Math.Exp(-2)), y[2], 1e-15);
        Assert.Equal(1000, y[3]);
        Assert.Equal(0, y[4]);

        ReferenceMath.ActivationForward(Activation.Sigmoid, x, y, 0);
        double[] sigmoid = [0.5, 1 / (1 + Math.Exp(-2)), 1 / (1 + Math.Exp(2)), 1, 0];
        for (int i = 0; i < 5; i++) Near(sigmoid[i], y[i], 1e-16);

        ReferenceMath.ActivationForward(Activation.LeakyRelu, x, y, 0.1);
        double[] leaky = [0, 2, -0.2, 1000, -100];
        for (int i = 0; i < 5; i++) Near(leaky[i], y[i], 1e-13);
        ReferenceMath.ActivationForward(Activation.Relu, x, y, 0.1);
        Assert.Equal([0, 2, 0, 1000, 0], y);

        // Relu's derivative at exactly 0 is 0; LeakyRelu's is the slope.
        var dx = new double[1];
        ReferenceMath.ActivationBackward(Activation.Relu, [0], [0], [1], dx, 0.1);
        Assert.Equal(0, dx[0]);
        ReferenceMath.ActivationBackward(Activation.LeakyRelu, [0], [0], [1], dx, 0.1);
        Assert.Equal(0.1, dx[0]);
    }

    [Fact]
    public void Log1P_is_accurate_for_tiny_arguments()
    {
        Assert.Equal(1e-20, ReferenceMath.Log1P(1e-20));
        Near(1e-10 - 0.5e-20, ReferenceMath.Log1P(1e-10), 1e-25);
        Near(Ln2, ReferenceMath.Log1P(1), 1e-15);
    }

    [Fact]
    public void Kl_of_identical_distributions_is_zero()
    {
        var perSample = new double[1];
        Assert.Equal(0, ReferenceMath.KlStandardNormalForward([0, 0, 0], [0, 0, 0], perSample, 1, 3));
        // mu = 1, logVar = 0: -0.5 (1 + 0 - 1 - 1) = 0.5.
        Near(0.5, ReferenceMath.KlStandardNormalForward([1], [0], perSample, 1, 1), 1e-15);

        double[] mu = [0.3, -1.2], logVar = [0.7, -2];
        Near(0, ReferenceMath.KlGaussianForward(mu, logVar, mu, logVar, perSample, 1, 2), 1e-15);
        // KL(q || N(0, 1)) written as KlGaussian equals KlStandardNormal.
        double expected = ReferenceMath.KlStandardNormalForward(mu, logVar, perSample, 1, 2);
        Near(expected, ReferenceMath.KlGaussianForward(mu, logVar, [0, 0], [0, 0], perSample, 1, 2), 1e-14);
    }

    [Fact]
    public void Gaussian_nll_at_the_mean_with_unit_variance_is_half_log_two_pi()
    {
        var perSample = new double[1];
        double total = ReferenceMath.GaussianNllForward([1.5, -2], [0, 0], [1.5, -2], perSample, 1, 2);
        Near(Math.Log(2 * Math.PI), total, 1e-14);
        // One standard deviation away with variance e^2: 0.5 (log 2 pi + 2 + 1).
        ReferenceMath.GaussianNllForward([0], [2], [Math.Exp(1)], perSample, 1, 1);
        Near(0.5 * (Math.Log(2 * Math.PI) + 3), perSample[0], 1e-14);
    }

    [Fact]
    public void Cross_entropy_of_uniform_logits_is_ln_classes_and_ignored_rows_are_zero()
    {
        const int Classes = 5;
        var logits = new double[3 * Classes];
        logits.AsSpan(Classes, Classes).Fill(700);    // huge but equal: max subtraction keeps it finite
        var perSample = new double[3];
        double total = ReferenceMath.CrossEntropyForward(logits, [2, 4, -1], perSample, 3, Classes, -1);
        Near(Math.Log(Classes), perSample[0], 1e-14);
        Near(Math.Log(Classes), perSample[1], 1e-12);   // logits of 700 carry ~1e-13 rounding
        Assert.Equal(0, perSample[2]);
        Near(2 * Math.Log(Classes), total, 1e-12);

        var dLogits = new double[3 * Classes];
        ReferenceMath.CrossEntropyBackward(logits, [2, 4, -1], dLogits, 3, Classes, -1, 2);
        for (int c = 0; c < Classes; c++)
        {
            Near(2 * (0.2 - (c == 2 ? 1 : 0)), dLogits[c], 1e-14);
            Near(2 * (0.2 - (c == 4 ? 1 : 0)), dLogits[Classes + c], 1e-14);
            Assert.Equal(0, dLogits[2 * Classes + c]);
        }
    }

    [Fact]
    public void Mse_is_the_row_sum_of_squares()
    {
        var perSample = new double[2];
        double total = ReferenceMath.MseForward([1, 2, 3, 4], [0, 0, 1, 1], perSample, 2, 2);
        Assert.Equal([5, 13], perSample);
        Assert.Equal(18, total);
    }

    [Fact]
    public void Gemm_computes_a_known_product_for_every_transpose()
    {
        // op(a) = [[1, 2, 3], [4, 5, 6]] (2, 3); op(b) = [[7, 8], [9, 10], [11, 12]] (3, 2); product [[58, 64], [139, 154]].
        double[] a = [1, 2, 3, 4, 5, 6], aT = [1, 4, 2, 5, 3, 6];
        double[] b = [7, 8, 9, 10, 11, 12], bT = [7, 9, 11, 8, 10, 12];
        double[] product = [58, 64, 139, 154];
        foreach (bool transA in new[] { false, true })
        {
            foreach (bool transB in new[] { false, true })
            {
                var c = new double[4];
                ReferenceMath.Gemm(transA, transB, 2, 2, 3, 1, transA ? aT : a, transB ? bT : b, 0, c);
                Assert.Equal(product, c);
            }
        }

        // beta = 0 does not read c (NaN is not propagated); beta = 1 accumulates; alpha scales.
        double[] nan = [double.NaN, double.NaN, double.NaN, double.NaN];
        ReferenceMath.Gemm(false, false, 2, 2, 3, 1, a, b, 0, nan);
        Assert.Equal(product, nan);
        double[] accumulated = [1, 1, 1, 1];
        ReferenceMath.Gemm(false, false, 2, 2, 3, 0.5, a, b, 1, accumulated);
        Assert.Equal([30, 33, 70.5, 78], accumulated);

        // k = 0: the product is empty, so c = beta * c.
        double[] emptyInner = [2, 4];
        ReferenceMath.Gemm(false, false, 1, 2, 0, 1, [], [], 0.5, emptyInner);
        Assert.Equal([1, 2], emptyInner);
    }

    [Fact]
    public void Bias_concat_and_indexing_move_the_right_elements()
    {
        double[] x = [1, 2, 3, 4, 5, 6];    // (2, 3)
        ReferenceMath.BiasAdd(x, [10, 20, 30], 2, 3);
        Assert.Equal([11, 22, 33, 14, 25, 36], x);
        double[] dBias = [1, 1, 1];
        ReferenceMath.BiasGradient([1, 2, 3, 4, 5, 6], dBias, 2, 3);
        Assert.Equal([6, 8, 10], dBias);

        var joined = new double[6];
        ReferenceMath.Concat([1, 2], [3, 4, 5, 6], joined, 2, 1, 2);
        Assert.Equal([1, 3, 4, 2, 5, 6], joined);

        double[] table = [1, 2, 3, 4, 5, 6];    // (3, 2)
        var gathered = new double[6];
        ReferenceMath.GatherRows(table, [2, 0, 2], gathered, 3, 2);
        Assert.Equal([5, 6, 1, 2, 5, 6], gathered);
        var dTable = new double[6];
        ReferenceMath.ScatterAddRows([1, 1, 2, 2, 3, 3], [2, 0, 2], dTable, 3, 2);
        Assert.Equal([2, 2, 0, 0, 4, 4], dTable);
    }

    [Fact]
    public void Nearest_code_takes_the_lowest_index_on_ties()
    {
        // codes (4, 2): code 1 and code 3 are the same point; code 0 and code 2 are equidistant from row 1.
        double[] codebook = [0, 0, 3, 4, 2, 0, 3, 4];
        double[] x = [3, 4, 1, 0, 10, 10];
        var indices = new int[3];
        var distances = new double[3];
        ReferenceMath.NearestCode(x, codebook, indices, distances, 3, 4, 2);
        Assert.Equal([1, 0, 1], indices);
        Assert.Equal([0, 1, 85], distances);
    }

    [Fact]
    public void Reparameterize_uses_the_clamped_standard_deviation()
    {
        var z = new double[3];
        ReferenceMath.ReparameterizeForward([1, 0, 0], [Math.Log(4), 100, -100], [0.5, 1, 1], z, -30, 20);
        Near(2, z[0], 1e-15);
        Near(Math.Exp(10), z[1], 1e-9);
        Near(Math.Exp(-15), z[2], 1e-20);
    }

    [Fact]
    public void Adam_first_step_moves_each_parameter_by_the_learning_rate_against_the_gradient()
    {
        double[] parameters = [1, -2, 0.5];
        double[] gradients = [0.3, -4, 1e-3];
        var m = new double[3];
        var v = new double[3];
        var settings = new AdamSettings(LearningRate: 0.01f);
        ReferenceMath.AdamStep(parameters, gradients, m, v, settings, 1);
        double lr = settings.LearningRate;
        // Step 1: m_hat = g, v_hat = g^2, so the update is lr g / (|g| + eps) ~ lr sign(g).
        Near(1 - lr, parameters[0], 1e-8);
        Near(-2 + lr, parameters[1], 1e-8);
        Near(0.5 - lr, parameters[2], 2e-7);   // eps / |g| = 1e-5 of the step
        Near((1 - (double)settings.Beta1) * 0.3, m[0], 1e-15);
        Near((1 - (double)settings.Beta2) * 16, v[1], 1e-15);

        // L2 weight decay (Adam): a zero gradient becomes wd p, so p moves by lr against its sign.
        double[] decayed = [2];
        ReferenceMath.AdamStep(decayed, [0], new double[1], new double[1], new AdamSettings(LearningRate: 0.01f, WeightDecay: 0.1f), 1);
        Near(2 - (double)0.01f, decayed[0], 1e-8);

        // Decoupled (AdamW): p first shrinks by lr wd p, then the Adam step; with a zero gradient only the shrink remains.
        double[] decoupled = [2];
        ReferenceMath.AdamStep(decoupled, [0], new double[1], new double[1], new AdamSettings(LearningRate: 0.01f, WeightDecay: 0.1f, Decoupled: true), 1);
        Near(2 - (double)0.01f * (double)0.1f * 2, decoupled[0], 1e-14);
    }

    [Fact]
    public void Adam_bias_correction_follows_the_step_count()
    {
        // Constant gradient g from zero moments: after any number of steps m_hat = g and v_hat = g^2 exactly,
        // so every step moves by lr g / (|g| + eps).
        double[] parameters = [0];
        var m = new double[1];
        var v = new double[1];
        var settings = new AdamSettings(LearningRate: 0.1f, Epsilon: 1e-8f);
        for (int step = 1; step <= 5; step++) ReferenceMath.AdamStep(parameters, [2], m, v, settings, step);
        double expected = -5 * (double)0.1f * 2 / (2 + (double)1e-8f);
        Near(expected, parameters[0], 1e-12);
    }

    [Fact]
    public void Norm_clip_sum_and_finiteness()
    {
        Assert.Equal(5, ReferenceMath.GlobalNorm([3, 4]));
        Assert.Equal(0, ReferenceMath.GlobalNorm([]));
        double[] x = [3, 4];
        ReferenceMath.ClipByNorm(x, 5, 1);
        Near(3 / (5 + 1e-6), x[0], 1e-15);
        Near(4 / (5 + 1e-6), x[1], 1e-15);
        double[] small = [3, 4];
        ReferenceMath.ClipByNorm(small, 5, 10);
        Assert.Equal([3, 4], small);

        Assert.Equal(6, ReferenceMath.Sum([1, 2, 3]));
        Assert.True(ReferenceMath.AllFinite([1, -1e300, 0]));
        Assert.True(ReferenceMath.AllFinite([]));
        Assert.False(ReferenceMath.AllFinite([1, double.NaN]));
        Assert.False(ReferenceMath.AllFinite([double.NegativeInfinity]));
    }
}
