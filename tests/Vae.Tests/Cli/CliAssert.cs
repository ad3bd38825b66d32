// Assertions on how the `vae` tool reports success and failure: usage errors (exit 2) and bad input (exit 1) print
// exactly one "vae: ..." line to stderr (usage errors add the "Run 'vae help'" hint), nothing to stdout, and never a
// stack trace; a successful --json run prints one JSON object.
using System.Text.Json;
using Vae.Tests.Support;
using Xunit;

namespace Vae.Tests.Cli;

static class CliAssert
{
    public const string UsageHint = "Run 'vae help' for usage.";

    public static void Succeeded(VaeRunResult r)
    {
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.True(r.Stderr.Length == 0, "nothing on stderr expected:\n" + r);
    }

    /// <summary>A successful run that printed one line of JSON: that object.</summary>
    public static JsonElement Json(VaeRunResult r)
    {
        Succeeded(r);
        Assert.Single(r.StdoutLines);
        using var doc = JsonDocument.Parse(r.Stdout);
        return doc.RootElement.Clone();
    }

    /// <summary>Exit code 2, stderr = "vae: message" + the hint; the message contains every fragment.</summary>
    public static void UsageError(VaeRunResult r, params string[] fragments)
    {
        Assert.True(r.ExitCode == 2, "exit code 2 (usage error) expected:\n" + r);
        var lines = r.StderrLines;
        Assert.True(lines.Length == 2 && lines[1] == UsageHint, "stderr should be one 'vae: ' line and the hint:\n" + r);
        CheckMessage(r, lines[0], fragments);
    }

    /// <summary>Exit code 1, stderr = one "vae: message" line; the message contains every fragment.</summary>
    public static void InputError(VaeRunResult r, params string[] fragments)
    {
        Assert.True(r.ExitCode == 1, "exit code 1 (bad input) expected:\n" + r);
        var lines = r.StderrLines;
        Assert.True(lines.Length == 1, "stderr should be exactly one 'vae: ' line:\n" + r);
        CheckMessage(r, lines[0], fragments);
    }

    static void CheckMessage(VaeRunResult r, string line, string[] fragments)
    {
        Assert.True(line.StartsWith("vae: ", StringComparison.Ordinal), "the error line should start with 'vae: ':\n" + r);
        Assert.True(r.Stdout.Length == 0, "nothing on stdout expected for an error:\n" + r);
        Assert.DoesNotContain(r.StderrLines, l => l.TrimStart().StartsWith("at ", StringComparison.Ordinal));
        Assert.DoesNotContain("Exception", r.Stderr, StringComparison.Ordinal);
        foreach (var fragment in fragments)
            Assert.True(line.Contains(fragment, StringComparison.Ordinal), $"the error line should mention '{fragment}':\n" + r);
    }
}
