// Argument validation shared by every backend: one public method per primitive of IComputeBackend, named like it and
// taking the backend followed by the primitive's own arguments in the same order, so that every backend (CPU, reference,
// CUDA) starts each primitive with the same one-line call and rejects exactly the same calls with the same messages
// before anything is written. Each method does every check that needs no buffer contents: ownership, disposed and null
// views, sizes, lengths against shapes, scalar results, enum values and settings, and the overlap rule of the
// conventions in IComputeBackend.cs. Messages and ParamName use the interface's argument names.
// Checks that read buffer contents (indices, class targets) are separate (IndexInRange, CrossEntropyTarget): host
// backends call them after the shape checks and before writing; a device backend cannot read its buffers cheaply.
// Passing checks allocate nothing: message strings are built only on the throwing paths.
using System.Runtime.CompilerServices;

namespace Vae;

public static class BackendChecks
{
    // ---------------------------------------------------------------- linear algebra

    /// <summary>a, b and c hold op(a) (m, k), op(b) (k, n) and c (m, n); c is disjoint from a and b.</summary>
    public static void Gemm(IComputeBackend backend, bool transA, bool transB, int m, int n, int k, DeviceSpan<float> a, DeviceSpan<float> b, DeviceSpan<float> c)
    {
        NonNegative(m, nameof(m)); NonNegative(n, nameof(n)); NonNegative(k, nameof(k));
        if (transA) Matrix(backend, a, k, m, nameof(a)); else Matrix(backend, a, m, k, nameof(a));
        if (transB) Matrix(backend, b, n, k, nameof(b)); else Matrix(backend, b, k, n, nameof(b));
        Matrix(backend, c, m, n, nameof(c));
        Disjoint(c, m * n, a, m * k, nameof(c), nameof(a));
        Disjoint(c, m * n, b, k * n, nameof(c), nameof(b));
    }

    /// <summary>x (rows, cols), bias (cols), disjoint.</summary>
    public static void BiasAdd(IComputeBackend backend, DeviceSpan<float> x, DeviceSpan<float> bias, int rows, int cols)
    {
        NonNegative(rows, nameof(rows)); NonNegative(cols, nameof(cols));
        Matrix(backend, x, rows, cols, nameof(x));
        Vector(backend, bias, cols, nameof(bias));
        Disjoint(x, rows * cols, bias, cols, nameof(x), nameof(bias));
    }

    /// <summary>dy (rows, cols), dBias (cols), disjoint.</summary>
    public static void BiasGradient(IComputeBackend backend, DeviceSpan<float> dy, DeviceSpan<float> dBias, int rows, int cols)
    {
        NonNegative(rows, nameof(rows)); NonNegative(cols, nameof(cols));
        Matrix(backend, dy, rows, cols, nameof(dy));
        Vector(backend, dBias, cols, nameof(dBias));
        Disjoint(dBias, cols, dy, rows * cols, nameof(dBias), nameof(dy));
    }

    // ---------------------------------------------------------------- elementwise

    /// <summary>Equal lengths; destination identical to or disjoint from source.</summary>
    public static void Copy(IComputeBackend backend, DeviceSpan<float> source, DeviceSpan<float> destination)
    {
        SameLength(backend, source, destination, nameof(source), nameof(destination));
        IdenticalOrDisjoint(destination, source, source.Length, nameof(destination), nameof(source));
    }

    /// <summary>x is an owned view; any value is accepted.</summary>
    public static void Fill(IComputeBackend backend, DeviceSpan<float> x, float value) => Owned(backend, x, nameof(x));

    /// <summary>x is an owned view; any alpha is accepted.</summary>
    public static void Scale(IComputeBackend backend, DeviceSpan<float> x, float alpha) => Owned(backend, x, nameof(x));

    /// <summary>Equal lengths; y identical to (y += alpha y) or disjoint from x.</summary>
    public static void Axpy(IComputeBackend backend, float alpha, DeviceSpan<float> x, DeviceSpan<float> y)
    {
        SameLength(backend, x, y, nameof(x), nameof(y));
        IdenticalOrDisjoint(y, x, x.Length, nameof(y), nameof(x));
    }

    /// <summary>a (rows, colsA), b (rows, colsB), output (rows, colsA + colsB) disjoint from a and b.</summary>
    public static void Concat(IComputeBackend backend, DeviceSpan<float> a, DeviceSpan<float> b, DeviceSpan<float> output, int rows, int colsA, int colsB)
    {
        int cols = JoinedColumns(rows, colsA, colsB);
        Matrix(backend, a, rows, colsA, nameof(a));
        Matrix(backend, b, rows, colsB, nameof(b));
        Matrix(backend, output, rows, cols, nameof(output));
        Disjoint(output, rows * cols, a, rows * colsA, nameof(output), nameof(a));
        Disjoint(output, rows * cols, b, rows * colsB, nameof(output), nameof(b));
    }

    /// <summary>input (rows, colsA + colsB), a (rows, colsA), b (rows, colsB); a, b and input pairwise disjoint.</summary>
    public static void Split(IComputeBackend backend, DeviceSpan<float> input, DeviceSpan<float> a, DeviceSpan<float> b, int rows, int colsA, int colsB)
    {
        int cols = JoinedColumns(rows, colsA, colsB);
        Matrix(backend, input, rows, cols, nameof(input));
        Matrix(backend, a, rows, colsA, nameof(a));
        Matrix(backend, b, rows, colsB, nameof(b));
        Disjoint(a, rows * colsA, b, rows * colsB, nameof(a), nameof(b));
        Disjoint(a, rows * colsA, input, rows * cols, nameof(a), nameof(input));
        Disjoint(b, rows * colsB, input, rows * cols, nameof(b), nameof(input));
    }

    /// <summary>x owned; result holds at least one element and is disjoint from x.</summary>
    public static void Sum(IComputeBackend backend, DeviceSpan<float> x, DeviceSpan<float> result)
    {
        Owned(backend, x, nameof(x));
        Scalar(backend, result, nameof(result));
        Disjoint(result, 1, x, x.Length, nameof(result), nameof(x));
    }

    // ---------------------------------------------------------------- activations

    /// <summary>f is defined; equal lengths; y identical to or disjoint from x.</summary>
    public static void ActivationForward(IComputeBackend backend, Activation f, DeviceSpan<float> x, DeviceSpan<float> y, float slope = 0.01f)
    {
        KnownActivation(f);
        SameLength(backend, x, y, nameof(x), nameof(y));
        IdenticalOrDisjoint(y, x, x.Length, nameof(y), nameof(x));
    }

