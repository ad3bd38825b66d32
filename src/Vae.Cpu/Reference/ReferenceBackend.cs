// The test oracle: every primitive written as plain scalar loops, accumulating in double, to be obviously correct.
// Slow on purpose. The formulas live in ReferenceMath (double in, double out) so finite-difference tests can check
// the analytic gradients in double precision; this class only converts float buffers to and from double.
// Each method validates its arguments (BackendChecks, plus host-side index checks) before anything is written,
// copies its inputs to double arrays, calls ReferenceMath and rounds each result to float once.
using Vae.Random;

namespace Vae.Cpu;

public sealed partial class ReferenceBackend : HostBackend, IComputeBackend
{
    public override string Name => "reference";

    // ---------------------------------------------------------------- linear algebra

    public void Gemm(bool transA, bool transB, int m, int n, int k, float alpha, DeviceSpan<float> a, DeviceSpan<float> b, float beta, DeviceSpan<float> c)
    {
        BackendChecks.Gemm(this, transA, transB, m, n, k, a, b, c);
        var cValues = Load(c, m * n);
        ReferenceMath.Gemm(transA, transB, m, n, k, alpha, Load(a, m * k), Load(b, k * n), beta, cValues);
        Store(cValues, c);
    }

    public void BiasAdd(DeviceSpan<float> x, DeviceSpan<float> bias, int rows, int cols)
    {
        BackendChecks.Matrix(this, x, rows, cols);
        BackendChecks.Matrix(this, bias, 1, cols);
        BackendChecks.NoOverlap(x.Slice(0, rows * cols), bias.Slice(0, cols));
        var xValues = Load(x, rows * cols);
        ReferenceMath.BiasAdd(xValues, Load(bias, cols), rows, cols);
        Store(xValues, x);
    }

    public void BiasGradient(DeviceSpan<float> dy, DeviceSpan<float> dBias, int rows, int cols)
    {
        BackendChecks.Matrix(this, dy, rows, cols);
        BackendChecks.Matrix(this, dBias, 1, cols);
        BackendChecks.NoOverlap(dy.Slice(0, rows * cols), dBias.Slice(0, cols));
        var dBiasValues = Load(dBias, cols);
        ReferenceMath.BiasGradient(Load(dy, rows * cols), dBiasValues, rows, cols);
        Store(dBiasValues, dBias);
    }

    // ---------------------------------------------------------------- elementwise

    public void Copy(DeviceSpan<float> source, DeviceSpan<float> destination)
    {
        BackendChecks.SameLength(this, source, destination);
        BackendChecks.IdenticalOrDisjoint(source, destination);
        Store(Load(source, source.Length), destination);
    }

    public void Fill(DeviceSpan<float> x, float value)
    {
        BackendChecks.Owned(this, x);
        Span(x).Fill(value);
    }

    public void Scale(DeviceSpan<float> x, float alpha)
    {
        BackendChecks.Owned(this, x);
        var values = Load(x, x.Length);
        ReferenceMath.Scale(values, alpha);
        Store(values, x);
    }

    public void Axpy(float alpha, DeviceSpan<float> x, DeviceSpan<float> y)
    {
        BackendChecks.SameLength(this, x, y);
        BackendChecks.IdenticalOrDisjoint(x, y);
        var yValues = Load(y, y.Length);
        ReferenceMath.Axpy(alpha, Load(x, x.Length), yValues);
        Store(yValues, y);
    }

    public void Concat(DeviceSpan<float> a, DeviceSpan<float> b, DeviceSpan<float> output, int rows, int colsA, int colsB)
    {
        CheckConcat(a, b, output, rows, colsA, colsB);
        var outputValues = new double[rows * (colsA + colsB)];
        ReferenceMath.Concat(Load(a, rows * colsA), Load(b, rows * colsB), outputValues, rows, colsA, colsB);
        Store(outputValues, output);
    }

    public void Split(DeviceSpan<float> input, DeviceSpan<float> a, DeviceSpan<float> b, int rows, int colsA, int colsB)
    {
        CheckConcat(a, b, input, rows, colsA, colsB);
        var aValues = new double[rows * colsA];
        var bValues = new double[rows * colsB];
        ReferenceMath.Split(Load(input, rows * (colsA + colsB)), aValues, bValues, rows, colsA, colsB);
        Store(aValues, a);
        Store(bValues, b);
    }

