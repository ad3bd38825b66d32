// The CUDA binding layer without a GPU: library resolution (explicit directories first, then the loader's path), the
// one error path (status names and the failing call in the message), and the "CUDA unavailable" report when there
// is no driver or device. On a machine with a GPU the availability tests check the other branch instead.
using Vae.Cuda;
using Vae.Cuda.Device;
using Vae.Cuda.Native;
using Xunit;

namespace Vae.Tests.Cuda;

public sealed class CudaBindingTests
{
    [Fact]
    public void A_driver_failure_names_the_call_the_status_and_its_code()
    {
        var e = Assert.Throws<CudaException>(() => CudaErrors.Check(CudaDriverApi.InvalidPtx, "CudaDriverApi.cuModuleLoadDataEx(&module, image, 0, null, null)"));
        Assert.Equal("cuModuleLoadDataEx", e.Call);
        Assert.Equal(218, e.Status);
        Assert.Equal("CUDA_ERROR_INVALID_PTX", e.StatusName);
        Assert.StartsWith("cuModuleLoadDataEx failed: CUDA_ERROR_INVALID_PTX (218): ", e.Message);
    }

    [Fact]
    public void Success_does_not_throw_and_a_cublas_failure_is_named()
    {
        CudaErrors.Check(0);
        CudaErrors.CheckCublas(0);
        var e = Assert.Throws<CudaException>(() => CudaErrors.CheckCublas(7, "CublasApi.cublasSgemm(handle, 0, 0, m, n, k)"));
        Assert.Equal("cublasSgemm", e.Call);
        Assert.Equal("CUBLAS_STATUS_INVALID_VALUE", e.StatusName);
    }

    [Fact]
    public void The_resolver_tries_the_explicit_directory_before_the_loader_path()
    {
        // libz is on every Debian machine; found through the directory, the first attempt is the full path.
        string? dir = new[] { "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64" }
            .FirstOrDefault(d => File.Exists(Path.Combine(d, "libz.so.1")));
        Assert.True(dir is not null, "no libz.so.1 in the usual library folders of this machine");
        var handle = CudaLibraries.Load(["libnot-a-cuda-library.so.42", "libz.so.1"], dir!, out string tried);
        Assert.NotEqual(IntPtr.Zero, handle);
        Assert.Equal($"{dir}/libnot-a-cuda-library.so.42, libnot-a-cuda-library.so.42, {dir}/libz.so.1", tried);
    }

    [Fact]
    public void A_missing_library_is_reported_with_every_name_tried()
    {
        var handle = CudaLibraries.Load(["libnot-a-cuda-library.so.42"], "/nonexistent-folder", out string tried);
        Assert.Equal(IntPtr.Zero, handle);
        Assert.Equal("/nonexistent-folder/libnot-a-cuda-library.so.42, libnot-a-cuda-library.so.42", tried);
    }

    [Fact]
    public void Without_a_device_opening_cuda_says_why()
    {
        int count = CudaDriverDevice.DeviceCount(out string? reason);
        if (count > 0)
        {
            Assert.Null(reason);
            using var backend = CudaBackend.Open();
            Assert.Equal("cuda", backend.Name);
            return;
        }
        Assert.False(string.IsNullOrWhiteSpace(reason));
        var e = Assert.Throws<CudaUnavailableException>(() => CudaBackend.Open());
        Assert.StartsWith("CUDA unavailable: ", e.Message);
        Assert.Equal(reason, e.Reason);
    }
}