    /// <summary>
    /// f is defined; dy, dx and the input f reads (x for Relu, LeakyRelu, Softplus; y for Tanh, Sigmoid) have equal
    /// lengths; the input f does not read may be the null view, else it has that length too. dx is identical to or
    /// disjoint from each of dy, x and y.
    /// </summary>
    public static void ActivationBackward(IComputeBackend backend, Activation f, DeviceSpan<float> x, DeviceSpan<float> y, DeviceSpan<float> dy, DeviceSpan<float> dx, float slope = 0.01f)
    {
        KnownActivation(f);
        Owned(backend, dy, nameof(dy));
        if (ActivationBackwardReadsOutput(f))
        {
            if (!x.IsNull) SameLength(backend, dy, x, nameof(dy), nameof(x));
            SameLength(backend, dy, y, nameof(dy), nameof(y));
        }
        else
        {
            SameLength(backend, dy, x, nameof(dy), nameof(x));
            if (!y.IsNull) SameLength(backend, dy, y, nameof(dy), nameof(y));
        }
        SameLength(backend, dy, dx, nameof(dy), nameof(dx));
        int n = dy.Length;
        IdenticalOrDisjoint(dx, dy, n, nameof(dx), nameof(dy));
        IdenticalOrDisjoint(dx, x, n, nameof(dx), nameof(x));
        IdenticalOrDisjoint(dx, y, n, nameof(dx), nameof(y));
    }

    /// <summary>True when ActivationBackward of f reads the forward's output y (Tanh, Sigmoid); else it reads x.</summary>
    public static bool ActivationBackwardReadsOutput(Activation f) => f is Activation.Tanh or Activation.Sigmoid;

    // ---------------------------------------------------------------- losses

    /// <summary>logits, targets (rows, cols); perSample (rows) and total (1 or null) disjoint from everything else.</summary>
    public static void BceWithLogitsForward(IComputeBackend backend, DeviceSpan<float> logits, DeviceSpan<float> targets, DeviceSpan<float> perSample, DeviceSpan<float> total, int rows, int cols)
        => ElementwiseLossForward(backend, logits, targets, perSample, total, rows, cols, nameof(logits));

    /// <summary>All (rows, cols); dLogits identical to or disjoint from logits and targets.</summary>
    public static void BceWithLogitsBackward(IComputeBackend backend, DeviceSpan<float> logits, DeviceSpan<float> targets, DeviceSpan<float> dLogits, int rows, int cols, float scale)
        => ElementwiseLossBackward(backend, logits, targets, dLogits, rows, cols, nameof(logits), nameof(dLogits));

    /// <summary>prediction, targets (rows, cols); perSample (rows) and total (1 or null) disjoint from everything else.</summary>
    public static void MseForward(IComputeBackend backend, DeviceSpan<float> prediction, DeviceSpan<float> targets, DeviceSpan<float> perSample, DeviceSpan<float> total, int rows, int cols)
        => ElementwiseLossForward(backend, prediction, targets, perSample, total, rows, cols, nameof(prediction));

    /// <summary>All (rows, cols); dPrediction identical to or disjoint from prediction and targets.</summary>
    public static void MseBackward(IComputeBackend backend, DeviceSpan<float> prediction, DeviceSpan<float> targets, DeviceSpan<float> dPrediction, int rows, int cols, float scale)
        => ElementwiseLossBackward(backend, prediction, targets, dPrediction, rows, cols, nameof(prediction), nameof(dPrediction));

    /// <summary>BCE and MSE forward: input and targets (rows, cols); perSample and total disjoint from both.</summary>
    static void ElementwiseLossForward(IComputeBackend backend, DeviceSpan<float> input, DeviceSpan<float> targets, DeviceSpan<float> perSample, DeviceSpan<float> total,
        int rows, int cols, string inputName)
    {
        NonNegative(rows, nameof(rows)); NonNegative(cols, nameof(cols));
        Matrix(backend, input, rows, cols, inputName);
        Matrix(backend, targets, rows, cols, nameof(targets));
        LossOutputs(backend, perSample, total, rows);
        LossOutputsDisjoint(perSample, total, rows, input, rows * cols, inputName);
        LossOutputsDisjoint(perSample, total, rows, targets, rows * cols, nameof(targets));
    }

    /// <summary>BCE and MSE backward: all (rows, cols); the gradient identical to or disjoint from input and targets.</summary>
    static void ElementwiseLossBackward(IComputeBackend backend, DeviceSpan<float> input, DeviceSpan<float> targets, DeviceSpan<float> gradient,
        int rows, int cols, string inputName, string gradientName)
    {
        NonNegative(rows, nameof(rows)); NonNegative(cols, nameof(cols));
        Matrix(backend, input, rows, cols, inputName);
        Matrix(backend, targets, rows, cols, nameof(targets));
        Matrix(backend, gradient, rows, cols, gradientName);
        int n = rows * cols;
        IdenticalOrDisjoint(gradient, input, n, gradientName, inputName);
        IdenticalOrDisjoint(gradient, targets, n, gradientName, nameof(targets));
    }

    /// <summary>mean, logVar, targets (rows, cols); perSample (rows) and total (1 or null) disjoint from everything else.</summary>
    public static void GaussianNllForward(IComputeBackend backend, DeviceSpan<float> mean, DeviceSpan<float> logVar, DeviceSpan<float> targets, DeviceSpan<float> perSample, DeviceSpan<float> total, int rows, int cols)
    {
        NonNegative(rows, nameof(rows)); NonNegative(cols, nameof(cols));
        Matrix(backend, mean, rows, cols, nameof(mean));
        Matrix(backend, logVar, rows, cols, nameof(logVar));
        Matrix(backend, targets, rows, cols, nameof(targets));
        LossOutputs(backend, perSample, total, rows);
        int n = rows * cols;
        LossOutputsDisjoint(perSample, total, rows, mean, n, nameof(mean));
        LossOutputsDisjoint(perSample, total, rows, logVar, n, nameof(logVar));
        LossOutputsDisjoint(perSample, total, rows, targets, n, nameof(targets));
    }

    /// <summary>All (rows, cols); dMean and dLogVar disjoint, each identical to or disjoint from mean, logVar and targets.</summary>
    public static void GaussianNllBackward(IComputeBackend backend, DeviceSpan<float> mean, DeviceSpan<float> logVar, DeviceSpan<float> targets,
        DeviceSpan<float> dMean, DeviceSpan<float> dLogVar, int rows, int cols, float scale)
    {
        NonNegative(rows, nameof(rows)); NonNegative(cols, nameof(cols));
        Matrix(backend, mean, rows, cols, nameof(mean));
        Matrix(backend, logVar, rows, cols, nameof(logVar));
        Matrix(backend, targets, rows, cols, nameof(targets));
        Matrix(backend, dMean, rows, cols, nameof(dMean));
        Matrix(backend, dLogVar, rows, cols, nameof(dLogVar));
        int n = rows * cols;
        Disjoint(dMean, n, dLogVar, n, nameof(dMean), nameof(dLogVar));
        IdenticalOrDisjoint(dMean, mean, n, nameof(dMean), nameof(mean));
        IdenticalOrDisjoint(dMean, logVar, n, nameof(dMean), nameof(logVar));
        IdenticalOrDisjoint(dMean, targets, n, nameof(dMean), nameof(targets));
        IdenticalOrDisjoint(dLogVar, mean, n, nameof(dLogVar), nameof(mean));
        IdenticalOrDisjoint(dLogVar, logVar, n, nameof(dLogVar), nameof(logVar));
        IdenticalOrDisjoint(dLogVar, targets, n, nameof(dLogVar), nameof(targets));
    }

