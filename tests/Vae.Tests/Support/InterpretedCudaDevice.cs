// The CUDA backend's device seam on the PTX interpreter: modules are parsed (and checked) by PtxModule, launches are
// interpreted by PtxMachine with its fault checks on, and SGEMM (cuBLAS on a GPU) is a column-major CPU GEMM that
// accumulates in double. So CudaBackend's launchers, argument packing, grid computation and kernels all run in CI.
// Graph capture is simulated as CUDA does it: while capturing, launches (with their argument values copied at capture
// time), memsets, device copies and GEMMs are recorded instead of run, and host copies, allocations and synchronizes
// are errors; replaying a graph runs the recorded operations in order.
using Vae.Cuda.Device;
using Vae.PtxInterpreter;

namespace Vae.Tests.Support;

public sealed unsafe class InterpretedCudaDevice : ICudaDevice
{
    readonly List<PtxModule> _modules = [];
    readonly List<PtxKernel> _functions = [];
    readonly List<List<Action>?> _graphs = [];
    List<Action>? _recording;

    /// <summary>Graph replays so far.</summary>
    public int GraphReplays { get; private set; }

    void Run(Action operation)
    {
        if (_recording is not null) _recording.Add(operation);
        else operation();
    }

    void NotWhileCapturing(string what)
    {
        if (_recording is not null) throw new InvalidOperationException($"{what} inside a graph capture (CUDA would fail the capture)");
    }

    public PtxMachine Machine { get; } = new();

    /// <summary>Launches interpreted so far (each one a full run of the kernel with fault checks).</summary>
    public int Launches { get; private set; }

    public string Kind => "ptx-interpreter";

    public nint LoadModule(string ptx, string name)
    {
        _modules.Add(PtxModule.Parse(ptx, name));
        return _modules.Count; // 1-based handles: 0 is never valid
    }

    public nint GetFunction(nint module, string kernelName)
    {
        _functions.Add(_modules[(int)module - 1].GetKernel(kernelName));
        return _functions.Count;
    }

    public ulong Allocate(long bytes)
    {
        NotWhileCapturing("an allocation");
        return Machine.Allocate(bytes).Address;
    }

    public void Free(ulong pointer) => Machine.Free(new DevicePointer(pointer));

    public void CopyToDevice(ulong destination, ReadOnlySpan<byte> source)
    {
        NotWhileCapturing("a host-to-device copy");
        Machine.Write(new DevicePointer(destination), source);
    }

    public void CopyToHost(ulong source, Span<byte> destination)
    {
        NotWhileCapturing("a device-to-host copy");
        Machine.Read(new DevicePointer(source), destination);
    }

    public void CopyDeviceToDevice(ulong destination, ulong source, long bytes) => Run(() =>
    {
        var data = Machine.Read<byte>(new DevicePointer(source), checked((int)bytes));
        Machine.Write(new DevicePointer(destination), (ReadOnlySpan<byte>)data);
    });

    public void Memset32(ulong destination, uint value, long count) => Run(() => Machine.Memset32(new DevicePointer(destination), value, count));

    public void Launch(nint function, LaunchDims grid, LaunchDims block, int sharedBytes, void** kernelParams, int parameterCount)
    {
        var kernel = _functions[(int)function - 1];
        if (parameterCount != kernel.Parameters.Count)
            throw new ArgumentException($"kernel {kernel.Name} takes {kernel.Parameters.Count} parameters but the launcher passed {parameterCount}");
        // The argument values are read now, as cuLaunchKernel (and stream capture) does.
        var buffer = new byte[kernel.ParameterBytes];
        for (int i = 0; i < parameterCount; i++)
        {
            var p = kernel.Parameters[i];
            new ReadOnlySpan<byte>(kernelParams[i], p.SizeBytes).CopyTo(buffer.AsSpan(p.Offset));
        }
        var g = new Dim3((int)grid.X, (int)grid.Y, (int)grid.Z);
        var b = new Dim3((int)block.X, (int)block.Y, (int)block.Z);
        Run(() =>
        {
            Launches++;
            Machine.Launch(kernel, g, b, sharedBytes, buffer);
        });
    }

    public void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha, ulong a, int lda, ulong b, int ldb, float beta, ulong c, int ldc) =>
        Run(() => Gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc));

    void Gemm(bool transA, bool transB, int m, int n, int k, float alpha, ulong a, int lda, ulong b, int ldb, float beta, ulong c, int ldc)
    {
        if (m == 0 || n == 0) return;
        float[] A = k > 0 && alpha != 0 ? ReadMatrix(a, lda, transA ? m : k, transA ? k : m) : [];
        float[] B = k > 0 && alpha != 0 ? ReadMatrix(b, ldb, transB ? k : n, transB ? n : k) : [];
        // C column by column: only its m used rows are read (when beta != 0) and written, as cuBLAS does; the rows
        // between columns (ldc > m) are left alone.
        var column = new float[m];
        for (int j = 0; j < n; j++)
        {
            var at = new DevicePointer(c + (ulong)((long)j * ldc * sizeof(float)));
            if (beta != 0) Machine.Read(at, column.AsSpan());
            for (int i = 0; i < m; i++)
            {
                double sum = 0;
                if (alpha != 0)
                    for (int p = 0; p < k; p++)
                    {
                        float x = transA ? A[p + (long)i * lda] : A[i + (long)p * lda];
                        float y = transB ? B[j + (long)p * ldb] : B[p + (long)j * ldb];
                        sum += (double)x * y;
                    }
                column[i] = (float)(alpha * sum + (beta == 0 ? 0 : beta * (double)column[i]));
            }
            Machine.Write(at, (ReadOnlySpan<float>)column);
        }
    }

    // Column-major matrix with `columns` columns of `rows` used rows each, stored with leading dimension ld.
    float[] ReadMatrix(ulong pointer, int ld, int columns, int rows) =>
        Machine.Read<float>(new DevicePointer(pointer), checked((int)((long)ld * (columns - 1) + rows)));

    public void Synchronize() => NotWhileCapturing("a synchronize");

    public void BeginCapture()
    {
        if (_recording is not null) throw new InvalidOperationException("a capture is already in progress");
        _recording = [];
    }

    public nint EndCapture(bool abandon = false)
    {
        var recorded = _recording ?? throw new InvalidOperationException("EndCapture without BeginCapture");
        _recording = null;
        if (abandon) return 0;
        _graphs.Add(recorded);
        return _graphs.Count;
    }

    public void LaunchGraph(nint graph)
    {
        NotWhileCapturing("a graph launch");
        var operations = _graphs[(int)graph - 1] ?? throw new ObjectDisposedException("graph");
        GraphReplays++;
        foreach (var op in operations) op();
    }

    public void DestroyGraph(nint graph) => _graphs[(int)graph - 1] = null;

    public void Dispose() { }
}
