// Locates files of the repository (fixtures, scripts) from the test assembly's folder by walking up to Vae.sln.
namespace Vae.Tests.Support;

public static class RepositoryPaths
{
    public static string Root { get; } = FindRoot();

    public static string Fixture(string name) => Path.Combine(Root, "tests", "fixtures", name);

    static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Vae.sln"))) return dir.FullName;
        throw new InvalidOperationException($"Vae.sln not found above {AppContext.BaseDirectory}.");
    }
}