    /// <summary>Concat and Split: a (rows, colsA), b (rows, colsB), joined (rows, colsA + colsB), the three disjoint.</summary>
    void CheckConcat(DeviceSpan<float> a, DeviceSpan<float> b, DeviceSpan<float> joined, int rows, int colsA, int colsB)
    {
        BackendChecks.NonNegative(rows); BackendChecks.NonNegative(colsA); BackendChecks.NonNegative(colsB);
        BackendChecks.Matrix(this, a, rows, colsA);
        BackendChecks.Matrix(this, b, rows, colsB);
        BackendChecks.Matrix(this, joined, rows, colsA + colsB);
        var aUsed = a.Slice(0, rows * colsA);
        var bUsed = b.Slice(0, rows * colsB);
        var joinedUsed = joined.Slice(0, rows * (colsA + colsB));
        BackendChecks.NoOverlap(joinedUsed, aUsed);
        BackendChecks.NoOverlap(joinedUsed, bUsed);
        BackendChecks.NoOverlap(aUsed, bUsed);
    }

    public void Sum(DeviceSpan<float> x, DeviceSpan<float> result)
    {
        BackendChecks.Owned(this, x);
        BackendChecks.Scalar(this, result);
        BackendChecks.NoOverlap(x, result.Slice(0, 1));
        StoreScalar(ReferenceMath.Sum(Load(x, x.Length)), result);
    }

    // ---------------------------------------------------------------- activations

    public void ActivationForward(Activation f, DeviceSpan<float> x, DeviceSpan<float> y, float slope = 0.01f)
    {
        BackendChecks.Activation(f);
        BackendChecks.SameLength(this, x, y);
        BackendChecks.IdenticalOrDisjoint(x, y);
        var yValues = new double[y.Length];
        ReferenceMath.ActivationForward(f, Load(x, x.Length), yValues, slope);
        Store(yValues, y);
    }

    public void ActivationBackward(Activation f, DeviceSpan<float> x, DeviceSpan<float> y, DeviceSpan<float> dy, DeviceSpan<float> dx, float slope = 0.01f)
    {
        BackendChecks.Activation(f);
        BackendChecks.SameLength(this, x, y);
        BackendChecks.SameLength(this, x, dy);
        BackendChecks.SameLength(this, x, dx);
        BackendChecks.IdenticalOrDisjoint(dy, dx);
        BackendChecks.IdenticalOrDisjoint(x, dx);
        BackendChecks.IdenticalOrDisjoint(y, dx);
        int length = x.Length;
        var dxValues = new double[length];
        ReferenceMath.ActivationBackward(f, Load(x, length), Load(y, length), Load(dy, length), dxValues, slope);
        Store(dxValues, dx);
    }

    // ---------------------------------------------------------------- losses

    public void BceWithLogitsForward(DeviceSpan<float> logits, DeviceSpan<float> targets, DeviceSpan<float> perSample, DeviceSpan<float> total, int rows, int cols)
    {
        CheckLossForward(perSample, total, rows, cols, logits, targets);
        var perSampleValues = new double[rows];
        double sum = ReferenceMath.BceWithLogitsForward(Load(logits, rows * cols), Load(targets, rows * cols), perSampleValues, rows, cols);
        StoreLoss(perSampleValues, sum, perSample, total);
    }

    public void BceWithLogitsBackward(DeviceSpan<float> logits, DeviceSpan<float> targets, DeviceSpan<float> dLogits, int rows, int cols, float scale)
    {
        CheckElementwiseBackward(rows, cols, dLogits, logits, targets);
        var dLogitsValues = new double[rows * cols];
        ReferenceMath.BceWithLogitsBackward(Load(logits, rows * cols), Load(targets, rows * cols), dLogitsValues, rows, cols, scale);
        Store(dLogitsValues, dLogits);
    }

    public void MseForward(DeviceSpan<float> prediction, DeviceSpan<float> targets, DeviceSpan<float> perSample, DeviceSpan<float> total, int rows, int cols)
    {
        CheckLossForward(perSample, total, rows, cols, prediction, targets);
        var perSampleValues = new double[rows];
        double sum = ReferenceMath.MseForward(Load(prediction, rows * cols), Load(targets, rows * cols), perSampleValues, rows, cols);
        StoreLoss(perSampleValues, sum, perSample, total);
    }

