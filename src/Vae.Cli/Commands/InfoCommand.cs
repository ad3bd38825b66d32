// `vae info [--json]`: the compute backends available on this machine. CPU: cores and vector instruction sets;
// CUDA: every GPU's name, compute capability, memory and multiprocessor count with the driver and cuBLAS versions,
// or the reason CUDA cannot be used (no driver, no device, no cuBLAS).
using System.Globalization;
using System.Runtime.Intrinsics;
using System.Text;
using Vae.Cuda.Device;

namespace Vae.Cli.Commands;

public static class InfoCommand
{
    public const string Help = """
usage: vae info [--json]

Lists the compute backends this machine can run: cpu and reference always, cuda when an NVIDIA driver, a GPU and
cuBLAS are present (set VAE_CUDA_LIB_DIR to a folder holding libcublas.so.N if it is not on the loader path).
""";

    public static int Run(CliArgs cli)
    {
        if (cli.Flag("help")) { Console.WriteLine(Help); return 0; }
        bool json = cli.Flag("json");
        cli.RejectUnknown();
        var inv = CultureInfo.InvariantCulture;
        string simd = Vector512.IsHardwareAccelerated ? "AVX-512" : Vector256.IsHardwareAccelerated ? "AVX2/256-bit" : Vector128.IsHardwareAccelerated ? "128-bit" : "none";
        var gpus = new List<string>();
        var gpuJson = new List<string>();
        int count = CudaDriverDevice.DeviceCount(out string? reason);
        for (int i = 0; i < count; i++)
        {
            try
            {
                using var d = CudaDriverDevice.Open(i);
                gpus.Add(string.Create(inv,
                    $"cuda:{i}  {d.Name}, compute capability {d.ComputeCapabilityMajor}.{d.ComputeCapabilityMinor}, {d.TotalMemoryBytes / (1024.0 * 1024 * 1024):F1} GiB, " +
                    $"{d.MultiprocessorCount} SMs, driver {Version(d.DriverVersion)}, cuBLAS {CublasVersion(d.CublasVersion)}"));
                gpuJson.Add(string.Create(inv,
                    $"{{\"ordinal\":{i},\"name\":{Quote(d.Name)},\"compute_capability\":\"{d.ComputeCapabilityMajor}.{d.ComputeCapabilityMinor}\"," +
                    $"\"memory_bytes\":{d.TotalMemoryBytes},\"multiprocessors\":{d.MultiprocessorCount},\"driver\":\"{Version(d.DriverVersion)}\",\"cublas\":\"{CublasVersion(d.CublasVersion)}\"}}"));
            }
            catch (Exception e) when (e is Vae.Cuda.CudaException or Vae.Cuda.CudaUnavailableException)
            {
                gpus.Add($"cuda:{i}  unusable: {e.Message}");
                gpuJson.Add(string.Create(inv, $"{{\"ordinal\":{i},\"error\":{Quote(e.Message)}}}"));
            }
        }
        if (json)
        {
            Console.WriteLine(string.Create(inv,
                $"{{\"cpu\":{{\"cores\":{Environment.ProcessorCount},\"simd\":\"{simd}\"}},\"reference\":true," +
                $"\"cuda\":{{\"available\":{(gpuJson.Count > 0 ? "true" : "false")},\"reason\":{(reason is null ? "null" : Quote(reason))},\"devices\":[{string.Join(",", gpuJson)}]}}}}"));
            return 0;
        }
        Console.WriteLine(string.Create(inv, $"cpu        {Environment.ProcessorCount} cores, {simd} ({System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture})"));
        Console.WriteLine("reference  scalar, double accumulation (for checking)");
        if (count == 0) Console.WriteLine($"cuda       unavailable: {reason}");
        foreach (var g in gpus) Console.WriteLine(g);
        return 0;
    }

    static string Version(int v) => string.Create(CultureInfo.InvariantCulture, $"{v / 1000}.{v % 1000 / 10}");

    static string CublasVersion(int v) => string.Create(CultureInfo.InvariantCulture, $"{v / 10000}.{v % 10000 / 100}.{v % 100}");

    static string Quote(string s)
    {
        var sb = new StringBuilder("\"");
        foreach (char c in s)
            sb.Append(c switch { '"' => "\\\"", '\\' => "\\\\", '\n' => "\\n", '\r' => "\\r", '\t' => "\\t", _ => c < ' ' ? $"\\u{(int)c:x4}" : c.ToString() });
        return sb.Append('"').ToString();
    }
}
