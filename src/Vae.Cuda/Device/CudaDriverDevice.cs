// The real device: one GPU through the CUDA driver API (primary context, one stream) and cuBLAS for SGEMM.
// Every native call goes through CudaErrors.Check; the context is made current on the calling thread before use.
using System.Runtime.InteropServices;
using System.Text;
using Vae.Cuda.Native;

namespace Vae.Cuda.Device;

public sealed unsafe class CudaDriverDevice : ICudaDevice
{
    readonly int _device;
    nint _context, _stream, _cublas;
    CudaContextHandle? _contextHandle;
    CudaStreamHandle? _streamHandle;
    CublasHandle? _cublasHandle;
    CudaMemoryHandle? _workspaceHandle;
    readonly List<CudaModuleHandle> _modules = [];
    ulong _cublasWorkspace;
    bool _capturing;

    /// <summary>cuBLAS's own workspace, set before any capture so cuBLAS never allocates inside one.</summary>
    const long CublasWorkspaceBytes = 32L << 20;
    bool _disposed;

    public string Kind => "cuda";
    public string Name { get; }
    public int ComputeCapabilityMajor { get; }
    public int ComputeCapabilityMinor { get; }
    public long TotalMemoryBytes { get; }
    public int MultiprocessorCount { get; }
    public int DriverVersion { get; }
    public int CublasVersion { get; }
    public nint Stream => _stream;

    CudaDriverDevice(int ordinal)
    {
        int device;
        CudaErrors.Check(CudaDriverApi.cuDeviceGet(&device, ordinal));
        _device = device;
        var name = stackalloc byte[256];
        CudaErrors.Check(CudaDriverApi.cuDeviceGetName(name, 256, _device));
        Name = Marshal.PtrToStringUTF8((nint)name) ?? "unknown GPU";
        ComputeCapabilityMajor = Attribute(CudaDriverApi.AttrComputeCapabilityMajor);
        ComputeCapabilityMinor = Attribute(CudaDriverApi.AttrComputeCapabilityMinor);
        MultiprocessorCount = Attribute(CudaDriverApi.AttrMultiprocessorCount);
        nuint total;
        CudaErrors.Check(CudaDriverApi.cuDeviceTotalMem(&total, _device));
        TotalMemoryBytes = (long)total;
        int version;
        CudaErrors.Check(CudaDriverApi.cuDriverGetVersion(&version));
        DriverVersion = version;
        nint ctx;
        CudaErrors.Check(CudaDriverApi.cuDevicePrimaryCtxRetain(&ctx, _device));
        _context = ctx;
        _contextHandle = new CudaContextHandle(ctx, _device);
        MakeCurrent();
        nint stream;
        CudaErrors.Check(CudaDriverApi.cuStreamCreate(&stream, 1 /* CU_STREAM_NON_BLOCKING */));
        _stream = stream;
        _streamHandle = new CudaStreamHandle(stream);
        nint handle;
        try
        {
            CudaErrors.CheckCublas(CublasApi.cublasCreate(&handle));
        }
        catch (DllNotFoundException e)
        {
            Dispose();
            throw new CudaUnavailableException(
                $"cuBLAS not found ({string.Join(", ", CudaLibraries.CublasCandidates)}): {e.Message}. Install the CUDA runtime libraries or set VAE_CUDA_LIB_DIR to the folder holding libcublas.so.N");
        }
        _cublas = handle;
        _cublasHandle = new CublasHandle(handle);
        CudaErrors.CheckCublas(CublasApi.cublasSetStream(_cublas, _stream));
        CudaErrors.CheckCublas(CublasApi.cublasSetMathMode(_cublas, CublasApi.MathPedantic));
        ulong workspace;
        CudaErrors.Check(CudaDriverApi.cuMemAlloc(&workspace, (nuint)CublasWorkspaceBytes));
        _cublasWorkspace = workspace;
        _workspaceHandle = new CudaMemoryHandle(workspace);
        CudaErrors.CheckCublas(CublasApi.cublasSetWorkspace(_cublas, (void*)_cublasWorkspace, (nuint)CublasWorkspaceBytes));
        int cublasVersion;
        CudaErrors.CheckCublas(CublasApi.cublasGetVersion(_cublas, &cublasVersion));
        CublasVersion = cublasVersion;
    }

    int Attribute(int attribute)
    {
        int v;
        CudaErrors.Check(CudaDriverApi.cuDeviceGetAttribute(&v, attribute, _device));
        return v;
    }

