// Finds NVIDIA's ptxas for the assembly checks: $VAE_PTXAS, then ptxas on PATH, then the cached download made by
// tests/tools/fetch-ptxas.sh (which this runs once if nothing else is found).
using System.Diagnostics;

namespace Vae.PtxInterpreter.Tests.Support;

public static class Ptxas
{
    static readonly Lazy<(string? path, string reason)> Located = new(Locate);

    /// <summary>Path of a working ptxas, or null with the reason in <see cref="UnavailableReason"/>.</summary>
    public static string? Path => Located.Value.path;
    public static string UnavailableReason => Located.Value.reason;

    /// <summary>True on CI (the CI variable is set), where a missing ptxas is a failure rather than a skip.</summary>
    public static bool Required => !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI"));

    static (string?, string) Locate()
    {
        var env = Environment.GetEnvironmentVariable("VAE_PTXAS");
        if (!string.IsNullOrEmpty(env))
            return Works(env) ? (env, "") : (null, $"VAE_PTXAS={env} does not run");
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(System.IO.Path.PathSeparator))
        {
            var candidate = System.IO.Path.Combine(dir, "ptxas");
            if (File.Exists(candidate) && Works(candidate)) return (candidate, "");
        }
        var script = System.IO.Path.Combine(RepositoryRoot(), "tests", "tools", "fetch-ptxas.sh");
        if (!File.Exists(script)) return (null, $"{script} not found");
        var (code, stdout, stderr) = Run("bash", [script]);
        var path = stdout.Trim().Split('\n').LastOrDefault()?.Trim();
        if (code == 0 && !string.IsNullOrEmpty(path) && Works(path)) return (path, "");
        return (null, $"tests/tools/fetch-ptxas.sh failed (exit {code}): {stderr.Trim()}");
    }

    static bool Works(string path)
    {
        try { return Run(path, ["--version"]).code == 0; }
        catch (System.ComponentModel.Win32Exception) { return false; }
    }

    /// <summary>Assembles a file for one architecture; returns ptxas's exit code and its diagnostics.</summary>
    public static (int code, string output) Assemble(string ptxFile, string arch)
    {
        var path = Path ?? throw new InvalidOperationException($"ptxas is unavailable: {UnavailableReason}");
        var (code, stdout, stderr) = Run(path, [$"-arch={arch}", ptxFile, "-o", "/dev/null"]);
        return (code, (stdout + stderr).Trim());
    }

    static (int code, string stdout, string stderr) Run(string file, string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {file}");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>The repository root (the folder holding Vae.sln), found upwards from the test assembly.</summary>
    public static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(System.IO.Path.Combine(dir.FullName, "Vae.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException($"Vae.sln not found above {AppContext.BaseDirectory}");
    }
}
