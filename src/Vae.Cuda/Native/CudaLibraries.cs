// Finds libcuda and libcublas across CUDA 11/12/13 on Linux and Windows: the versioned names first (runtime-only
// images lack the unversioned .so), then VAE_CUDA_LIB_DIR for a cuBLAS that only exists inside a Python wheel.
using System.Reflection;
using System.Runtime.InteropServices;

namespace Vae.Cuda.Native;

internal static class CudaLibraries
{
    public const string Driver = "cuda";
    public const string Cublas = "cublas";

    static int _registered;

    public static readonly string[] DriverCandidates = OperatingSystem.IsWindows()
        ? ["nvcuda.dll"]
        : ["libcuda.so.1", "libcuda.so"];

    public static readonly string[] CublasCandidates = OperatingSystem.IsWindows()
        ? ["cublas64_13.dll", "cublas64_12.dll", "cublas64_11.dll"]
        : ["libcublas.so.13", "libcublas.so.12", "libcublas.so.11", "libcublas.so"];

    /// <summary>Installs the resolver for this assembly's [LibraryImport]s (once).</summary>
    public static void Register()
    {
        if (Interlocked.Exchange(ref _registered, 1) == 1) return;
        NativeLibrary.SetDllImportResolver(typeof(CudaLibraries).Assembly, Resolve);
    }

    static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? path) => name switch
    {
        Driver => Load(DriverCandidates, out _),
        Cublas => Load(CublasCandidates, out _),
        _ => IntPtr.Zero,
    };

    /// <summary>Loads the first candidate that exists (in VAE_CUDA_LIB_DIR first, then the loader's path); zero if none.</summary>
    public static IntPtr Load(string[] candidates, out string tried) =>
        Load(candidates, Environment.GetEnvironmentVariable("VAE_CUDA_LIB_DIR"), out tried);

    /// <summary>As <see cref="Load(string[], out string)"/> with an explicit directory list (path-separator separated).</summary>
    public static IntPtr Load(string[] candidates, string? directories, out string tried)
    {
        var dirs = new List<string>();
        if (!string.IsNullOrEmpty(directories)) dirs.AddRange(directories.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries));
        var attempts = new List<string>();
        foreach (var c in candidates)
        {
            foreach (var d in dirs)
            {
                var full = Path.Combine(d, c);
                attempts.Add(full);
                if (File.Exists(full) && NativeLibrary.TryLoad(full, out var h)) { tried = string.Join(", ", attempts); return h; }
            }
            attempts.Add(c);
            if (NativeLibrary.TryLoad(c, out var handle)) { tried = string.Join(", ", attempts); return handle; }
        }
        tried = string.Join(", ", attempts);
        return IntPtr.Zero;
    }
}