    /// <summary>Opens GPU <paramref name="ordinal"/>, or throws <see cref="CudaUnavailableException"/> saying why it cannot.</summary>
    public static CudaDriverDevice Open(int ordinal = 0)
    {
        int count = DeviceCount(out string? reason);
        if (count == 0) throw new CudaUnavailableException(reason ?? "no CUDA device");
        if (ordinal < 0 || ordinal >= count) throw new CudaUnavailableException($"device {ordinal} requested but this machine has {count} CUDA device(s)");
        return new CudaDriverDevice(ordinal);
    }

    /// <summary>Number of CUDA devices, or 0 with the reason (no driver, no device, driver error).</summary>
    public static int DeviceCount(out string? reason)
    {
        CudaLibraries.Register();
        try
        {
            int init = CudaDriverApi.cuInit(0);
            if (init == CudaDriverApi.NoDevice) { reason = "the CUDA driver is installed but reports no device (CUDA_ERROR_NO_DEVICE)"; return 0; }
            if (init != 0) { reason = $"cuInit failed: {CudaErrors.DriverName(init)} ({init})"; return 0; }
            int count;
            int r = CudaDriverApi.cuDeviceGetCount(&count);
            if (r != 0) { reason = $"cuDeviceGetCount failed: {CudaErrors.DriverName(r)}"; return 0; }
            reason = count == 0 ? "no CUDA device" : null;
            return count;
        }
        catch (DllNotFoundException)
        {
            reason = $"no NVIDIA driver on this machine (none of {string.Join(", ", CudaLibraries.DriverCandidates)} could be loaded)";
            return 0;
        }
        catch (EntryPointNotFoundException e)
        {
            reason = $"the NVIDIA driver library lacks an entry point Vae needs ({e.Message}); update the driver";
            return 0;
        }
    }

