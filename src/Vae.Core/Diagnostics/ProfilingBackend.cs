// A decorator that times every primitive of another backend (synchronizing after each call) and accumulates the time
// per primitive, for `vae bench train --profile`. Generated from IComputeBackend's member list; allocation-free per call.
using System.Diagnostics;

namespace Vae.Diagnostics;

public sealed class ProfilingBackend(IComputeBackend inner) : IComputeBackend
{
    /// <summary>Names of the timed primitives, indexed like <see cref="Calls"/> and <see cref="Ticks"/>.</summary>
    public static readonly string[] Names = ["Gemm", "BiasAdd", "BiasGradient", "Copy", "Fill", "Scale", "Axpy", "Concat", "Split", "Sum", "ActivationForward", "ActivationBackward", "BceWithLogitsForward", "BceWithLogitsBackward", "MseForward", "MseBackward", "GaussianNllForward", "GaussianNllBackward", "CrossEntropyForward", "CrossEntropyBackward", "KlStandardNormalForward", "KlStandardNormalBackward", "KlGaussianForward", "KlGaussianBackward", "ReparameterizeForward", "ReparameterizeBackward", "RandomNormal", "GatherRows", "ScatterAddRows", "NearestCode", "AdamStep", "GlobalNorm", "ClipByNorm", "AllFinite", "KlFreeBitsBackward", "SoftmaxRows", "ScaleRows", "EmaCodebook", "LstmCellForward", "LstmCellBackward", "ArgMaxRows"];

    public long[] Calls { get; } = new long[Names.Length];
    public long[] Ticks { get; } = new long[Names.Length];
    public IComputeBackend Inner => inner;
    public string Name => inner.Name;

    public void Reset()
    {
        Array.Clear(Calls);
        Array.Clear(Ticks);
    }

    static long Start() => Stopwatch.GetTimestamp();

    void Stop(int id, long start)
    {
        inner.Synchronize();
        Ticks[id] += Stopwatch.GetTimestamp() - start;
        Calls[id]++;
    }

    public DeviceBuffer Allocate(long byteLength) => inner.Allocate(byteLength);
    public void Upload<T>(ReadOnlySpan<T> source, DeviceSpan<T> destination) where T : unmanaged => inner.Upload(source, destination);
    public void Download<T>(DeviceSpan<T> source, Span<T> destination) where T : unmanaged => inner.Download(source, destination);
    public void Synchronize() => inner.Synchronize();
    public void Dispose() => inner.Dispose();

    public void Gemm(bool transA, bool transB, int m, int n, int k, float alpha, DeviceSpan<float> a, DeviceSpan<float> b, float beta, DeviceSpan<float> c)
    {
        long t = Start();
        inner.Gemm(transA, transB, m, n, k, alpha, a, b, beta, c);
        Stop(0, t);
    }

    public void BiasAdd(DeviceSpan<float> x, DeviceSpan<float> bias, int rows, int cols)
    {
        long t = Start();
        inner.BiasAdd(x, bias, rows, cols);
        Stop(1, t);
    }

    public void BiasGradient(DeviceSpan<float> dy, DeviceSpan<float> dBias, int rows, int cols)
    {
        long t = Start();
        inner.BiasGradient(dy, dBias, rows, cols);
        Stop(2, t);
    }

    public void Copy(DeviceSpan<float> source, DeviceSpan<float> destination)
    {
        long t = Start();
        inner.Copy(source, destination);
        Stop(3, t);
    }

    public void Fill(DeviceSpan<float> x, float value)
    {
        long t = Start();
        inner.Fill(x, value);
        Stop(4, t);
    }

    public void Scale(DeviceSpan<float> x, float alpha)
    {
        long t = Start();
        inner.Scale(x, alpha);
        Stop(5, t);
    }

    public void Axpy(float alpha, DeviceSpan<float> x, DeviceSpan<float> y)
    {
        long t = Start();
        inner.Axpy(alpha, x, y);
        Stop(6, t);
    }

    public void Concat(DeviceSpan<float> a, DeviceSpan<float> b, DeviceSpan<float> output, int rows, int colsA, int colsB)
    {
        long t = Start();
        inner.Concat(a, b, output, rows, colsA, colsB);
        Stop(7, t);
    }

