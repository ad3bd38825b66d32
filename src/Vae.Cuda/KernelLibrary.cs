// The hand-written PTX kernels (kernels/*.ptx at the repository root), embedded in this assembly, loaded once per
// backend (one module per file) with every .entry resolved to a function handle by name.
using System.Reflection;
using System.Text.RegularExpressions;

namespace Vae.Cuda;

internal sealed partial class KernelLibrary
{
    readonly Dictionary<string, nint> _functions = new(StringComparer.Ordinal);

    public KernelLibrary(Device.ICudaDevice device)
    {
        foreach (var (file, text) in Sources())
        {
            nint module = device.LoadModule(text, file);
            foreach (Match m in EntryName().Matches(Comments().Replace(text, " ")))
            {
                string name = m.Groups[1].Value;
                if (!_functions.TryAdd(name, device.GetFunction(module, name)))
                    throw new InvalidOperationException($"kernel {name} is defined in two files (the second is {file})");
            }
        }
    }

    /// <summary>The function handle of a kernel; throws naming the known kernels when it does not exist.</summary>
    public nint this[string name] => _functions.TryGetValue(name, out var f) ? f
        : throw new KeyNotFoundException($"no kernel named {name} in kernels/*.ptx (have: {string.Join(", ", _functions.Keys.Order())})");

    public IReadOnlyCollection<string> Names => _functions.Keys;

    /// <summary>(file name, PTX text) of every embedded kernel file.</summary>
    public static IEnumerable<(string File, string Text)> Sources()
    {
        var asm = typeof(KernelLibrary).Assembly;
        foreach (var resource in asm.GetManifestResourceNames().Where(n => n.StartsWith("kernels/", StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            using var stream = asm.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream);
            yield return (resource["kernels/".Length..], reader.ReadToEnd());
        }
    }

    [GeneratedRegex(@"\.entry\s+([A-Za-z_$][A-Za-z0-9_$]*)")]
    private static partial Regex EntryName();

    [GeneratedRegex(@"//[^\n]*|/\*.*?\*/", RegexOptions.Singleline)]
    private static partial Regex Comments();
}
