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
        BackendChecks.BiasAdd(this, x, bias, rows, cols);
        var xValues = Load(x, rows * cols);
        ReferenceMath.BiasAdd(xValues, Load(bias, cols), rows, cols);
        Store(xValues, x);
    }

    public void BiasGradient(DeviceSpan<float> dy, DeviceSpan<float> dBias, int rows, int cols)
    {
        BackendChecks.BiasGradient(this, dy, dBias, rows, cols);
        var dBiasValues = Load(dBias, cols);
        ReferenceMath.BiasGradient(Load(dy, rows * cols), dBiasValues, rows, cols);
        Store(dBiasValues, dBias);
    }

    // ---------------------------------------------------------------- elementwise

    public void Copy(DeviceSpan<float> source, DeviceSpan<float> destination)
    {
        BackendChecks.Copy(this, source, destination);
        Store(Load(source, source.Length), destination);
    }

    public void Fill(DeviceSpan<float> x, float value)
    {
        BackendChecks.Fill(this, x, value);
        Span(x).Fill(value);
    }

    public void Scale(DeviceSpan<float> x, float alpha)
    {
        BackendChecks.Scale(this, x, alpha);
        var values = Load(x, x.Length);
        ReferenceMath.Scale(values, alpha);
        Store(values, x);
    }

    public void Axpy(float alpha, DeviceSpan<float> x, DeviceSpan<float> y)
    {
        BackendChecks.Axpy(this, alpha, x, y);
        var yValues = Load(y, y.Length);
        ReferenceMath.Axpy(alpha, Load(x, x.Length), yValues);
        Store(yValues, y);
    }

    public void Concat(DeviceSpan<float> a, DeviceSpan<float> b, DeviceSpan<float> output, int rows, int colsA, int colsB)
    {
        BackendChecks.Concat(this, a, b, output, rows, colsA, colsB);
        var outputValues = new double[rows * (colsA + colsB)];
        ReferenceMath.Concat(Load(a, rows * colsA), Load(b, rows * colsB), outputValues, rows, colsA, colsB);
        Store(outputValues, output);
    }

    public void Split(DeviceSpan<float> input, DeviceSpan<float> a, DeviceSpan<float> b, int rows, int colsA, int colsB)
    {
        BackendChecks.Split(this, input, a, b, rows, colsA, colsB);
        var aValues = new double[rows * colsA];
        var bValues = new double[rows * colsB];
        ReferenceMath.Split(Load(input, rows * (colsA + colsB)), aValues, bValues, rows, colsA, colsB);
        Store(aValues, a);
        Store(bValues, b);
    }

    public void Sum(DeviceSpan<float> x, DeviceSpan<float> result)
    {
        BackendChecks.Sum(this, x, result);
        StoreScalar(ReferenceMath.Sum(Load(x, x.Length)), result);
    }

    // ---------------------------------------------------------------- activations

    public void ActivationForward(Activation f, DeviceSpan<float> x, DeviceSpan<float> y, float slope = 0.01f)
    {
        BackendChecks.ActivationForward(this, f, x, y, slope);
        var yValues = new double[y.Length];
        ReferenceMath.ActivationForward(f, Load(x, x.Length), yValues, slope);
        Store(yValues, y);
    }

    public void ActivationBackward(Activation f, DeviceSpan<float> x, DeviceSpan<float> y, DeviceSpan<float> dy, DeviceSpan<float> dx, float slope = 0.01f)
    {
        BackendChecks.ActivationBackward(this, f, x, y, dy, dx, slope);
        // Only the input f reads is loaded (the other may be the null view); ReferenceMath never indexes the empty one.
        int length = dy.Length;
        bool readsOutput = BackendChecks.ActivationBackwardReadsOutput(f);
        double[] xValues = readsOutput ? [] : Load(x, length);
        double[] yValues = readsOutput ? Load(y, length) : [];
        var dxValues = new double[length];
        ReferenceMath.ActivationBackward(f, xValues, yValues, Load(dy, length), dxValues, slope);
        Store(dxValues, dx);
    }

    // ---------------------------------------------------------------- losses

    public void BceWithLogitsForward(DeviceSpan<float> logits, DeviceSpan<float> targets, DeviceSpan<float> perSample, DeviceSpan<float> total, int rows, int cols)
    {
        BackendChecks.BceWithLogitsForward(this, logits, targets, perSample, total, rows, cols);
        var perSampleValues = new double[rows];
        double sum = ReferenceMath.BceWithLogitsForward(Load(logits, rows * cols), Load(targets, rows * cols), perSampleValues, rows, cols);
        StoreLoss(perSampleValues, sum, perSample, total);
    }

    public void BceWithLogitsBackward(DeviceSpan<float> logits, DeviceSpan<float> targets, DeviceSpan<float> dLogits, int rows, int cols, float scale)
    {
        BackendChecks.BceWithLogitsBackward(this, logits, targets, dLogits, rows, cols, scale);
        var dLogitsValues = new double[rows * cols];
        ReferenceMath.BceWithLogitsBackward(Load(logits, rows * cols), Load(targets, rows * cols), dLogitsValues, rows, cols, scale);
        Store(dLogitsValues, dLogits);
    }

    public void MseForward(DeviceSpan<float> prediction, DeviceSpan<float> targets, DeviceSpan<float> perSample, DeviceSpan<float> total, int rows, int cols)
    {
        BackendChecks.MseForward(this, prediction, targets, perSample, total, rows, cols);
        var perSampleValues = new double[rows];
        double sum = ReferenceMath.MseForward(Load(prediction, rows * cols), Load(targets, rows * cols), perSampleValues, rows, cols);
        StoreLoss(perSampleValues, sum, perSample, total);
    }

    public void MseBackward(DeviceSpan<float> prediction, DeviceSpan<float> targets, DeviceSpan<float> dPrediction, int rows, int cols, float scale)
    {
        BackendChecks.MseBackward(this, prediction, targets, dPrediction, rows, cols, scale);
        var dPredictionValues = new double[rows * cols];
        ReferenceMath.MseBackward(Load(prediction, rows * cols), Load(targets, rows * cols), dPredictionValues, rows, cols, scale);
        Store(dPredictionValues, dPrediction);
    }

    public void GaussianNllForward(DeviceSpan<float> mean, DeviceSpan<float> logVar, DeviceSpan<float> targets, DeviceSpan<float> perSample, DeviceSpan<float> total, int rows, int cols)
    {
        BackendChecks.GaussianNllForward(this, mean, logVar, targets, perSample, total, rows, cols);
        int length = rows * cols;
        var perSampleValues = new double[rows];
        double sum = ReferenceMath.GaussianNllForward(Load(mean, length), Load(logVar, length), Load(targets, length), perSampleValues, rows, cols);
        StoreLoss(perSampleValues, sum, perSample, total);
    }

    public void GaussianNllBackward(DeviceSpan<float> mean, DeviceSpan<float> logVar, DeviceSpan<float> targets, DeviceSpan<float> dMean, DeviceSpan<float> dLogVar, int rows, int cols, float scale)
    {
        BackendChecks.GaussianNllBackward(this, mean, logVar, targets, dMean, dLogVar, rows, cols, scale);
        int length = rows * cols;
        var dMeanValues = new double[length];
        var dLogVarValues = new double[length];
        ReferenceMath.GaussianNllBackward(Load(mean, length), Load(logVar, length), Load(targets, length), dMeanValues, dLogVarValues, rows, cols, scale);
        Store(dMeanValues, dMean);
        Store(dLogVarValues, dLogVar);
    }

    public void CrossEntropyForward(DeviceSpan<float> logits, DeviceSpan<int> targets, DeviceSpan<float> perSample, DeviceSpan<float> total, int rows, int classes, int ignoreIndex)
    {
        BackendChecks.CrossEntropyForward(this, logits, targets, perSample, total, rows, classes, ignoreIndex);
        var targetValues = LoadTargets(targets, rows, classes, ignoreIndex);
        var perSampleValues = new double[rows];
        double sum = ReferenceMath.CrossEntropyForward(Load(logits, rows * classes), targetValues, perSampleValues, rows, classes, ignoreIndex);
        StoreLoss(perSampleValues, sum, perSample, total);
    }

    public void CrossEntropyBackward(DeviceSpan<float> logits, DeviceSpan<int> targets, DeviceSpan<float> dLogits, int rows, int classes, int ignoreIndex, float scale)
    {
        BackendChecks.CrossEntropyBackward(this, logits, targets, dLogits, rows, classes, ignoreIndex, scale);
        var targetValues = LoadTargets(targets, rows, classes, ignoreIndex);
        var dLogitsValues = new double[rows * classes];
        ReferenceMath.CrossEntropyBackward(Load(logits, rows * classes), targetValues, dLogitsValues, rows, classes, ignoreIndex, scale);
        Store(dLogitsValues, dLogits);
    }

    /// <summary>targets (rows) of a validated view as an array, each checked on the host to be a class in [0, classes) or ignoreIndex.</summary>
    static int[] LoadTargets(DeviceSpan<int> targets, int rows, int classes, int ignoreIndex)
    {
        var values = Span(targets, rows).ToArray();
        BackendChecks.CrossEntropyTarget(values, classes, ignoreIndex);
        return values;
    }

    public void KlStandardNormalForward(DeviceSpan<float> mu, DeviceSpan<float> logVar, DeviceSpan<float> perSample, DeviceSpan<float> total, int rows, int cols)
    {
        BackendChecks.KlStandardNormalForward(this, mu, logVar, perSample, total, rows, cols);
        var perSampleValues = new double[rows];
        double sum = ReferenceMath.KlStandardNormalForward(Load(mu, rows * cols), Load(logVar, rows * cols), perSampleValues, rows, cols);
        StoreLoss(perSampleValues, sum, perSample, total);
    }

    public void KlStandardNormalBackward(DeviceSpan<float> mu, DeviceSpan<float> logVar, DeviceSpan<float> dMu, DeviceSpan<float> dLogVar, int rows, int cols, float scale)
    {
        BackendChecks.KlStandardNormalBackward(this, mu, logVar, dMu, dLogVar, rows, cols, scale);
        int length = rows * cols;
        var dMuValues = Load(dMu, length);
        var dLogVarValues = Load(dLogVar, length);
        ReferenceMath.KlStandardNormalBackward(Load(mu, length), Load(logVar, length), dMuValues, dLogVarValues, rows, cols, scale);
        Store(dMuValues, dMu);
        Store(dLogVarValues, dLogVar);
    }

    public void KlFreeBitsBackward(DeviceSpan<float> mu, DeviceSpan<float> logVar, DeviceSpan<float> dMu, DeviceSpan<float> dLogVar,
        DeviceSpan<float> perDimension, int rows, int cols, float scale, float freeBits)
    {
        BackendChecks.KlFreeBitsBackward(this, mu, logVar, dMu, dLogVar, perDimension, rows, cols, scale, freeBits);
        int length = rows * cols;
        var muValues = Load(mu, length);
        var logVarValues = Load(logVar, length);
        var perDimensionValues = new double[cols];
        ReferenceMath.KlPerDimension(muValues, logVarValues, perDimensionValues, rows, cols);
        // The mask compares the stored (float) means, as the interface says.
        for (int c = 0; c < cols; c++) perDimensionValues[c] = (float)perDimensionValues[c];
        var dMuValues = Load(dMu, length);
        var dLogVarValues = Load(dLogVar, length);
        ReferenceMath.KlFreeBitsBackward(muValues, logVarValues, dMuValues, dLogVarValues, perDimensionValues, rows, cols, scale, freeBits);
        Store(perDimensionValues, perDimension);
        Store(dMuValues, dMu);
        Store(dLogVarValues, dLogVar);
    }

    public void KlGaussianForward(DeviceSpan<float> muQ, DeviceSpan<float> logVarQ, DeviceSpan<float> muP, DeviceSpan<float> logVarP, DeviceSpan<float> perSample, DeviceSpan<float> total, int rows, int cols)
    {
        BackendChecks.KlGaussianForward(this, muQ, logVarQ, muP, logVarP, perSample, total, rows, cols);
        int length = rows * cols;
        var perSampleValues = new double[rows];
        double sum = ReferenceMath.KlGaussianForward(Load(muQ, length), Load(logVarQ, length), Load(muP, length), Load(logVarP, length), perSampleValues, rows, cols);
        StoreLoss(perSampleValues, sum, perSample, total);
    }

    public void KlGaussianBackward(DeviceSpan<float> muQ, DeviceSpan<float> logVarQ, DeviceSpan<float> muP, DeviceSpan<float> logVarP,
        DeviceSpan<float> dMuQ, DeviceSpan<float> dLogVarQ, DeviceSpan<float> dMuP, DeviceSpan<float> dLogVarP, int rows, int cols, float scale)
    {
        BackendChecks.KlGaussianBackward(this, muQ, logVarQ, muP, logVarP, dMuQ, dLogVarQ, dMuP, dLogVarP, rows, cols, scale);
        int length = rows * cols;
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

    // ---------------------------------------------------------------- reparameterization and randomness

    public void ReparameterizeForward(DeviceSpan<float> mu, DeviceSpan<float> logVar, DeviceSpan<float> eps, DeviceSpan<float> z, float minLogVar, float maxLogVar)
    {
        BackendChecks.ReparameterizeForward(this, mu, logVar, eps, z, minLogVar, maxLogVar);
        int length = z.Length;
        var zValues = new double[length];
        ReferenceMath.ReparameterizeForward(Load(mu, length), Load(logVar, length), Load(eps, length), zValues, minLogVar, maxLogVar);
        Store(zValues, z);
    }

    public void ReparameterizeBackward(DeviceSpan<float> logVar, DeviceSpan<float> eps, DeviceSpan<float> dz, DeviceSpan<float> dMu, DeviceSpan<float> dLogVar, float minLogVar, float maxLogVar)
    {
        BackendChecks.ReparameterizeBackward(this, logVar, eps, dz, dMu, dLogVar, minLogVar, maxLogVar);
        int length = dz.Length;
        var dMuValues = new double[length];
        var dLogVarValues = new double[length];
        ReferenceMath.ReparameterizeBackward(Load(logVar, length), Load(eps, length), Load(dz, length), dMuValues, dLogVarValues, minLogVar, maxLogVar);
        Store(dMuValues, dMu);
        Store(dLogVarValues, dLogVar);
    }

    public void RandomNormal(DeviceSpan<float> output, ulong seed, ulong offset)
    {
        BackendChecks.RandomNormal(this, output, seed, offset);
        var values = Span(output);
        for (int i = 0; i < values.Length; i++) values[i] = PhiloxNormal.Sample(seed, offset + (ulong)i);
    }

    // ---------------------------------------------------------------- indexing

    public void GatherRows(DeviceSpan<float> table, DeviceSpan<int> indices, DeviceSpan<float> output, int tableRows, int count, int cols)
    {
        BackendChecks.GatherRows(this, table, indices, output, tableRows, count, cols);
        var indexValues = LoadIndices(indices, count, tableRows);
        var outputValues = new double[count * cols];
        ReferenceMath.GatherRows(Load(table, tableRows * cols), indexValues, outputValues, count, cols);
        Store(outputValues, output);
    }

    public void ScatterAddRows(DeviceSpan<float> dOutput, DeviceSpan<int> indices, DeviceSpan<float> dTable, int tableRows, int count, int cols)
    {
        BackendChecks.ScatterAddRows(this, dOutput, indices, dTable, tableRows, count, cols);
        var indexValues = LoadIndices(indices, count, tableRows);
        var dTableValues = Load(dTable, tableRows * cols);
        ReferenceMath.ScatterAddRows(Load(dOutput, count * cols), indexValues, dTableValues, count, cols);
        Store(dTableValues, dTable);
    }

    /// <summary>indices (count) of a validated view as an array, each checked on the host to be in [0, tableRows).</summary>
    static int[] LoadIndices(DeviceSpan<int> indices, int count, int tableRows)
    {
        var values = Span(indices, count).ToArray();
        BackendChecks.IndexInRange(values, tableRows);
        return values;
    }

    public void NearestCode(DeviceSpan<float> x, DeviceSpan<float> codebook, DeviceSpan<int> indices, DeviceSpan<float> distances, int rows, int codes, int cols)
    {
        BackendChecks.NearestCode(this, x, codebook, indices, distances, rows, codes, cols);
        var indexValues = new int[rows];
        var distanceValues = new double[rows];
        ReferenceMath.NearestCode(Load(x, rows * cols), Load(codebook, codes * cols), indexValues, distanceValues, rows, codes, cols);
        indexValues.CopyTo(Span(indices, rows));
        Store(distanceValues, distances);
    }

    public void EmaCodebook(DeviceSpan<float> clusterSize, DeviceSpan<float> embedSum, DeviceSpan<float> codebook, int codes, int cols, float epsilon)
    {
        BackendChecks.EmaCodebook(this, clusterSize, embedSum, codebook, codes, cols, epsilon);
        var codebookValues = new double[codes * cols];
        ReferenceMath.EmaCodebook(Load(clusterSize, codes), Load(embedSum, codes * cols), codebookValues, codes, cols, epsilon);
        Store(codebookValues, codebook);
    }

    // ---------------------------------------------------------------- optimizer

    public void AdamStep(DeviceSpan<float> parameters, DeviceSpan<float> gradients, DeviceSpan<float> m, DeviceSpan<float> v, AdamSettings settings, int step)
    {
        BackendChecks.AdamStep(this, parameters, gradients, m, v, settings, step);
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
        BackendChecks.GlobalNorm(this, x, result);
        StoreScalar(ReferenceMath.GlobalNorm(Load(x, x.Length)), result);
    }

    public void ClipByNorm(DeviceSpan<float> x, DeviceSpan<float> norm, float maxNorm)
    {
        BackendChecks.ClipByNorm(this, x, norm, maxNorm);
        var values = Load(x, x.Length);
        ReferenceMath.ClipByNorm(values, Span(norm)[0], maxNorm);
        Store(values, x);
    }

    public void AllFinite(DeviceSpan<float> x, DeviceSpan<int> result)
    {
        BackendChecks.AllFinite(this, x, result);
        Span(result)[0] = ReferenceMath.AllFinite(Load(x, x.Length)) ? 1 : 0;
    }

    // ---------------------------------------------------------------- per-row operations

    public void SoftmaxRows(DeviceSpan<float> x, DeviceSpan<float> y, DeviceSpan<float> logSumExp, int rows, int cols)
    {
        BackendChecks.SoftmaxRows(this, x, y, logSumExp, rows, cols);
        var yValues = new double[rows * cols];
        var logSumExpValues = logSumExp.IsNull ? [] : new double[rows];
        ReferenceMath.SoftmaxRows(Load(x, rows * cols), yValues, logSumExpValues, rows, cols);
        Store(yValues, y);
        if (!logSumExp.IsNull) Store(logSumExpValues, logSumExp);
    }

    public void ScaleRows(DeviceSpan<float> x, DeviceSpan<float> rowScale, DeviceSpan<float> y, int rows, int cols)
    {
        BackendChecks.ScaleRows(this, x, rowScale, y, rows, cols);
        var yValues = new double[rows * cols];
        ReferenceMath.ScaleRows(Load(x, rows * cols), Load(rowScale, rows), yValues, rows, cols);
        Store(yValues, y);
    }

    public void ArgMaxRows(DeviceSpan<float> x, DeviceSpan<int> indices, int rows, int cols)
    {
        BackendChecks.ArgMaxRows(this, x, indices, rows, cols);
        var indexValues = new int[rows];
        ReferenceMath.ArgMaxRows(Load(x, rows * cols), indexValues, rows, cols);
        indexValues.CopyTo(Span(indices, rows));
    }

    // ---------------------------------------------------------------- recurrent

    public void LstmCellForward(DeviceSpan<float> gates, DeviceSpan<float> cPrev, DeviceSpan<float> hPrev, DeviceSpan<int> lengths,
        DeviceSpan<float> activated, DeviceSpan<float> c, DeviceSpan<float> h, DeviceSpan<float> y, int rows, int hidden, int yStride, int step)
    {
        BackendChecks.LstmCellForward(this, gates, cPrev, hPrev, lengths, activated, c, h, y, rows, hidden, yStride, step);
        int n = rows * hidden;
        var activatedValues = new double[4 * n];
        var cValues = new double[n];
        var hValues = new double[n];
        var yValues = new double[n];
        ReferenceMath.LstmCellForward(Load(gates, 4 * n), Load(cPrev, n), Load(hPrev, n), TakesStep(lengths, rows, step),
            activatedValues, cValues, hValues, yValues, rows, hidden);
        Store(activatedValues, activated);
        Store(cValues, c);
        Store(hValues, h);
        if (!y.IsNull) StoreRows(yValues, y, rows, hidden, yStride);
    }

    public void LstmCellBackward(DeviceSpan<float> activated, DeviceSpan<float> cPrev, DeviceSpan<float> c, DeviceSpan<int> lengths,
        DeviceSpan<float> dy, DeviceSpan<float> dhNext, DeviceSpan<float> dcNext, DeviceSpan<float> dGates, DeviceSpan<float> dhPrev, DeviceSpan<float> dcPrev,
        int rows, int hidden, int dyStride, int step)
    {
        BackendChecks.LstmCellBackward(this, activated, cPrev, c, lengths, dy, dhNext, dcNext, dGates, dhPrev, dcPrev, rows, hidden, dyStride, step);
        int n = rows * hidden;
        var dyValues = dy.IsNull ? new double[n] : LoadRows(dy, rows, hidden, dyStride);
        var dGatesValues = new double[4 * n];
        var dhPrevValues = new double[n];
        var dcPrevValues = new double[n];
        ReferenceMath.LstmCellBackward(Load(activated, 4 * n), Load(cPrev, n), Load(c, n), TakesStep(lengths, rows, step),
            dyValues, Load(dhNext, n), Load(dcNext, n), dGatesValues, dhPrevValues, dcPrevValues, rows, hidden);
        Store(dGatesValues, dGates);
        Store(dhPrevValues, dhPrev);
        Store(dcPrevValues, dcPrev);
    }

    /// <summary>The LSTM mask: row r takes the step when lengths is the null view or step &lt; lengths[r].</summary>
    static bool[] TakesStep(DeviceSpan<int> lengths, int rows, int step)
    {
        var takes = new bool[rows];
        var values = lengths.IsNull ? default : Span(lengths, rows);
        for (int r = 0; r < rows; r++) takes[r] = lengths.IsNull || step < values[r];
        return takes;
    }

    /// <summary>rows of cols elements, stride apart in a validated view, as a dense (rows, cols) double array.</summary>
    static double[] LoadRows(DeviceSpan<float> view, int rows, int cols, int stride)
    {
        var values = new double[rows * cols];
        if (rows == 0) return values;
        var source = Span(view, (rows - 1) * stride + cols);
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < cols; j++) values[r * cols + j] = source[r * stride + j];
        return values;
    }

    /// <summary>Writes dense (rows, cols) values, each rounded to float once, to rows stride apart in a validated view; the gaps are not touched.</summary>
    static void StoreRows(ReadOnlySpan<double> values, DeviceSpan<float> view, int rows, int cols, int stride)
    {
        if (rows == 0) return;
        var destination = Span(view, (rows - 1) * stride + cols);
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < cols; j++) destination[r * stride + j] = (float)values[r * cols + j];
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