    public void Split(DeviceSpan<float> input, DeviceSpan<float> a, DeviceSpan<float> b, int rows, int colsA, int colsB)
    {
        long t = Start();
        inner.Split(input, a, b, rows, colsA, colsB);
        Stop(8, t);
    }

    public void Sum(DeviceSpan<float> x, DeviceSpan<float> result)
    {
        long t = Start();
        inner.Sum(x, result);
        Stop(9, t);
    }

    public void ActivationForward(Activation f, DeviceSpan<float> x, DeviceSpan<float> y, float slope = 0.01f)
    {
        long t = Start();
        inner.ActivationForward(f, x, y, slope);
        Stop(10, t);
    }

    public void ActivationBackward(Activation f, DeviceSpan<float> x, DeviceSpan<float> y, DeviceSpan<float> dy, DeviceSpan<float> dx, float slope = 0.01f)
    {
        long t = Start();
        inner.ActivationBackward(f, x, y, dy, dx, slope);
        Stop(11, t);
    }

    public void BceWithLogitsForward(DeviceSpan<float> logits, DeviceSpan<float> targets, DeviceSpan<float> perSample, DeviceSpan<float> total, int rows, int cols)
    {
        long t = Start();
        inner.BceWithLogitsForward(logits, targets, perSample, total, rows, cols);
        Stop(12, t);
    }

    public void BceWithLogitsBackward(DeviceSpan<float> logits, DeviceSpan<float> targets, DeviceSpan<float> dLogits, int rows, int cols, float scale)
    {
        long t = Start();
        inner.BceWithLogitsBackward(logits, targets, dLogits, rows, cols, scale);
        Stop(13, t);
    }

    public void MseForward(DeviceSpan<float> prediction, DeviceSpan<float> targets, DeviceSpan<float> perSample, DeviceSpan<float> total, int rows, int cols)
    {
        long t = Start();
        inner.MseForward(prediction, targets, perSample, total, rows, cols);
        Stop(14, t);
    }

    public void MseBackward(DeviceSpan<float> prediction, DeviceSpan<float> targets, DeviceSpan<float> dPrediction, int rows, int cols, float scale)
    {
        long t = Start();
        inner.MseBackward(prediction, targets, dPrediction, rows, cols, scale);
        Stop(15, t);
    }

    public void GaussianNllForward(DeviceSpan<float> mean, DeviceSpan<float> logVar, DeviceSpan<float> targets, DeviceSpan<float> perSample, DeviceSpan<float> total, int rows, int cols)
    {
        long t = Start();
        inner.GaussianNllForward(mean, logVar, targets, perSample, total, rows, cols);
        Stop(16, t);
    }

    public void GaussianNllBackward(DeviceSpan<float> mean, DeviceSpan<float> logVar, DeviceSpan<float> targets, DeviceSpan<float> dMean, DeviceSpan<float> dLogVar, int rows, int cols, float scale)
    {
        long t = Start();
        inner.GaussianNllBackward(mean, logVar, targets, dMean, dLogVar, rows, cols, scale);
        Stop(17, t);
    }

    public void CrossEntropyForward(DeviceSpan<float> logits, DeviceSpan<int> targets, DeviceSpan<float> perSample, DeviceSpan<float> total, int rows, int classes, int ignoreIndex)
    {
        long t = Start();
        inner.CrossEntropyForward(logits, targets, perSample, total, rows, classes, ignoreIndex);
        Stop(18, t);
    }

    public void CrossEntropyBackward(DeviceSpan<float> logits, DeviceSpan<int> targets, DeviceSpan<float> dLogits, int rows, int classes, int ignoreIndex, float scale)
    {
        long t = Start();
        inner.CrossEntropyBackward(logits, targets, dLogits, rows, classes, ignoreIndex, scale);
        Stop(19, t);
    }

    public void KlStandardNormalForward(DeviceSpan<float> mu, DeviceSpan<float> logVar, DeviceSpan<float> perSample, DeviceSpan<float> total, int rows, int cols)
    {
        long t = Start();
        inner.KlStandardNormalForward(mu, logVar, perSample, total, rows, cols);
        Stop(20, t);
    }

