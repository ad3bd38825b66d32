// TEMPORARY, never merged to main: the primitives not yet written, so the backend compiles while the kernel families
// are written in parallel. Each family branch deletes its own section from this file; the last merge deletes the file.
namespace Vae.Cuda;

public sealed partial class CudaBackend
{
    // ---- Sampling/Indexing/Optimizer (pending)
    public void ReparameterizeForward(DeviceSpan<float> mu, DeviceSpan<float> logVar, DeviceSpan<float> eps, DeviceSpan<float> z, float minLogVar, float maxLogVar) => throw new NotImplementedException("ReparameterizeForward");
    public void ReparameterizeBackward(DeviceSpan<float> logVar, DeviceSpan<float> eps, DeviceSpan<float> dz, DeviceSpan<float> dMu, DeviceSpan<float> dLogVar, float minLogVar, float maxLogVar) => throw new NotImplementedException("ReparameterizeBackward");
    public void RandomNormal(DeviceSpan<float> output, ulong seed, ulong offset) => throw new NotImplementedException("RandomNormal");
    public void GatherRows(DeviceSpan<float> table, DeviceSpan<int> indices, DeviceSpan<float> output, int tableRows, int count, int cols) => throw new NotImplementedException("GatherRows");
    public void ScatterAddRows(DeviceSpan<float> dOutput, DeviceSpan<int> indices, DeviceSpan<float> dTable, int tableRows, int count, int cols) => throw new NotImplementedException("ScatterAddRows");
    public void NearestCode(DeviceSpan<float> x, DeviceSpan<float> codebook, DeviceSpan<int> indices, DeviceSpan<float> distances, int rows, int codes, int cols) => throw new NotImplementedException("NearestCode");
    public void AdamStep(DeviceSpan<float> parameters, DeviceSpan<float> gradients, DeviceSpan<float> m, DeviceSpan<float> v, AdamSettings settings, int step) => throw new NotImplementedException("AdamStep");
    public void GlobalNorm(DeviceSpan<float> x, DeviceSpan<float> result) => throw new NotImplementedException("GlobalNorm");
    public void ClipByNorm(DeviceSpan<float> x, DeviceSpan<float> norm, float maxNorm) => throw new NotImplementedException("ClipByNorm");
    public void AllFinite(DeviceSpan<float> x, DeviceSpan<int> result) => throw new NotImplementedException("AllFinite");
    // ---- end Sampling/Indexing/Optimizer
}
