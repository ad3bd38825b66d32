// Runs the real `vae` command-line tool (vae.dll, copied into the test output folder by the project reference to
// Vae.Cli) as a child process with redirected stdout and stderr, and returns its exit code and both texts.
using System.Diagnostics;
using System.Text;

namespace Vae.Tests.Support;

/// <summary>What one run of `vae` did: its exit code and everything it wrote to stdout and stderr.</summary>
public sealed record VaeRunResult(string CommandLine, int ExitCode, string Stdout, string Stderr)
{
    /// <summary>The stderr text split into lines (a trailing newline ends the last line, it does not start a new one).</summary>
    public string[] StderrLines => SplitLines(Stderr);

    public string[] StdoutLines => SplitLines(Stdout);

    static string[] SplitLines(string text) =>
        text.Length == 0 ? [] : text.TrimEnd('\n').Split('\n');

    /// <summary>For assertion messages: the command and both streams.</summary>
    public override string ToString() => $"`{CommandLine}` exited with {ExitCode}\n--- stdout ---\n{Stdout}\n--- stderr ---\n{Stderr}";
}

public static class VaeProcess
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(2);

    /// <summary>vae.dll: next to the test assembly (the usual case), else the CLI project's own Release output.</summary>
    public static string ToolPath { get; } = FindTool();

    /// <summary>Runs `dotnet vae.dll <paramref name="args"/>` in <paramref name="workingDirectory"/>.</summary>
    public static VaeRunResult Run(string workingDirectory, params string[] args) => Run(workingDirectory, DefaultTimeout, args);

    public static VaeRunResult Run(string workingDirectory, TimeSpan timeout, params string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var start = new ProcessStartInfo(DotnetHost())
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            CreateNoWindow = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        start.ArgumentList.Add(ToolPath);
        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        string commandLine = "vae " + string.Join(' ', args);

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {start.FileName} {ToolPath}.");
        process.StandardInput.Close();
        // Both streams are read to the end on pool threads so that neither pipe can fill up and block the child.
        var stdout = Task.Run(() => process.StandardOutput.ReadToEnd());
        var stderr = Task.Run(() => process.StandardError.ReadToEnd());
        if (!process.WaitForExit(timeout))
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            process.WaitForExit();
            throw new TimeoutException(
                $"`{commandLine}` did not finish within {timeout.TotalSeconds:F0} s and was killed.\n--- stdout ---\n{stdout.Result}\n--- stderr ---\n{stderr.Result}");
        }
        process.WaitForExit();   // after the timed wait returns, this one also waits for the redirected streams to close
        return new VaeRunResult(commandLine, process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>The dotnet host running this test (set by `dotnet test`), else `dotnet` from PATH.</summary>
    static string DotnetHost()
    {
        string? host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(host) && File.Exists(host)) return host;
        string? current = Environment.ProcessPath;
        if (current is not null && Path.GetFileNameWithoutExtension(current) == "dotnet") return current;
        return "dotnet";
    }

    static string FindTool()
    {
        string nextToTests = Path.Combine(AppContext.BaseDirectory, "vae.dll");
        if (File.Exists(nextToTests) && File.Exists(Path.Combine(AppContext.BaseDirectory, "vae.runtimeconfig.json"))) return nextToTests;
        string built = Path.Combine(RepositoryPaths.Root, "src", "Vae.Cli", "bin", "Release", "net10.0", "vae.dll");
        if (File.Exists(built)) return built;
        throw new FileNotFoundException(
            $"The vae tool is not built: neither {nextToTests} (with vae.runtimeconfig.json) nor {built} exists. " +
            "Build it with `dotnet build src/Vae.Cli/Vae.Cli.csproj -c Release` (tests/Vae.Tests references it, so building the tests builds it too).",
            built);
    }
}