    public void KlStandardNormalBackward(DeviceSpan<float> mu, DeviceSpan<float> logVar, DeviceSpan<float> dMu, DeviceSpan<float> dLogVar, int rows, int cols, float scale)
    {
        long t = Start();
        inner.KlStandardNormalBackward(mu, logVar, dMu, dLogVar, rows, cols, scale);
        Stop(21, t);
    }

    public void KlFreeBitsBackward(DeviceSpan<float> mu, DeviceSpan<float> logVar, DeviceSpan<float> dMu, DeviceSpan<float> dLogVar, DeviceSpan<float> perDimension, int rows, int cols, float scale, float freeBits)
    {
        long t = Start();
        inner.KlFreeBitsBackward(mu, logVar, dMu, dLogVar, perDimension, rows, cols, scale, freeBits);
        Stop(34, t);
    }

    public void KlGaussianForward(DeviceSpan<float> muQ, DeviceSpan<float> logVarQ, DeviceSpan<float> muP, DeviceSpan<float> logVarP, DeviceSpan<float> perSample, DeviceSpan<float> total, int rows, int cols)
    {
        long t = Start();
        inner.KlGaussianForward(muQ, logVarQ, muP, logVarP, perSample, total, rows, cols);
        Stop(22, t);
    }

    public void KlGaussianBackward(DeviceSpan<float> muQ, DeviceSpan<float> logVarQ, DeviceSpan<float> muP, DeviceSpan<float> logVarP, DeviceSpan<float> dMuQ, DeviceSpan<float> dLogVarQ, DeviceSpan<float> dMuP, DeviceSpan<float> dLogVarP, int rows, int cols, float scale)
    {
        long t = Start();
        inner.KlGaussianBackward(muQ, logVarQ, muP, logVarP, dMuQ, dLogVarQ, dMuP, dLogVarP, rows, cols, scale);
        Stop(23, t);
    }

    public void ReparameterizeForward(DeviceSpan<float> mu, DeviceSpan<float> logVar, DeviceSpan<float> eps, DeviceSpan<float> z, float minLogVar, float maxLogVar)
    {
        long t = Start();
        inner.ReparameterizeForward(mu, logVar, eps, z, minLogVar, maxLogVar);
        Stop(24, t);
    }

    public void ReparameterizeBackward(DeviceSpan<float> logVar, DeviceSpan<float> eps, DeviceSpan<float> dz, DeviceSpan<float> dMu, DeviceSpan<float> dLogVar, float minLogVar, float maxLogVar)
    {
        long t = Start();
        inner.ReparameterizeBackward(logVar, eps, dz, dMu, dLogVar, minLogVar, maxLogVar);
        Stop(25, t);
    }

    public void RandomNormal(DeviceSpan<float> output, ulong seed, ulong offset)
    {
        long t = Start();
        inner.RandomNormal(output, seed, offset);
        Stop(26, t);
    }

    public void RandomNormal(DeviceSpan<float> output, ulong seed, DeviceSpan<ulong> offset)
    {
        long t = Start();
        inner.RandomNormal(output, seed, offset);
        Stop(26, t);
    }

    public void GatherRows(DeviceSpan<float> table, DeviceSpan<int> indices, DeviceSpan<float> output, int tableRows, int count, int cols)
    {
        long t = Start();
        inner.GatherRows(table, indices, output, tableRows, count, cols);
        Stop(27, t);
    }

    public void ScatterAddRows(DeviceSpan<float> dOutput, DeviceSpan<int> indices, DeviceSpan<float> dTable, int tableRows, int count, int cols)
    {
        long t = Start();
        inner.ScatterAddRows(dOutput, indices, dTable, tableRows, count, cols);
        Stop(28, t);
    }

    public void NearestCode(DeviceSpan<float> x, DeviceSpan<float> codebook, DeviceSpan<int> indices, DeviceSpan<float> distances, int rows, int codes, int cols)
    {
        long t = Start();
        inner.NearestCode(x, codebook, indices, distances, rows, codes, cols);
        Stop(29, t);
    }

    public void EmaCodebook(DeviceSpan<float> clusterSize, DeviceSpan<float> embedSum, DeviceSpan<float> codebook, int codes, int cols, float epsilon)
    {
        long t = Start();
        inner.EmaCodebook(clusterSize, embedSum, codebook, codes, cols, epsilon);
        Stop(EmaCodebookSlot, t);
    }