    public void MseBackward(DeviceSpan<float> prediction, DeviceSpan<float> targets, DeviceSpan<float> dPrediction, int rows, int cols, float scale)
    {
        CheckElementwiseBackward(rows, cols, dPrediction, prediction, targets);
        var dPredictionValues = new double[rows * cols];
        ReferenceMath.MseBackward(Load(prediction, rows * cols), Load(targets, rows * cols), dPredictionValues, rows, cols, scale);
        Store(dPredictionValues, dPrediction);
    }

    public void GaussianNllForward(DeviceSpan<float> mean, DeviceSpan<float> logVar, DeviceSpan<float> targets, DeviceSpan<float> perSample, DeviceSpan<float> total, int rows, int cols)
    {
        CheckLossForward(perSample, total, rows, cols, mean, logVar, targets);
        int length = rows * cols;
        var perSampleValues = new double[rows];
        double sum = ReferenceMath.GaussianNllForward(Load(mean, length), Load(logVar, length), Load(targets, length), perSampleValues, rows, cols);
        StoreLoss(perSampleValues, sum, perSample, total);
    }

    public void GaussianNllBackward(DeviceSpan<float> mean, DeviceSpan<float> logVar, DeviceSpan<float> targets, DeviceSpan<float> dMean, DeviceSpan<float> dLogVar, int rows, int cols, float scale)
    {
        CheckElementwiseBackward(rows, cols, dMean, mean, logVar, targets);
        CheckElementwiseBackward(rows, cols, dLogVar, mean, logVar, targets);
        BackendChecks.NoOverlap(dMean.Slice(0, rows * cols), dLogVar.Slice(0, rows * cols));
        int length = rows * cols;
        var dMeanValues = new double[length];
        var dLogVarValues = new double[length];
        ReferenceMath.GaussianNllBackward(Load(mean, length), Load(logVar, length), Load(targets, length), dMeanValues, dLogVarValues, rows, cols, scale);
        Store(dMeanValues, dMean);
        Store(dLogVarValues, dLogVar);
    }

    public void CrossEntropyForward(DeviceSpan<float> logits, DeviceSpan<int> targets, DeviceSpan<float> perSample, DeviceSpan<float> total, int rows, int classes, int ignoreIndex)
    {
        CheckLossForward(perSample, total, rows, classes, logits);
        var targetValues = LoadTargets(targets, rows, classes, ignoreIndex);
        var perSampleValues = new double[rows];
        double sum = ReferenceMath.CrossEntropyForward(Load(logits, rows * classes), targetValues, perSampleValues, rows, classes, ignoreIndex);
        StoreLoss(perSampleValues, sum, perSample, total);
    }

    public void CrossEntropyBackward(DeviceSpan<float> logits, DeviceSpan<int> targets, DeviceSpan<float> dLogits, int rows, int classes, int ignoreIndex, float scale)
    {
        CheckElementwiseBackward(rows, classes, dLogits, logits);
        var targetValues = LoadTargets(targets, rows, classes, ignoreIndex);
        var dLogitsValues = new double[rows * classes];
        ReferenceMath.CrossEntropyBackward(Load(logits, rows * classes), targetValues, dLogitsValues, rows, classes, ignoreIndex, scale);
        Store(dLogitsValues, dLogits);
    }

    /// <summary>targets (rows) as an array, each a class in [0, classes) or ignoreIndex, checked on the host.</summary>
    int[] LoadTargets(DeviceSpan<int> targets, int rows, int classes, int ignoreIndex)
    {
        BackendChecks.Matrix(this, targets, rows, 1);
        var values = Span(targets, rows).ToArray();
        for (int r = 0; r < rows; r++) BackendChecks.CrossEntropyTarget(values[r], r, classes, ignoreIndex);
        return values;
    }

    public void KlStandardNormalForward(DeviceSpan<float> mu, DeviceSpan<float> logVar, DeviceSpan<float> perSample, DeviceSpan<float> total, int rows, int cols)
    {
        CheckLossForward(perSample, total, rows, cols, mu, logVar);
        var perSampleValues = new double[rows];
        double sum = ReferenceMath.KlStandardNormalForward(Load(mu, rows * cols), Load(logVar, rows * cols), perSampleValues, rows, cols);
        StoreLoss(perSampleValues, sum, perSample, total);
    }