    /// <summary>
    /// logits (rows, classes), targets (rows); perSample (rows) and total (1 or null) disjoint from everything else.
    /// The target values are checked separately (<see cref="CrossEntropyTarget"/>).
    /// </summary>
    public static void CrossEntropyForward(IComputeBackend backend, DeviceSpan<float> logits, DeviceSpan<int> targets, DeviceSpan<float> perSample, DeviceSpan<float> total,
        int rows, int classes, int ignoreIndex)
    {
        NonNegative(rows, nameof(rows)); NonNegative(classes, nameof(classes));
        Matrix(backend, logits, rows, classes, nameof(logits));
        Vector(backend, targets, rows, nameof(targets));
        LossOutputs(backend, perSample, total, rows);
        LossOutputsDisjoint(perSample, total, rows, logits, rows * classes, nameof(logits));
        LossOutputsDisjoint(perSample, total, rows, targets, rows, nameof(targets));
    }

    /// <summary>
    /// logits, dLogits (rows, classes), targets (rows); dLogits identical to or disjoint from logits, disjoint from targets.
    /// The target values are checked separately (<see cref="CrossEntropyTarget"/>).
    /// </summary>
    public static void CrossEntropyBackward(IComputeBackend backend, DeviceSpan<float> logits, DeviceSpan<int> targets, DeviceSpan<float> dLogits,
        int rows, int classes, int ignoreIndex, float scale)
    {
        NonNegative(rows, nameof(rows)); NonNegative(classes, nameof(classes));
        Matrix(backend, logits, rows, classes, nameof(logits));
        Vector(backend, targets, rows, nameof(targets));
        Matrix(backend, dLogits, rows, classes, nameof(dLogits));
        int n = rows * classes;
        IdenticalOrDisjoint(dLogits, logits, n, nameof(dLogits), nameof(logits));
        Disjoint(dLogits, n, targets, rows, nameof(dLogits), nameof(targets));
    }

    /// <summary>mu, logVar (rows, cols); perSample (rows) and total (1 or null) disjoint from everything else.</summary>
    public static void KlStandardNormalForward(IComputeBackend backend, DeviceSpan<float> mu, DeviceSpan<float> logVar, DeviceSpan<float> perSample, DeviceSpan<float> total, int rows, int cols)
    {
        NonNegative(rows, nameof(rows)); NonNegative(cols, nameof(cols));
        Matrix(backend, mu, rows, cols, nameof(mu));
        Matrix(backend, logVar, rows, cols, nameof(logVar));
        LossOutputs(backend, perSample, total, rows);
        LossOutputsDisjoint(perSample, total, rows, mu, rows * cols, nameof(mu));
        LossOutputsDisjoint(perSample, total, rows, logVar, rows * cols, nameof(logVar));
    }

    /// <summary>All (rows, cols); dMu and dLogVar disjoint, each identical to or disjoint from mu and logVar.</summary>
    public static void KlStandardNormalBackward(IComputeBackend backend, DeviceSpan<float> mu, DeviceSpan<float> logVar, DeviceSpan<float> dMu, DeviceSpan<float> dLogVar,
        int rows, int cols, float scale)
    {
        NonNegative(rows, nameof(rows)); NonNegative(cols, nameof(cols));
        Matrix(backend, mu, rows, cols, nameof(mu));
        Matrix(backend, logVar, rows, cols, nameof(logVar));
        Matrix(backend, dMu, rows, cols, nameof(dMu));
        Matrix(backend, dLogVar, rows, cols, nameof(dLogVar));
        int n = rows * cols;
        Disjoint(dMu, n, dLogVar, n, nameof(dMu), nameof(dLogVar));
        IdenticalOrDisjoint(dMu, mu, n, nameof(dMu), nameof(mu));
        IdenticalOrDisjoint(dMu, logVar, n, nameof(dMu), nameof(logVar));
        IdenticalOrDisjoint(dLogVar, mu, n, nameof(dLogVar), nameof(mu));
        IdenticalOrDisjoint(dLogVar, logVar, n, nameof(dLogVar), nameof(logVar));
    }

    /// <summary>
    /// As <see cref="KlStandardNormalBackward"/> for mu, logVar, dMu and dLogVar (rows, cols); perDimension (cols) disjoint from
    /// the other four; freeBits not NaN.
    /// </summary>
    public static void KlFreeBitsBackward(IComputeBackend backend, DeviceSpan<float> mu, DeviceSpan<float> logVar, DeviceSpan<float> dMu, DeviceSpan<float> dLogVar,
        DeviceSpan<float> perDimension, int rows, int cols, float scale, float freeBits)
    {
        KlStandardNormalBackward(backend, mu, logVar, dMu, dLogVar, rows, cols, scale);
        Vector(backend, perDimension, cols, nameof(perDimension));
        int n = rows * cols;
        Disjoint(perDimension, cols, mu, n, nameof(perDimension), nameof(mu));
        Disjoint(perDimension, cols, logVar, n, nameof(perDimension), nameof(logVar));
        Disjoint(perDimension, cols, dMu, n, nameof(perDimension), nameof(dMu));
        Disjoint(perDimension, cols, dLogVar, n, nameof(perDimension), nameof(dLogVar));
        if (float.IsNaN(freeBits))
            throw new ArgumentOutOfRangeException(nameof(freeBits), freeBits, "freeBits is NaN; it must be a number (nats per latent dimension).");
    }

    /// <summary>muQ, logVarQ, muP, logVarP (rows, cols); perSample (rows) and total (1 or null) disjoint from everything else.</summary>
    public static void KlGaussianForward(IComputeBackend backend, DeviceSpan<float> muQ, DeviceSpan<float> logVarQ, DeviceSpan<float> muP, DeviceSpan<float> logVarP,
        DeviceSpan<float> perSample, DeviceSpan<float> total, int rows, int cols)
    {
        NonNegative(rows, nameof(rows)); NonNegative(cols, nameof(cols));
        Matrix(backend, muQ, rows, cols, nameof(muQ));
        Matrix(backend, logVarQ, rows, cols, nameof(logVarQ));
        Matrix(backend, muP, rows, cols, nameof(muP));
        Matrix(backend, logVarP, rows, cols, nameof(logVarP));
        LossOutputs(backend, perSample, total, rows);
        int n = rows * cols;
        LossOutputsDisjoint(perSample, total, rows, muQ, n, nameof(muQ));
        LossOutputsDisjoint(perSample, total, rows, logVarQ, n, nameof(logVarQ));
        LossOutputsDisjoint(perSample, total, rows, muP, n, nameof(muP));
        LossOutputsDisjoint(perSample, total, rows, logVarP, n, nameof(logVarP));
    }