    public void AdamStep(DeviceSpan<float> parameters, DeviceSpan<float> gradients, DeviceSpan<float> m, DeviceSpan<float> v, AdamSettings settings, int step)
    {
        long t = Start();
        inner.AdamStep(parameters, gradients, m, v, settings, step);
        Stop(30, t);
    }

    public void AdamStep(DeviceSpan<float> parameters, DeviceSpan<float> gradients, DeviceSpan<float> m, DeviceSpan<float> v, AdamSettings settings, DeviceSpan<int> step)
    {
        long t = Start();
        inner.AdamStep(parameters, gradients, m, v, settings, step);
        Stop(30, t);
    }

    public void GlobalNorm(DeviceSpan<float> x, DeviceSpan<float> result)
    {
        long t = Start();
        inner.GlobalNorm(x, result);
        Stop(31, t);
    }

    public void ClipByNorm(DeviceSpan<float> x, DeviceSpan<float> norm, float maxNorm)
    {
        long t = Start();
        inner.ClipByNorm(x, norm, maxNorm);
        Stop(32, t);
    }

    public void AllFinite(DeviceSpan<float> x, DeviceSpan<int> result)
    {
        long t = Start();
        inner.AllFinite(x, result);
        Stop(33, t);
    }

    // Slots found by name, so that primitives appended by different changes cannot collide on an index.
    static readonly int SoftmaxRowsSlot = Array.IndexOf(Names, "SoftmaxRows"), ScaleRowsSlot = Array.IndexOf(Names, "ScaleRows"),
        EmaCodebookSlot = Array.IndexOf(Names, "EmaCodebook"), LstmCellForwardSlot = Array.IndexOf(Names, "LstmCellForward"),
        LstmCellBackwardSlot = Array.IndexOf(Names, "LstmCellBackward"), ArgMaxRowsSlot = Array.IndexOf(Names, "ArgMaxRows");

    public void SoftmaxRows(DeviceSpan<float> x, DeviceSpan<float> y, DeviceSpan<float> logSumExp, int rows, int cols)
    {
        long t = Start();
        inner.SoftmaxRows(x, y, logSumExp, rows, cols);
        Stop(SoftmaxRowsSlot, t);
    }

    public void ScaleRows(DeviceSpan<float> x, DeviceSpan<float> rowScale, DeviceSpan<float> y, int rows, int cols)
    {
        long t = Start();
        inner.ScaleRows(x, rowScale, y, rows, cols);
        Stop(ScaleRowsSlot, t);
    }

    public void ArgMaxRows(DeviceSpan<float> x, DeviceSpan<int> indices, int rows, int cols)
    {
        long t = Start();
        inner.ArgMaxRows(x, indices, rows, cols);
        Stop(ArgMaxRowsSlot, t);
    }

    public void LstmCellForward(DeviceSpan<float> gates, DeviceSpan<float> cPrev, DeviceSpan<float> hPrev, DeviceSpan<int> lengths,
        DeviceSpan<float> activated, DeviceSpan<float> c, DeviceSpan<float> h, DeviceSpan<float> y, int rows, int hidden, int yStride, int step)
    {
        long t = Start();
        inner.LstmCellForward(gates, cPrev, hPrev, lengths, activated, c, h, y, rows, hidden, yStride, step);
        Stop(LstmCellForwardSlot, t);
    }

    public void LstmCellBackward(DeviceSpan<float> activated, DeviceSpan<float> cPrev, DeviceSpan<float> c, DeviceSpan<int> lengths,
        DeviceSpan<float> dy, DeviceSpan<float> dhNext, DeviceSpan<float> dcNext, DeviceSpan<float> dGates, DeviceSpan<float> dhPrev, DeviceSpan<float> dcPrev,
        int rows, int hidden, int dyStride, int step)
    {
        long t = Start();
        inner.LstmCellBackward(activated, cPrev, c, lengths, dy, dhNext, dcNext, dGates, dhPrev, dcPrev, rows, hidden, dyStride, step);
        Stop(LstmCellBackwardSlot, t);
    }
}