    public void KlStandardNormalBackward(DeviceSpan<float> mu, DeviceSpan<float> logVar, DeviceSpan<float> dMu, DeviceSpan<float> dLogVar, int rows, int cols, float scale)
    {
        CheckElementwiseBackward(rows, cols, dMu, mu, logVar);
        CheckElementwiseBackward(rows, cols, dLogVar, mu, logVar);
        BackendChecks.NoOverlap(dMu.Slice(0, rows * cols), dLogVar.Slice(0, rows * cols));
        int length = rows * cols;
        var dMuValues = Load(dMu, length);
        var dLogVarValues = Load(dLogVar, length);
        ReferenceMath.KlStandardNormalBackward(Load(mu, length), Load(logVar, length), dMuValues, dLogVarValues, rows, cols, scale);
        Store(dMuValues, dMu);
        Store(dLogVarValues, dLogVar);
    }

    public void KlGaussianForward(DeviceSpan<float> muQ, DeviceSpan<float> logVarQ, DeviceSpan<float> muP, DeviceSpan<float> logVarP, DeviceSpan<float> perSample, DeviceSpan<float> total, int rows, int cols)
    {
        CheckLossForward(perSample, total, rows, cols, muQ, logVarQ, muP, logVarP);
        int length = rows * cols;
        var perSampleValues = new double[rows];
        double sum = ReferenceMath.KlGaussianForward(Load(muQ, length), Load(logVarQ, length), Load(muP, length), Load(logVarP, length), perSampleValues, rows, cols);
        StoreLoss(perSampleValues, sum, perSample, total);
    }

    public void KlGaussianBackward(DeviceSpan<float> muQ, DeviceSpan<float> logVarQ, DeviceSpan<float> muP, DeviceSpan<float> logVarP,
        DeviceSpan<float> dMuQ, DeviceSpan<float> dLogVarQ, DeviceSpan<float> dMuP, DeviceSpan<float> dLogVarP, int rows, int cols, float scale)
    {
        CheckElementwiseBackward(rows, cols, dMuQ, muQ, logVarQ, muP, logVarP);
        CheckElementwiseBackward(rows, cols, dLogVarQ, muQ, logVarQ, muP, logVarP);
        CheckElementwiseBackward(rows, cols, dMuP, muQ, logVarQ, muP, logVarP);
        CheckElementwiseBackward(rows, cols, dLogVarP, muQ, logVarQ, muP, logVarP);
        int length = rows * cols;
        CheckDisjointOutputs(length, dMuQ, dLogVarQ, dMuP, dLogVarP);
        var dMuQValues = Load(dMuQ, length);
        var dLogVarQValues = Load(dLogVarQ, length);
        var dMuPValues = Load(dMuP, length);
        var dLogVarPValues = Load(dLogVarP, length);
        ReferenceMath.KlGaussianBackward(Load(muQ, length), Load(logVarQ, length), Load(muP, length), Load(logVarP, length),
            dMuQValues, dLogVarQValues, dMuPValues, dLogVarPValues, rows, cols, scale);
        Store(dMuQValues, dMuQ);
        Store(dLogVarQValues, dLogVarQ);
        Store(dMuPValues, dMuP);
        Store(dLogVarPValues, dLogVarP);
    }

    /// <summary>
    /// Row-wise loss forward: every input (rows, cols); perSample (rows) and the optional total disjoint from each other
    /// and from the inputs.
    /// </summary>
    void CheckLossForward(DeviceSpan<float> perSample, DeviceSpan<float> total, int rows, int cols, params ReadOnlySpan<DeviceSpan<float>> inputs)
    {
        BackendChecks.LossForward(this, perSample, total, rows, cols);
        foreach (var input in inputs)
        {
            BackendChecks.Matrix(this, input, rows, cols);
            var inputUsed = input.Slice(0, rows * cols);
            BackendChecks.NoOverlap(perSample.Slice(0, rows), inputUsed);
            if (!total.IsNull) BackendChecks.NoOverlap(total.Slice(0, 1), inputUsed);
        }
    }

    /// <summary>Elementwise backward: output and every input (rows, cols); the output identical to or disjoint from each input.</summary>
    void CheckElementwiseBackward(int rows, int cols, DeviceSpan<float> output, params ReadOnlySpan<DeviceSpan<float>> inputs)
    {
        BackendChecks.NonNegative(rows); BackendChecks.NonNegative(cols);
        BackendChecks.Matrix(this, output, rows, cols);
        var outputUsed = output.Slice(0, rows * cols);
        foreach (var input in inputs)
        {
            BackendChecks.Matrix(this, input, rows, cols);
            BackendChecks.IdenticalOrDisjoint(outputUsed, input.Slice(0, rows * cols));
        }
    }

