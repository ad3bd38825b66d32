// TEMPORARY, never merged to main: the primitives not yet written, so the backend compiles while the kernel families
// are written in parallel. Each family branch deletes its own section from this file; the last merge deletes the file.
namespace Vae.Cuda;

public sealed partial class CudaBackend
{
    // ---- Elementwise (pending)
    public void BiasAdd(DeviceSpan<float> x, DeviceSpan<float> bias, int rows, int cols) => throw new NotImplementedException("BiasAdd");
    public void BiasGradient(DeviceSpan<float> dy, DeviceSpan<float> dBias, int rows, int cols) => throw new NotImplementedException("BiasGradient");
    public void Copy(DeviceSpan<float> source, DeviceSpan<float> destination) => throw new NotImplementedException("Copy");
    public void Fill(DeviceSpan<float> x, float value) => throw new NotImplementedException("Fill");
    public void Scale(DeviceSpan<float> x, float alpha) => throw new NotImplementedException("Scale");
    public void Axpy(float alpha, DeviceSpan<float> x, DeviceSpan<float> y) => throw new NotImplementedException("Axpy");
    public void Concat(DeviceSpan<float> a, DeviceSpan<float> b, DeviceSpan<float> output, int rows, int colsA, int colsB) => throw new NotImplementedException("Concat");
    public void Split(DeviceSpan<float> input, DeviceSpan<float> a, DeviceSpan<float> b, int rows, int colsA, int colsB) => throw new NotImplementedException("Split");
    public void Sum(DeviceSpan<float> x, DeviceSpan<float> result) => throw new NotImplementedException("Sum");
    public void ActivationForward(Activation f, DeviceSpan<float> x, DeviceSpan<float> y, float slope) => throw new NotImplementedException("ActivationForward");
    public void ActivationBackward(Activation f, DeviceSpan<float> x, DeviceSpan<float> y, DeviceSpan<float> dy, DeviceSpan<float> dx, float slope) => throw new NotImplementedException("ActivationBackward");
    // ---- end Elementwise

    // ---- Losses (pending)
    public void BceWithLogitsForward(DeviceSpan<float> logits, DeviceSpan<float> targets, DeviceSpan<float> perSample, DeviceSpan<float> total, int rows, int cols) => throw new NotImplementedException("BceWithLogitsForward");
    public void BceWithLogitsBackward(DeviceSpan<float> logits, DeviceSpan<float> targets, DeviceSpan<float> dLogits, int rows, int cols, float scale) => throw new NotImplementedException("BceWithLogitsBackward");
    public void MseForward(DeviceSpan<float> prediction, DeviceSpan<float> targets, DeviceSpan<float> perSample, DeviceSpan<float> total, int rows, int cols) => throw new NotImplementedException("MseForward");
    public void MseBackward(DeviceSpan<float> prediction, DeviceSpan<float> targets, DeviceSpan<float> dPrediction, int rows, int cols, float scale) => throw new NotImplementedException("MseBackward");
    public void GaussianNllForward(DeviceSpan<float> mean, DeviceSpan<float> logVar, DeviceSpan<float> targets, DeviceSpan<float> perSample, DeviceSpan<float> total, int rows, int cols) => throw new NotImplementedException("GaussianNllForward");
    public void GaussianNllBackward(DeviceSpan<float> mean, DeviceSpan<float> logVar, DeviceSpan<float> targets, DeviceSpan<float> dMean, DeviceSpan<float> dLogVar, int rows, int cols, float scale) => throw new NotImplementedException("GaussianNllBackward");
    public void CrossEntropyForward(DeviceSpan<float> logits, DeviceSpan<int> targets, DeviceSpan<float> perSample, DeviceSpan<float> total, int rows, int classes, int ignoreIndex) => throw new NotImplementedException("CrossEntropyForward");
    public void CrossEntropyBackward(DeviceSpan<float> logits, DeviceSpan<int> targets, DeviceSpan<float> dLogits, int rows, int classes, int ignoreIndex, float scale) => throw new NotImplementedException("CrossEntropyBackward");
    public void KlStandardNormalForward(DeviceSpan<float> mu, DeviceSpan<float> logVar, DeviceSpan<float> perSample, DeviceSpan<float> total, int rows, int cols) => throw new NotImplementedException("KlStandardNormalForward");
    public void KlStandardNormalBackward(DeviceSpan<float> mu, DeviceSpan<float> logVar, DeviceSpan<float> dMu, DeviceSpan<float> dLogVar, int rows, int cols, float scale) => throw new NotImplementedException("KlStandardNormalBackward");
    public void KlGaussianForward(DeviceSpan<float> muQ, DeviceSpan<float> logVarQ, DeviceSpan<float> muP, DeviceSpan<float> logVarP, DeviceSpan<float> perSample, DeviceSpan<float> total, int rows, int cols) => throw new NotImplementedException("KlGaussianForward");
    public void KlGaussianBackward(DeviceSpan<float> muQ, DeviceSpan<float> logVarQ, DeviceSpan<float> muP, DeviceSpan<float> logVarP, DeviceSpan<float> dMuQ, DeviceSpan<float> dLogVarQ, DeviceSpan<float> dMuP, DeviceSpan<float> dLogVarP, int rows, int cols, float scale) => throw new NotImplementedException("KlGaussianBackward");
    // ---- end Losses
}