    /// <summary>All (rows, cols); the four gradients pairwise disjoint, each identical to or disjoint from each input.</summary>
    public static void KlGaussianBackward(IComputeBackend backend, DeviceSpan<float> muQ, DeviceSpan<float> logVarQ, DeviceSpan<float> muP, DeviceSpan<float> logVarP,
        DeviceSpan<float> dMuQ, DeviceSpan<float> dLogVarQ, DeviceSpan<float> dMuP, DeviceSpan<float> dLogVarP, int rows, int cols, float scale)
    {
        NonNegative(rows, nameof(rows)); NonNegative(cols, nameof(cols));
        Matrix(backend, muQ, rows, cols, nameof(muQ));
        Matrix(backend, logVarQ, rows, cols, nameof(logVarQ));
        Matrix(backend, muP, rows, cols, nameof(muP));
        Matrix(backend, logVarP, rows, cols, nameof(logVarP));
        Matrix(backend, dMuQ, rows, cols, nameof(dMuQ));
        Matrix(backend, dLogVarQ, rows, cols, nameof(dLogVarQ));
        Matrix(backend, dMuP, rows, cols, nameof(dMuP));
        Matrix(backend, dLogVarP, rows, cols, nameof(dLogVarP));
        int n = rows * cols;
        Disjoint(dMuQ, n, dLogVarQ, n, nameof(dMuQ), nameof(dLogVarQ));
        Disjoint(dMuQ, n, dMuP, n, nameof(dMuQ), nameof(dMuP));
        Disjoint(dMuQ, n, dLogVarP, n, nameof(dMuQ), nameof(dLogVarP));
        Disjoint(dLogVarQ, n, dMuP, n, nameof(dLogVarQ), nameof(dMuP));
        Disjoint(dLogVarQ, n, dLogVarP, n, nameof(dLogVarQ), nameof(dLogVarP));
        Disjoint(dMuP, n, dLogVarP, n, nameof(dMuP), nameof(dLogVarP));
        GradientOfFourInputs(dMuQ, n, nameof(dMuQ), muQ, logVarQ, muP, logVarP);
        GradientOfFourInputs(dLogVarQ, n, nameof(dLogVarQ), muQ, logVarQ, muP, logVarP);
        GradientOfFourInputs(dMuP, n, nameof(dMuP), muQ, logVarQ, muP, logVarP);
        GradientOfFourInputs(dLogVarP, n, nameof(dLogVarP), muQ, logVarQ, muP, logVarP);
    }

    // ---------------------------------------------------------------- reparameterization and randomness

    /// <summary>Equal lengths; minLogVar &lt;= maxLogVar (not NaN); z identical to or disjoint from mu, logVar and eps.</summary>
    public static void ReparameterizeForward(IComputeBackend backend, DeviceSpan<float> mu, DeviceSpan<float> logVar, DeviceSpan<float> eps, DeviceSpan<float> z,
        float minLogVar, float maxLogVar)
    {
        Owned(backend, mu, nameof(mu));
        SameLength(backend, mu, logVar, nameof(mu), nameof(logVar));
        SameLength(backend, mu, eps, nameof(mu), nameof(eps));
        SameLength(backend, mu, z, nameof(mu), nameof(z));
        LogVarClamp(minLogVar, maxLogVar);
        int n = mu.Length;
        IdenticalOrDisjoint(z, mu, n, nameof(z), nameof(mu));
        IdenticalOrDisjoint(z, logVar, n, nameof(z), nameof(logVar));
        IdenticalOrDisjoint(z, eps, n, nameof(z), nameof(eps));
    }

    /// <summary>
    /// Equal lengths; minLogVar &lt;= maxLogVar (not NaN); dMu and dLogVar disjoint, each identical to or disjoint from
    /// logVar, eps and dz.
    /// </summary>
    public static void ReparameterizeBackward(IComputeBackend backend, DeviceSpan<float> logVar, DeviceSpan<float> eps, DeviceSpan<float> dz,
        DeviceSpan<float> dMu, DeviceSpan<float> dLogVar, float minLogVar, float maxLogVar)
    {
        Owned(backend, logVar, nameof(logVar));
        SameLength(backend, logVar, eps, nameof(logVar), nameof(eps));
        SameLength(backend, logVar, dz, nameof(logVar), nameof(dz));
        SameLength(backend, logVar, dMu, nameof(logVar), nameof(dMu));
        SameLength(backend, logVar, dLogVar, nameof(logVar), nameof(dLogVar));
        LogVarClamp(minLogVar, maxLogVar);
        int n = logVar.Length;
        Disjoint(dMu, n, dLogVar, n, nameof(dMu), nameof(dLogVar));
        IdenticalOrDisjoint(dMu, logVar, n, nameof(dMu), nameof(logVar));
        IdenticalOrDisjoint(dMu, eps, n, nameof(dMu), nameof(eps));
        IdenticalOrDisjoint(dMu, dz, n, nameof(dMu), nameof(dz));
        IdenticalOrDisjoint(dLogVar, logVar, n, nameof(dLogVar), nameof(logVar));
        IdenticalOrDisjoint(dLogVar, eps, n, nameof(dLogVar), nameof(eps));
        IdenticalOrDisjoint(dLogVar, dz, n, nameof(dLogVar), nameof(dz));
    }

    /// <summary>output is an owned view; every seed and offset is valid (indices wrap modulo 2^64).</summary>
    public static void RandomNormal(IComputeBackend backend, DeviceSpan<float> output, ulong seed, ulong offset) => Owned(backend, output, nameof(output));

    /// <summary>output owned; offset holds at least one element and is disjoint from output.</summary>
    public static void RandomNormal(IComputeBackend backend, DeviceSpan<float> output, ulong seed, DeviceSpan<ulong> offset)
    {
        Owned(backend, output, nameof(output));
        Scalar(backend, offset, nameof(offset));
        Disjoint(offset, 1, output, output.Length, nameof(offset), nameof(output));
    }

    // ---------------------------------------------------------------- indexing

    /// <summary>
    /// table (tableRows, cols), indices (count), output (count, cols) disjoint from table and indices.
    /// The index values are checked separately (<see cref="IndexInRange"/>).
    /// </summary>
    public static void GatherRows(IComputeBackend backend, DeviceSpan<float> table, DeviceSpan<int> indices, DeviceSpan<float> output, int tableRows, int count, int cols)
    {
        NonNegative(tableRows, nameof(tableRows)); NonNegative(count, nameof(count)); NonNegative(cols, nameof(cols));
        Matrix(backend, table, tableRows, cols, nameof(table));
        Vector(backend, indices, count, nameof(indices));
        Matrix(backend, output, count, cols, nameof(output));
        Disjoint(output, count * cols, table, tableRows * cols, nameof(output), nameof(table));
        Disjoint(output, count * cols, indices, count, nameof(output), nameof(indices));
    }