    /// <summary>The first <paramref name="length"/> elements of the outputs are pairwise disjoint.</summary>
    static void CheckDisjointOutputs(int length, params ReadOnlySpan<DeviceSpan<float>> outputs)
    {
        for (int i = 0; i < outputs.Length; i++)
            for (int j = i + 1; j < outputs.Length; j++)
                BackendChecks.NoOverlap(outputs[i].Slice(0, length), outputs[j].Slice(0, length));
    }

    // ---------------------------------------------------------------- reparameterization and randomness

    public void ReparameterizeForward(DeviceSpan<float> mu, DeviceSpan<float> logVar, DeviceSpan<float> eps, DeviceSpan<float> z, float minLogVar, float maxLogVar)
    {
        BackendChecks.LogVarClamp(minLogVar, maxLogVar);
        BackendChecks.SameLength(this, mu, z);
        BackendChecks.SameLength(this, logVar, z);
        BackendChecks.SameLength(this, eps, z);
        BackendChecks.IdenticalOrDisjoint(z, mu);
        BackendChecks.IdenticalOrDisjoint(z, logVar);
        BackendChecks.IdenticalOrDisjoint(z, eps);
        int length = z.Length;
        var zValues = new double[length];
        ReferenceMath.ReparameterizeForward(Load(mu, length), Load(logVar, length), Load(eps, length), zValues, minLogVar, maxLogVar);
        Store(zValues, z);
    }

    public void ReparameterizeBackward(DeviceSpan<float> logVar, DeviceSpan<float> eps, DeviceSpan<float> dz, DeviceSpan<float> dMu, DeviceSpan<float> dLogVar, float minLogVar, float maxLogVar)
    {
        BackendChecks.LogVarClamp(minLogVar, maxLogVar);
        BackendChecks.SameLength(this, logVar, dz);
        BackendChecks.SameLength(this, eps, dz);
        BackendChecks.SameLength(this, dMu, dz);
        BackendChecks.SameLength(this, dLogVar, dz);
        BackendChecks.NoOverlap(dMu, dLogVar);
        BackendChecks.IdenticalOrDisjoint(dMu, logVar); BackendChecks.IdenticalOrDisjoint(dMu, eps); BackendChecks.IdenticalOrDisjoint(dMu, dz);
        BackendChecks.IdenticalOrDisjoint(dLogVar, logVar); BackendChecks.IdenticalOrDisjoint(dLogVar, eps); BackendChecks.IdenticalOrDisjoint(dLogVar, dz);
        int length = dz.Length;
        var dMuValues = new double[length];
        var dLogVarValues = new double[length];
        ReferenceMath.ReparameterizeBackward(Load(logVar, length), Load(eps, length), Load(dz, length), dMuValues, dLogVarValues, minLogVar, maxLogVar);
        Store(dMuValues, dMu);
        Store(dLogVarValues, dLogVar);
    }

    public void RandomNormal(DeviceSpan<float> output, ulong seed, ulong offset)
    {
        BackendChecks.Owned(this, output);
        var values = Span(output);
        for (int i = 0; i < values.Length; i++) values[i] = PhiloxNormal.Sample(seed, offset + (ulong)i);
    }

    // ---------------------------------------------------------------- indexing

    public void GatherRows(DeviceSpan<float> table, DeviceSpan<int> indices, DeviceSpan<float> output, int tableRows, int count, int cols)
    {
        BackendChecks.Indexing(this, indices, table, output, tableRows, count, cols);
        var indexValues = LoadIndices(indices, count, tableRows);
        var outputValues = new double[count * cols];
        ReferenceMath.GatherRows(Load(table, tableRows * cols), indexValues, outputValues, count, cols);
        Store(outputValues, output);
    }

    public void ScatterAddRows(DeviceSpan<float> dOutput, DeviceSpan<int> indices, DeviceSpan<float> dTable, int tableRows, int count, int cols)
    {
        BackendChecks.Indexing(this, indices, dTable, dOutput, tableRows, count, cols);
        var indexValues = LoadIndices(indices, count, tableRows);
        var dTableValues = Load(dTable, tableRows * cols);
        ReferenceMath.ScatterAddRows(Load(dOutput, count * cols), indexValues, dTableValues, count, cols);
        Store(dTableValues, dTable);
    }