    void MakeCurrent()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        CudaErrors.Check(CudaDriverApi.cuCtxSetCurrent(_context));
    }

    public nint LoadModule(string ptx, string name)
    {
        MakeCurrent();
        var image = Encoding.UTF8.GetBytes(ptx + "\0");
        const int logSize = 16384;
        var errorLog = new byte[logSize];
        fixed (byte* img = image)
        fixed (byte* log = errorLog)
        {
            int* options = stackalloc int[] { CudaDriverApi.JitErrorLogBuffer, CudaDriverApi.JitErrorLogBufferSizeBytes };
            nint* values = stackalloc nint[] { (nint)log, logSize };
            nint module;
            int r = CudaDriverApi.cuModuleLoadDataEx(&module, img, 2, options, values);
            if (r != 0)
            {
                string text = Encoding.UTF8.GetString(errorLog, 0, Math.Max(0, Array.IndexOf(errorLog, (byte)0))).Trim();
                throw CudaErrors.Driver(r, $"cuModuleLoadDataEx({name})", text.Length > 0 ? "JIT log:\n" + text : null);
            }
            _modules.Add(new CudaModuleHandle(module));
            return module;
        }
    }

    public nint GetFunction(nint module, string kernelName)
    {
        MakeCurrent();
        var bytes = Encoding.UTF8.GetBytes(kernelName + "\0");
        fixed (byte* p = bytes)
        {
            nint f;
            int r = CudaDriverApi.cuModuleGetFunction(&f, module, p);
            if (r != 0) throw CudaErrors.Driver(r, $"cuModuleGetFunction({kernelName})");
            return f;
        }
    }

    public ulong Allocate(long bytes)
    {
        MakeCurrent();
        if (_capturing) throw new InvalidOperationException("an allocation inside a graph capture: allocate before capturing (run the step once first)");
        ulong p;
        CudaErrors.Check(CudaDriverApi.cuMemAlloc(&p, (nuint)Math.Max(bytes, 4)));
        return p;
    }

    public void Free(ulong pointer)
    {
        if (_disposed || pointer == 0) return;
        CudaDriverApi.cuCtxSetCurrent(_context);
        CudaDriverApi.cuMemFree(pointer); // never throws: called from Dispose paths
    }

    public void CopyToDevice(ulong destination, ReadOnlySpan<byte> source)
    {
        if (source.IsEmpty) return;
        MakeCurrent();
        if (_capturing) throw new InvalidOperationException("a host-to-device copy inside a graph capture: upload before capturing");
        fixed (byte* s = source)
        {
            CudaErrors.Check(CudaDriverApi.cuMemcpyHtoDAsync(destination, s, (nuint)source.Length, _stream));
            // The host span may be freed as soon as we return: wait for the copy.
            CudaErrors.Check(CudaDriverApi.cuStreamSynchronize(_stream));
        }
    }

    public void CopyToHost(ulong source, Span<byte> destination)
    {
        if (destination.IsEmpty) return;
        MakeCurrent();
        if (_capturing) throw new InvalidOperationException("a device-to-host copy inside a graph capture: download after replaying");
        fixed (byte* d = destination)
        {
            CudaErrors.Check(CudaDriverApi.cuMemcpyDtoHAsync(d, source, (nuint)destination.Length, _stream));
            CudaErrors.Check(CudaDriverApi.cuStreamSynchronize(_stream));
        }
    }

    public void CopyDeviceToDevice(ulong destination, ulong source, long bytes)
    {
        if (bytes == 0) return;
        MakeCurrent();
        CudaErrors.Check(CudaDriverApi.cuMemcpyDtoDAsync(destination, source, (nuint)bytes, _stream));
    }

    public void Memset32(ulong destination, uint value, long count)
    {
        if (count == 0) return;
        MakeCurrent();
        CudaErrors.Check(CudaDriverApi.cuMemsetD32Async(destination, value, (nuint)count, _stream));
    }

    public void Launch(nint function, LaunchDims grid, LaunchDims block, int sharedBytes, void** kernelParams, int parameterCount)
    {
        MakeCurrent();
        CudaErrors.Check(CudaDriverApi.cuLaunchKernel(function, grid.X, grid.Y, grid.Z, block.X, block.Y, block.Z,
            (uint)sharedBytes, _stream, kernelParams, null));
    }

    public void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha, ulong a, int lda, ulong b, int ldb, float beta, ulong c, int ldc)
    {
        MakeCurrent();
        CudaErrors.CheckCublas(CublasApi.cublasSgemm(_cublas, transA ? CublasApi.OpT : CublasApi.OpN, transB ? CublasApi.OpT : CublasApi.OpN,
            m, n, k, &alpha, a, lda, b, ldb, &beta, c, ldc));
    }

    /// <summary>TF32 tensor-core GEMMs (faster, ~10-bit mantissa products); off by default.</summary>
    public void UseTf32(bool enabled)
    {
        MakeCurrent();
        CudaErrors.CheckCublas(CublasApi.cublasSetMathMode(_cublas, enabled ? CublasApi.MathTf32 : CublasApi.MathPedantic));
    }

    public void Synchronize()
    {
        MakeCurrent();
        if (_capturing) throw new InvalidOperationException("Synchronize inside a graph capture: a captured step may not wait for the device");
        CudaErrors.Check(CudaDriverApi.cuStreamSynchronize(_stream));
    }

    public void BeginCapture()
    {
        MakeCurrent();
        CudaErrors.Check(CudaDriverApi.cuStreamBeginCapture(_stream, 1 /* CU_STREAM_CAPTURE_MODE_THREAD_LOCAL */));
        _capturing = true;
    }

    public nint EndCapture(bool abandon = false)
    {
        MakeCurrent();
        _capturing = false;
        nint graph;
        int r = CudaDriverApi.cuStreamEndCapture(_stream, &graph);
        if (abandon)
        {
            if (r == 0 && graph != 0) CudaDriverApi.cuGraphDestroy(graph);
            return 0;
        }
        if (r != 0) throw CudaErrors.Driver(r, "cuStreamEndCapture", "a call inside the captured step is not capturable (a synchronous copy, an allocation, a synchronize?)");
        try
        {
            nint exec;
            CudaErrors.Check(CudaDriverApi.cuGraphInstantiateWithFlags(&exec, graph, 0));
            return exec;
        }
        finally
        {
            CudaDriverApi.cuGraphDestroy(graph);
        }
    }

    public void LaunchGraph(nint graph)
    {
        MakeCurrent();
        CudaErrors.Check(CudaDriverApi.cuGraphLaunch(graph, _stream));
    }

    public void DestroyGraph(nint graph)
    {
        if (_disposed || graph == 0) return;
        CudaDriverApi.cuCtxSetCurrent(_context);
        CudaDriverApi.cuGraphExecDestroy(graph);
    }

    public void Dispose()
    {
        if (_disposed) return;
        if (_context != 0) CudaDriverApi.cuCtxSetCurrent(_context);
        foreach (var m in _modules) m.Dispose();
        _modules.Clear();
        _cublasHandle?.Dispose();
        _workspaceHandle?.Dispose();
        _streamHandle?.Dispose();
        _contextHandle?.Dispose();   // last: the others need the context
        _cublas = _stream = _context = 0;
        _cublasWorkspace = 0;
        _disposed = true;
    }
}