    /// <summary>
    /// dOutput (count, cols), indices (count), dTable (tableRows, cols) disjoint from dOutput and indices.
    /// The index values are checked separately (<see cref="IndexInRange"/>).
    /// </summary>
    public static void ScatterAddRows(IComputeBackend backend, DeviceSpan<float> dOutput, DeviceSpan<int> indices, DeviceSpan<float> dTable, int tableRows, int count, int cols)
    {
        NonNegative(tableRows, nameof(tableRows)); NonNegative(count, nameof(count)); NonNegative(cols, nameof(cols));
        Matrix(backend, dOutput, count, cols, nameof(dOutput));
        Vector(backend, indices, count, nameof(indices));
        Matrix(backend, dTable, tableRows, cols, nameof(dTable));
        Disjoint(dTable, tableRows * cols, dOutput, count * cols, nameof(dTable), nameof(dOutput));
        Disjoint(dTable, tableRows * cols, indices, count, nameof(dTable), nameof(indices));
    }

    /// <summary>
    /// x (rows, cols), codebook (codes, cols) with codes &gt; 0 unless rows = 0, indices and distances (rows); indices
    /// and distances disjoint from each other and from x and codebook.
    /// </summary>
    public static void NearestCode(IComputeBackend backend, DeviceSpan<float> x, DeviceSpan<float> codebook, DeviceSpan<int> indices, DeviceSpan<float> distances,
        int rows, int codes, int cols)
    {
        NonNegative(rows, nameof(rows)); NonNegative(codes, nameof(codes)); NonNegative(cols, nameof(cols));
        if (codes == 0 && rows > 0)
            throw new ArgumentOutOfRangeException(nameof(codes), codes, $"codes = 0: NearestCode needs at least one code in the codebook for {rows} rows.");
        Matrix(backend, x, rows, cols, nameof(x));
        Matrix(backend, codebook, codes, cols, nameof(codebook));
        Vector(backend, indices, rows, nameof(indices));
        Vector(backend, distances, rows, nameof(distances));
        Disjoint(indices, rows, distances, rows, nameof(indices), nameof(distances));
        Disjoint(indices, rows, x, rows * cols, nameof(indices), nameof(x));
        Disjoint(indices, rows, codebook, codes * cols, nameof(indices), nameof(codebook));
        Disjoint(distances, rows, x, rows * cols, nameof(distances), nameof(x));
        Disjoint(distances, rows, codebook, codes * cols, nameof(distances), nameof(codebook));
    }