    /// <summary>indices (count) as an array, each checked to be in [0, tableRows) on the host.</summary>
    int[] LoadIndices(DeviceSpan<int> indices, int count, int tableRows)
    {
        var values = Span(indices, count).ToArray();
        for (int i = 0; i < count; i++) BackendChecks.IndexInRange(values[i], i, tableRows, nameof(indices));
        return values;
    }

    public void NearestCode(DeviceSpan<float> x, DeviceSpan<float> codebook, DeviceSpan<int> indices, DeviceSpan<float> distances, int rows, int codes, int cols)
    {
        BackendChecks.NonNegative(rows); BackendChecks.NonNegative(codes); BackendChecks.NonNegative(cols);
        BackendChecks.Matrix(this, x, rows, cols);
        BackendChecks.Matrix(this, codebook, codes, cols);
        BackendChecks.Matrix(this, indices, rows, 1);
        BackendChecks.Matrix(this, distances, rows, 1);
        var distancesUsed = distances.Slice(0, rows);
        BackendChecks.NoOverlap(distancesUsed, x.Slice(0, rows * cols));
        BackendChecks.NoOverlap(distancesUsed, codebook.Slice(0, codes * cols));
        if (rows > 0 && codes == 0)
            throw new ArgumentException($"codebook has shape (0, {cols}); NearestCode needs at least one code for {rows} rows.", nameof(codes));
        var indexValues = new int[rows];
        var distanceValues = new double[rows];
        ReferenceMath.NearestCode(Load(x, rows * cols), Load(codebook, codes * cols), indexValues, distanceValues, rows, codes, cols);
        indexValues.CopyTo(Span(indices, rows));
        Store(distanceValues, distances);
    }

    // ---------------------------------------------------------------- optimizer

    public void AdamStep(DeviceSpan<float> parameters, DeviceSpan<float> gradients, DeviceSpan<float> m, DeviceSpan<float> v, AdamSettings settings, int step)
    {
        BackendChecks.Adam(this, parameters, gradients, m, v, settings, step);
        int length = parameters.Length;
        var parameterValues = Load(parameters, length);
        var mValues = Load(m, length);
        var vValues = Load(v, length);
        ReferenceMath.AdamStep(parameterValues, Load(gradients, length), mValues, vValues, settings, step);
        Store(parameterValues, parameters);
        Store(mValues, m);
        Store(vValues, v);
    }

    public void GlobalNorm(DeviceSpan<float> x, DeviceSpan<float> result)
    {
        BackendChecks.Owned(this, x);
        BackendChecks.Scalar(this, result);
        BackendChecks.NoOverlap(x, result.Slice(0, 1));
        StoreScalar(ReferenceMath.GlobalNorm(Load(x, x.Length)), result);
    }

    public void ClipByNorm(DeviceSpan<float> x, DeviceSpan<float> norm, float maxNorm)
    {
        BackendChecks.Owned(this, x);
        BackendChecks.Scalar(this, norm);
        BackendChecks.NoOverlap(x, norm.Slice(0, 1));
        var values = Load(x, x.Length);
        ReferenceMath.ClipByNorm(values, Span(norm)[0], maxNorm);
        Store(values, x);
    }

    public void AllFinite(DeviceSpan<float> x, DeviceSpan<int> result)
    {
        BackendChecks.Owned(this, x);
        BackendChecks.Scalar(this, result);
        Span(result)[0] = ReferenceMath.AllFinite(Load(x, x.Length)) ? 1 : 0;
    }

    // ---------------------------------------------------------------- float <-> double

    /// <summary>The first <paramref name="length"/> elements of a validated view, widened to double.</summary>
    static double[] Load(DeviceSpan<float> view, int length)
    {
        var source = Span(view, length);
        var values = new double[length];
        for (int i = 0; i < length; i++) values[i] = source[i];
        return values;
    }

    /// <summary>Writes values, each rounded to float once, to the first values.Length elements of a validated view.</summary>
    static void Store(ReadOnlySpan<double> values, DeviceSpan<float> view)
    {
        var destination = Span(view, values.Length);
        for (int i = 0; i < values.Length; i++) destination[i] = (float)values[i];
    }

    static void StoreScalar(double value, DeviceSpan<float> view) => Span(view)[0] = (float)value;

    static void StoreLoss(ReadOnlySpan<double> perSampleValues, double total, DeviceSpan<float> perSample, DeviceSpan<float> totalView)
    {
        Store(perSampleValues, perSample);
        if (!totalView.IsNull) StoreScalar(total, totalView);
    }
}
