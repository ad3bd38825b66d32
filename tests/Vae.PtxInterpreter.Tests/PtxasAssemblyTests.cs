// Every hand-written PTX file in the repository (the interpreter's test kernels under Kernels/ and the CUDA backend's
// kernels/ at the root) must assemble with NVIDIA's ptxas for sm_80 and sm_90, so what the interpreter runs is PTX a
// GPU accepts. The interpreter must also parse each of them.
using Vae.PtxInterpreter.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace Vae.PtxInterpreter.Tests;

public sealed class PtxasAssemblyTests(ITestOutputHelper output)
{
    public static TheoryData<string> PtxFiles()
    {
        var root = Ptxas.RepositoryRoot();
        var data = new TheoryData<string>();
        foreach (var dir in new[] { Path.Combine(root, "tests", "Vae.PtxInterpreter.Tests", "Kernels"), Path.Combine(root, "kernels") })
        {
            if (!Directory.Exists(dir)) continue;
            foreach (var f in Directory.EnumerateFiles(dir, "*.ptx", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
                data.Add(Path.GetRelativePath(root, f));
        }
        return data;
    }

    [Fact]
    public void TheRepositoryHasPtxFilesToCheck() => Assert.NotEmpty(PtxFiles());

    [Theory]
    [MemberData(nameof(PtxFiles))]
    public void AssemblesForSm80AndSm90(string relativePath)
    {
        if (Ptxas.Path is null)
        {
            Assert.False(Ptxas.Required, $"ptxas is required on CI but unavailable: {Ptxas.UnavailableReason}");
            output.WriteLine($"ptxas unavailable, assembly not checked: {Ptxas.UnavailableReason}");
            return;
        }
        var file = Path.Combine(Ptxas.RepositoryRoot(), relativePath);
        foreach (var arch in new[] { "sm_80", "sm_90" })
        {
            var (code, diagnostics) = Ptxas.Assemble(file, arch);
            Assert.True(code == 0, $"ptxas -arch={arch} {relativePath} failed:\n{diagnostics}");
        }
    }

    [Theory]
    [MemberData(nameof(PtxFiles))]
    public void TheInterpreterParsesIt(string relativePath)
    {
        var file = Path.Combine(Ptxas.RepositoryRoot(), relativePath);
        var module = PtxModule.Parse(File.ReadAllText(file), relativePath);
        Assert.NotEmpty(module.Kernels);
    }
}
