// Loads the hand-written test kernels (Kernels/<area>/<file>.ptx, copied next to the test assembly) and parses them.
namespace Vae.PtxInterpreter.Tests.Support;

public static class TestKernels
{
    /// <summary>Directory holding the copied .ptx files.</summary>
    public static string Directory => Path.Combine(AppContext.BaseDirectory, "Kernels");

    /// <summary>The text of Kernels/<paramref name="relativePath"/>.</summary>
    public static string Text(string relativePath)
    {
        string path = Path.Combine(Directory, relativePath);
        if (!File.Exists(path))
            throw new FileNotFoundException($"test kernel {relativePath} not found in {Directory}; is it under Kernels/ with a .ptx extension?", path);
        return File.ReadAllText(path);
    }

    /// <summary>Parses Kernels/<paramref name="relativePath"/>.</summary>
    public static PtxModule Load(string relativePath) => PtxModule.Parse(Text(relativePath), relativePath);
}
