// vae-tests [FILTER...]: runs the xunit tests of Vae.Tests whose full class name contains one of the filters (default:
// the CUDA and GPU tests) without `dotnet test`, for the self-contained GPU bundle. Facts and theories (InlineData,
// MemberData) are invoked by reflection on a fresh instance each, like xunit; skipped tests are reported with their
// reason. Prints one line per test and ends with "N passed, N failed, N skipped"; exit 1 if any failed.
// vae-tests cli ARGS...: runs the `vae` tool itself with ARGS (the bundle carries it, so one runtime serves both).
using System.Reflection;
using Xunit;
using Xunit.Abstractions;
using Xunit.Sdk;

if (args.Length > 0 && args[0] == "cli")
{
    var entry = typeof(Vae.Cli.CliArgs).Assembly.EntryPoint ?? throw new InvalidOperationException("vae.dll has no entry point");
    var result = entry.Invoke(null, [args[1..]]);
    return result is int code ? code : 0;
}
string[] filters = args.Length > 0 ? args : ["Cuda", "Gpu"];
var assembly = typeof(Vae.Tests.Support.Backends).Assembly;
int passed = 0, failed = 0, skipped = 0;
foreach (var type in assembly.GetTypes().Where(t => t.IsClass && !t.IsAbstract && t.IsPublic).OrderBy(t => t.FullName, StringComparer.Ordinal))
{
    if (!filters.Any(f => type.FullName!.Contains(f, StringComparison.Ordinal))) continue;
    // Category=Gpu classes (`dotnet test` excludes them without a GPU) are skipped here with the reason.
    bool gpuClass = type.GetCustomAttributesData().Any(a => a.AttributeType == typeof(TraitAttribute)
        && a.ConstructorArguments.Count == 2 && (string?)a.ConstructorArguments[0].Value == "Category" && (string?)a.ConstructorArguments[1].Value == "Gpu");
    string? noGpu = gpuClass ? Vae.Tests.Support.Backends.CudaUnavailableReason() : null;
    foreach (var method in type.GetMethods(BindingFlags.Public | BindingFlags.Instance).OrderBy(m => m.Name, StringComparer.Ordinal))
    {
        var fact = method.GetCustomAttribute<FactAttribute>(inherit: true);
        if (fact is null) continue;
        string name = $"{type.Name}.{method.Name}";
        string? skip = fact.Skip ?? (noGpu is null ? null : $"needs a CUDA GPU: {noGpu}");
        if (skip is not null)
        {
            Console.WriteLine($"SKIP {name}: {skip}");
            skipped++;
            continue;
        }
        var cases = fact is TheoryAttribute
            ? method.GetCustomAttributes<DataAttribute>(inherit: true).SelectMany(d => d.GetData(method)).ToList()
            : [Array.Empty<object>()];
        foreach (var arguments in cases)
        {
            string label = arguments.Length == 0 ? name : $"{name}({string.Join(", ", arguments)})";
            var output = new ConsoleOutput();
            object? instance = null;
            try
            {
                var ctor = type.GetConstructors().Single();
                instance = ctor.Invoke(ctor.GetParameters().Select(p => p.ParameterType == typeof(ITestOutputHelper) ? output : null).ToArray());
                method.Invoke(instance, arguments);
                Console.WriteLine($"PASS {label}");
                passed++;
            }
            catch (TargetInvocationException e)
            {
                Console.WriteLine($"FAIL {label}: {e.InnerException?.GetType().Name}: {e.InnerException?.Message}");
                failed++;
            }
            finally
            {
                (instance as IDisposable)?.Dispose();
            }
        }
    }
}
Console.WriteLine($"{passed} passed, {failed} failed, {skipped} skipped");
return failed == 0 ? 0 : 1;

sealed class ConsoleOutput : ITestOutputHelper
{
    public void WriteLine(string message) => Console.WriteLine($"     {message}");
    public void WriteLine(string format, params object[] args) => Console.WriteLine("     " + string.Format(System.Globalization.CultureInfo.InvariantCulture, format, args));
}