    /// <summary>clusterSize (codes), embedSum and codebook (codes, cols); codebook disjoint from both inputs; epsilon finite and &gt;= 0.</summary>
    public static void EmaCodebook(IComputeBackend backend, DeviceSpan<float> clusterSize, DeviceSpan<float> embedSum, DeviceSpan<float> codebook,
        int codes, int cols, float epsilon)
    {
        NonNegative(codes, nameof(codes)); NonNegative(cols, nameof(cols));
        Vector(backend, clusterSize, codes, nameof(clusterSize));
        Matrix(backend, embedSum, codes, cols, nameof(embedSum));
        Matrix(backend, codebook, codes, cols, nameof(codebook));
        Disjoint(codebook, codes * cols, embedSum, codes * cols, nameof(codebook), nameof(embedSum));
        Disjoint(codebook, codes * cols, clusterSize, codes, nameof(codebook), nameof(clusterSize));
        if (!(epsilon >= 0 && float.IsFinite(epsilon)))
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, $"epsilon = {epsilon} must be finite and >= 0 (the Laplace smoothing of the cluster sizes).");
    }

    // ---------------------------------------------------------------- optimizer

    /// <summary>Equal lengths, the four views pairwise disjoint, valid settings, step &gt;= 1.</summary>
    public static void AdamStep(IComputeBackend backend, DeviceSpan<float> parameters, DeviceSpan<float> gradients, DeviceSpan<float> m, DeviceSpan<float> v,
        AdamSettings settings, int step)
    {
        Owned(backend, parameters, nameof(parameters));
        SameLength(backend, parameters, gradients, nameof(parameters), nameof(gradients));
        SameLength(backend, parameters, m, nameof(parameters), nameof(m));
        SameLength(backend, parameters, v, nameof(parameters), nameof(v));
        int n = parameters.Length;
        Disjoint(parameters, n, gradients, n, nameof(parameters), nameof(gradients));
        Disjoint(parameters, n, m, n, nameof(parameters), nameof(m));
        Disjoint(parameters, n, v, n, nameof(parameters), nameof(v));
        Disjoint(m, n, gradients, n, nameof(m), nameof(gradients));
        Disjoint(m, n, v, n, nameof(m), nameof(v));
        Disjoint(v, n, gradients, n, nameof(v), nameof(gradients));
        settings.Validate();
        if (step < 1) throw new ArgumentOutOfRangeException(nameof(step), step, $"step = {step}: Adam steps count from 1.");
    }

    /// <summary>As AdamStep with a host step, and step holds at least one element disjoint from the four buffers.</summary>
    public static void AdamStep(IComputeBackend backend, DeviceSpan<float> parameters, DeviceSpan<float> gradients, DeviceSpan<float> m, DeviceSpan<float> v,
        AdamSettings settings, DeviceSpan<int> step)
    {
        AdamStep(backend, parameters, gradients, m, v, settings, 1);
        Scalar(backend, step, nameof(step));
        int n = parameters.Length;
        Disjoint(step, 1, parameters, n, nameof(step), nameof(parameters));
        Disjoint(step, 1, gradients, n, nameof(step), nameof(gradients));
        Disjoint(step, 1, m, n, nameof(step), nameof(m));
        Disjoint(step, 1, v, n, nameof(step), nameof(v));
    }

    /// <summary>x owned; result holds at least one element and is disjoint from x.</summary>
    public static void GlobalNorm(IComputeBackend backend, DeviceSpan<float> x, DeviceSpan<float> result)
    {
        Owned(backend, x, nameof(x));
        Scalar(backend, result, nameof(result));
        Disjoint(result, 1, x, x.Length, nameof(result), nameof(x));
    }

    /// <summary>x owned; norm holds at least one element and is disjoint from x; maxNorm finite and &gt; 0.</summary>
    public static void ClipByNorm(IComputeBackend backend, DeviceSpan<float> x, DeviceSpan<float> norm, float maxNorm)
    {
        Owned(backend, x, nameof(x));
        Scalar(backend, norm, nameof(norm));
        if (!(maxNorm > 0 && float.IsFinite(maxNorm)))
            throw new ArgumentOutOfRangeException(nameof(maxNorm), maxNorm, $"maxNorm = {maxNorm} must be finite and > 0.");
        Disjoint(x, x.Length, norm, 1, nameof(x), nameof(norm));
    }

    /// <summary>x owned; result holds at least one element and is disjoint from x.</summary>
    public static void AllFinite(IComputeBackend backend, DeviceSpan<float> x, DeviceSpan<int> result)
    {
        Owned(backend, x, nameof(x));
        Scalar(backend, result, nameof(result));
        Disjoint(result, 1, x, x.Length, nameof(result), nameof(x));
    }

    // ---------------------------------------------------------------- per-row operations

    /// <summary>x, y (rows, cols), y identical to or disjoint from x; logSumExp the null view or (rows) disjoint from x and y.</summary>
    public static void SoftmaxRows(IComputeBackend backend, DeviceSpan<float> x, DeviceSpan<float> y, DeviceSpan<float> logSumExp, int rows, int cols)
    {
        NonNegative(rows, nameof(rows)); NonNegative(cols, nameof(cols));
        Matrix(backend, x, rows, cols, nameof(x));
        Matrix(backend, y, rows, cols, nameof(y));
        int n = rows * cols;
        IdenticalOrDisjoint(y, x, n, nameof(y), nameof(x));
        if (logSumExp.IsNull) return;
        Vector(backend, logSumExp, rows, nameof(logSumExp));
        Disjoint(logSumExp, rows, x, n, nameof(logSumExp), nameof(x));
        Disjoint(logSumExp, rows, y, n, nameof(logSumExp), nameof(y));
    }

    /// <summary>x, y (rows, cols), y identical to or disjoint from x; rowScale (rows) disjoint from y.</summary>
    public static void ScaleRows(IComputeBackend backend, DeviceSpan<float> x, DeviceSpan<float> rowScale, DeviceSpan<float> y, int rows, int cols)
    {
        NonNegative(rows, nameof(rows)); NonNegative(cols, nameof(cols));
        Matrix(backend, x, rows, cols, nameof(x));
        Vector(backend, rowScale, rows, nameof(rowScale));
        Matrix(backend, y, rows, cols, nameof(y));
        int n = rows * cols;
        IdenticalOrDisjoint(y, x, n, nameof(y), nameof(x));
        Disjoint(y, n, rowScale, rows, nameof(y), nameof(rowScale));
    }

    /// <summary>x (rows, cols) with cols &gt; 0 when rows &gt; 0; indices (rows) disjoint from x.</summary>
    public static void ArgMaxRows(IComputeBackend backend, DeviceSpan<float> x, DeviceSpan<int> indices, int rows, int cols)
    {
        NonNegative(rows, nameof(rows)); NonNegative(cols, nameof(cols));
        if (cols == 0 && rows > 0)
            throw new ArgumentOutOfRangeException(nameof(cols), cols, $"cols = 0: ArgMaxRows needs at least one column to pick from in each of the {rows} rows.");
        Matrix(backend, x, rows, cols, nameof(x));
        Vector(backend, indices, rows, nameof(indices));
        Disjoint(indices, rows, x, rows * cols, nameof(indices), nameof(x));
    }

    // ---------------------------------------------------------------- recurrent

    /// <summary>
    /// gates, activated (rows, 4 hidden); cPrev, hPrev, c, h (rows, hidden); lengths null or (rows); y null or (rows, yStride)
    /// with yStride &gt;= hidden; step &gt;= 0. activated identical to or disjoint from gates; every other output disjoint
    /// from the inputs and from the other outputs (y over its whole strided extent).
    /// </summary>
    public static void LstmCellForward(IComputeBackend backend, DeviceSpan<float> gates, DeviceSpan<float> cPrev, DeviceSpan<float> hPrev, DeviceSpan<int> lengths,
        DeviceSpan<float> activated, DeviceSpan<float> c, DeviceSpan<float> h, DeviceSpan<float> y, int rows, int hidden, int yStride, int step)
    {
        int gateCols = LstmShape(rows, hidden, step);
        int n = rows * hidden, g = rows * gateCols;
        Matrix(backend, gates, rows, gateCols, nameof(gates));
        Matrix(backend, cPrev, rows, hidden, nameof(cPrev));
        Matrix(backend, hPrev, rows, hidden, nameof(hPrev));
        int lengthCount = OptionalLengths(backend, lengths, rows);
        Matrix(backend, activated, rows, gateCols, nameof(activated));
        Matrix(backend, c, rows, hidden, nameof(c));
        Matrix(backend, h, rows, hidden, nameof(h));
        int yExtent = OptionalStridedRows(backend, y, rows, hidden, yStride, nameof(y), nameof(yStride));

        IdenticalOrDisjoint(activated, gates, g, nameof(activated), nameof(gates));
        Disjoint(activated, g, cPrev, n, nameof(activated), nameof(cPrev));
        Disjoint(activated, g, hPrev, n, nameof(activated), nameof(hPrev));
        Disjoint(activated, g, lengths, lengthCount, nameof(activated), nameof(lengths));
        LstmStateOutput(c, n, gates, g, cPrev, hPrev, lengths, lengthCount, activated, nameof(c));
        LstmStateOutput(h, n, gates, g, cPrev, hPrev, lengths, lengthCount, activated, nameof(h));
        Disjoint(c, n, h, n, nameof(c), nameof(h));
        Disjoint(y, yExtent, gates, g, nameof(y), nameof(gates));
        Disjoint(y, yExtent, cPrev, n, nameof(y), nameof(cPrev));
        Disjoint(y, yExtent, hPrev, n, nameof(y), nameof(hPrev));
        Disjoint(y, yExtent, lengths, lengthCount, nameof(y), nameof(lengths));
        Disjoint(y, yExtent, activated, g, nameof(y), nameof(activated));
        Disjoint(y, yExtent, c, n, nameof(y), nameof(c));
        Disjoint(y, yExtent, h, n, nameof(y), nameof(h));
    }

    /// <summary>
    /// activated, dGates (rows, 4 hidden); cPrev, c, dhNext, dcNext, dhPrev, dcPrev (rows, hidden); lengths null or (rows);
    /// dy null or (rows, dyStride) with dyStride &gt;= hidden; step &gt;= 0. dGates identical to or disjoint from activated,
    /// dhPrev from dhNext, dcPrev from dcNext; otherwise every output is disjoint from the inputs and the other outputs.
    /// </summary>
    public static void LstmCellBackward(IComputeBackend backend, DeviceSpan<float> activated, DeviceSpan<float> cPrev, DeviceSpan<float> c, DeviceSpan<int> lengths,
        DeviceSpan<float> dy, DeviceSpan<float> dhNext, DeviceSpan<float> dcNext, DeviceSpan<float> dGates, DeviceSpan<float> dhPrev, DeviceSpan<float> dcPrev,
        int rows, int hidden, int dyStride, int step)
    {
        int gateCols = LstmShape(rows, hidden, step);
        int n = rows * hidden, g = rows * gateCols;
        Matrix(backend, activated, rows, gateCols, nameof(activated));
        Matrix(backend, cPrev, rows, hidden, nameof(cPrev));
        Matrix(backend, c, rows, hidden, nameof(c));
        int lengthCount = OptionalLengths(backend, lengths, rows);
        int dyExtent = OptionalStridedRows(backend, dy, rows, hidden, dyStride, nameof(dy), nameof(dyStride));
        Matrix(backend, dhNext, rows, hidden, nameof(dhNext));
        Matrix(backend, dcNext, rows, hidden, nameof(dcNext));
        Matrix(backend, dGates, rows, gateCols, nameof(dGates));
        Matrix(backend, dhPrev, rows, hidden, nameof(dhPrev));
        Matrix(backend, dcPrev, rows, hidden, nameof(dcPrev));

        IdenticalOrDisjoint(dGates, activated, g, nameof(dGates), nameof(activated));
        IdenticalOrDisjoint(dhPrev, dhNext, n, nameof(dhPrev), nameof(dhNext));
        IdenticalOrDisjoint(dcPrev, dcNext, n, nameof(dcPrev), nameof(dcNext));
        Disjoint(dGates, g, dhPrev, n, nameof(dGates), nameof(dhPrev));
        Disjoint(dGates, g, dcPrev, n, nameof(dGates), nameof(dcPrev));
        Disjoint(dhPrev, n, dcPrev, n, nameof(dhPrev), nameof(dcPrev));
        LstmGradientOutput(dGates, g, cPrev, c, n, lengths, lengthCount, dy, dyExtent, nameof(dGates));
        LstmGradientOutput(dhPrev, n, cPrev, c, n, lengths, lengthCount, dy, dyExtent, nameof(dhPrev));
        LstmGradientOutput(dcPrev, n, cPrev, c, n, lengths, lengthCount, dy, dyExtent, nameof(dcPrev));
        Disjoint(dGates, g, dhNext, n, nameof(dGates), nameof(dhNext));
        Disjoint(dGates, g, dcNext, n, nameof(dGates), nameof(dcNext));
        Disjoint(dhPrev, n, activated, g, nameof(dhPrev), nameof(activated));
        Disjoint(dhPrev, n, dcNext, n, nameof(dhPrev), nameof(dcNext));
        Disjoint(dcPrev, n, activated, g, nameof(dcPrev), nameof(activated));
        Disjoint(dcPrev, n, dhNext, n, nameof(dcPrev), nameof(dhNext));
    }

    /// <summary>An LSTM forward state output (c or h, n elements) is disjoint from every input and from activated.</summary>
    static void LstmStateOutput(DeviceSpan<float> output, int n, DeviceSpan<float> gates, int g, DeviceSpan<float> cPrev, DeviceSpan<float> hPrev,
        DeviceSpan<int> lengths, int lengthCount, DeviceSpan<float> activated, string name)
    {
        Disjoint(output, n, gates, g, name, nameof(gates));
        Disjoint(output, n, cPrev, n, name, nameof(cPrev));
        Disjoint(output, n, hPrev, n, name, nameof(hPrev));
        Disjoint(output, n, lengths, lengthCount, name, nameof(lengths));
        Disjoint(output, n, activated, g, name, nameof(activated));
    }

    /// <summary>An LSTM backward output is disjoint from the inputs no output may alias (cPrev, c, lengths, dy).</summary>
    static void LstmGradientOutput(DeviceSpan<float> output, int count, DeviceSpan<float> cPrev, DeviceSpan<float> c, int n,
        DeviceSpan<int> lengths, int lengthCount, DeviceSpan<float> dy, int dyExtent, string name)
    {
        Disjoint(output, count, cPrev, n, name, nameof(cPrev));
        Disjoint(output, count, c, n, name, nameof(c));
        Disjoint(output, count, lengths, lengthCount, name, nameof(lengths));
        Disjoint(output, count, dy, dyExtent, name, nameof(dy));
    }

    /// <summary>4 hidden, after checking that rows, hidden and step are non-negative and 4 hidden fits an int.</summary>
    static int LstmShape(int rows, int hidden, int step)
    {
        NonNegative(rows, nameof(rows)); NonNegative(hidden, nameof(hidden)); NonNegative(step, nameof(step));
        if (hidden > int.MaxValue / 4)
            throw new ArgumentOutOfRangeException(nameof(hidden), hidden, $"hidden = {hidden}: the gates' 4 * hidden columns exceed {int.MaxValue}.");
        return 4 * hidden;
    }

    /// <summary>Elements of the optional lengths (rows) an LSTM cell reads: 0 for the null view, else rows (owned, long enough).</summary>
    static int OptionalLengths(IComputeBackend backend, DeviceSpan<int> lengths, int rows)
    {
        if (lengths.IsNull) return 0;
        Vector(backend, lengths, rows, nameof(lengths));
        return rows;
    }

    /// <summary>
    /// The extent (rows - 1) stride + cols of an optional strided view of rows of cols elements: 0 for the null view, else it
    /// is owned and holds the extent; stride &gt;= cols.
    /// </summary>
    static int OptionalStridedRows(IComputeBackend backend, DeviceSpan<float> view, int rows, int cols, int stride, string name, string strideName)
    {
        if (view.IsNull) return 0;
        Owned(backend, view, name);
        if (stride < cols) throw new ArgumentOutOfRangeException(strideName, stride, $"{strideName} = {stride} must be >= hidden = {cols}.");
        long extent = rows == 0 ? 0 : (long)(rows - 1) * stride + cols;
        if (view.Length < extent)
            throw new ArgumentException($"{name} has length {view.Length} but {rows} rows of {cols} elements {stride} apart need {extent} elements.", name);
        return (int)extent;
    }

    // ---------------------------------------------------------------- checks of buffer contents (host backends)

    /// <summary>Every index is in [0, tableRows) (GatherRows, ScatterAddRows); reads host memory, so host backends only.</summary>
    public static void IndexInRange(ReadOnlySpan<int> indices, int tableRows)
    {
        for (int i = 0; i < indices.Length; i++)
        {
            int index = indices[i];
            if ((uint)index >= (uint)tableRows)
                throw new ArgumentOutOfRangeException(nameof(indices), index, $"indices[{i}] = {index} is outside [0, {tableRows}).");
        }
    }

    /// <summary>Every target is a class in [0, classes) or ignoreIndex (cross-entropy); reads host memory, so host backends only.</summary>
    public static void CrossEntropyTarget(ReadOnlySpan<int> targets, int classes, int ignoreIndex)
    {
        for (int r = 0; r < targets.Length; r++)
        {
            int target = targets[r];
            if (target != ignoreIndex && (uint)target >= (uint)classes)
                throw new ArgumentOutOfRangeException(nameof(targets), target, $"targets[{r}] = {target} is outside [0, {classes}) and is not the ignore index {ignoreIndex}.");
        }
    }

    // ---------------------------------------------------------------- building blocks

    /// <summary>The view belongs to <paramref name="backend"/>, is not disposed, and is not the null view.</summary>
    public static void Owned<T>(IComputeBackend backend, DeviceSpan<T> view, [CallerArgumentExpression(nameof(view))] string? name = null) where T : unmanaged
    {
        if (view.Buffer is null) throw new ArgumentException($"{name} is a null view.", name);
        if (!ReferenceEquals(view.Buffer.Owner, backend))
            throw new ArgumentException($"{name} belongs to a different backend instance ('{view.Buffer.Owner.Name}') than the one called ('{backend.Name}').", name);
        if (view.Buffer.IsDisposed) throw new ObjectDisposedException(name, $"{name} refers to a disposed buffer.");
    }

    static void NonNegative(int value, string name)
    {
        if (value < 0) throw new ArgumentOutOfRangeException(name, value, $"{name} = {value} must be >= 0.");
    }

    /// <summary>Owned and holding at least rows * cols elements of a (rows, cols) matrix; rows and cols are non-negative.</summary>
    static void Matrix<T>(IComputeBackend backend, DeviceSpan<T> view, int rows, int cols, string name) where T : unmanaged
    {
        Owned(backend, view, name);
        long need = (long)rows * cols;
        if (view.Length < need)
            throw new ArgumentException($"{name} has length {view.Length} but shape ({rows}, {cols}) needs {need} elements.", name);
    }

    /// <summary>Owned and holding at least length elements of a vector; length is non-negative.</summary>
    static void Vector<T>(IComputeBackend backend, DeviceSpan<T> view, int length, string name) where T : unmanaged
    {
        Owned(backend, view, name);
        if (view.Length < length)
            throw new ArgumentException($"{name} has length {view.Length} but shape ({length}) needs {length} elements.", name);
    }

    /// <summary>Owned and holding at least one element, for a scalar result.</summary>
    static void Scalar<T>(IComputeBackend backend, DeviceSpan<T> view, string name) where T : unmanaged
    {
        Owned(backend, view, name);
        if (view.Length < 1) throw new ArgumentException($"{name} has length 0; it must hold at least 1 element for the result.", name);
    }

    /// <summary>Both owned and of equal length; a mismatch is reported on <paramref name="view"/>.</summary>
    static void SameLength<TA, TB>(IComputeBackend backend, DeviceSpan<TA> reference, DeviceSpan<TB> view, string referenceName, string name)
        where TA : unmanaged where TB : unmanaged
    {
        Owned(backend, reference, referenceName);
        Owned(backend, view, name);
        if (view.Length != reference.Length)
            throw new ArgumentException($"{name} has length {view.Length} but {referenceName} has length {reference.Length}; they must be equal.", name);
    }

    /// <summary>colsA + colsB, after checking that rows, colsA and colsB are non-negative and the sum fits an int.</summary>
    static int JoinedColumns(int rows, int colsA, int colsB)
    {
        NonNegative(rows, nameof(rows)); NonNegative(colsA, nameof(colsA)); NonNegative(colsB, nameof(colsB));
        long cols = (long)colsA + colsB;
        if (cols > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(colsB), colsB, $"colsA + colsB = {cols} exceeds {int.MaxValue}.");
        return (int)cols;
    }

    static void KnownActivation(Activation f)
    {
        if (!Enum.IsDefined(f)) throw new ArgumentOutOfRangeException(nameof(f), f, $"f = {(int)f} is not a known activation.");
    }

    static void LogVarClamp(float minLogVar, float maxLogVar)
    {
        if (!(minLogVar <= maxLogVar)) throw new ArgumentException($"minLogVar = {minLogVar} must be <= maxLogVar = {maxLogVar}.", nameof(minLogVar));
    }

    /// <summary>perSample (rows) owned; total is the null view or owned with at least one element.</summary>
    static void LossOutputs(IComputeBackend backend, DeviceSpan<float> perSample, DeviceSpan<float> total, int rows)
    {
        Vector(backend, perSample, rows, nameof(perSample));
        if (!total.IsNull) Scalar(backend, total, nameof(total));
        if (!total.IsNull) Disjoint(total, 1, perSample, rows, nameof(total), nameof(perSample));
    }

    /// <summary>perSample (rows) and total (when not null) are disjoint from a loss input of <paramref name="count"/> elements.</summary>
    static void LossOutputsDisjoint<T>(DeviceSpan<float> perSample, DeviceSpan<float> total, int rows, DeviceSpan<T> input, int count, string name) where T : unmanaged
    {
        Disjoint(perSample, rows, input, count, nameof(perSample), name);
        if (!total.IsNull) Disjoint(total, 1, input, count, nameof(total), name);
    }

    /// <summary>A KlGaussianBackward gradient is identical to or disjoint from each of the four inputs.</summary>
    static void GradientOfFourInputs(DeviceSpan<float> gradient, int count, string name,
        DeviceSpan<float> muQ, DeviceSpan<float> logVarQ, DeviceSpan<float> muP, DeviceSpan<float> logVarP)
    {
        IdenticalOrDisjoint(gradient, muQ, count, name, nameof(muQ));
        IdenticalOrDisjoint(gradient, logVarQ, count, name, nameof(logVarQ));
        IdenticalOrDisjoint(gradient, muP, count, name, nameof(muP));
        IdenticalOrDisjoint(gradient, logVarP, count, name, nameof(logVarP));
    }

    /// <summary>
    /// The first countA elements of <paramref name="output"/> share no byte with the first countB elements of
    /// <paramref name="other"/> (views of any element types; the error names the output).
    /// </summary>
    static void Disjoint<TA, TB>(DeviceSpan<TA> output, int countA, DeviceSpan<TB> other, int countB, string outputName, string otherName)
        where TA : unmanaged where TB : unmanaged
    {
        if (Overlap(output, countA, other, countB))
            throw new ArgumentException($"{outputName} overlaps {otherName}: elements [{output.Offset}, {output.Offset + countA}) and " +
                $"[{other.Offset}, {other.Offset + countB}) of the same buffer; they must be disjoint.", outputName);
    }

    /// <summary>
    /// The first count elements of an output and of an input of the same shape are the same elements (in place) or share
    /// none; a partial overlap is rejected. The input may be the null view (an input the primitive does not read).
    /// </summary>
    static void IdenticalOrDisjoint(DeviceSpan<float> output, DeviceSpan<float> input, int count, string outputName, string inputName)
    {
        if (output.Offset == input.Offset && ReferenceEquals(output.Buffer, input.Buffer)) return;
        if (Overlap(output, count, input, count))
            throw new ArgumentException($"{outputName} partially overlaps {inputName}: elements [{output.Offset}, {output.Offset + count}) and " +
                $"[{input.Offset}, {input.Offset + count}) of the same buffer; they must be identical or disjoint.", outputName);
    }

    static bool Overlap<TA, TB>(DeviceSpan<TA> a, int countA, DeviceSpan<TB> b, int countB) where TA : unmanaged where TB : unmanaged
    {
        if (countA == 0 || countB == 0 || a.Buffer is null || !ReferenceEquals(a.Buffer, b.Buffer)) return false;
        long startA = a.Offset * Unsafe.SizeOf<TA>(), endA = startA + (long)countA * Unsafe.SizeOf<TA>();
        long startB = b.Offset * Unsafe.SizeOf<TB>(), endB = startB + (long)countB * Unsafe.SizeOf<TB>();
        return startA < endB && startB < endA;
    }
}
