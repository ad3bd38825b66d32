// `vae help`, `vae --help` and `<command> --help` for every command: exit code 0, the usage text on stdout (starting
// with the command's own usage line), nothing on stderr.
using Vae.Tests.Support;
using Xunit;

namespace Vae.Tests.Cli;

public sealed class CliHelpTests : IDisposable
{
    readonly ScratchDirectory _folder = new();

    public void Dispose() => _folder.Dispose();

    [Theory]
    [InlineData("")]
    [InlineData("help")]
    [InlineData("--help")]
    [InlineData("-h")]
    public void GeneralHelpListsEveryCommand(string word)
    {
        var r = VaeProcess.Run(_folder.Path, word.Length == 0 ? [] : [word]);
        CliAssert.Succeeded(r);
        Assert.StartsWith("usage: vae <command>", r.Stdout, StringComparison.Ordinal);
        foreach (var command in new[] { "train", "eval", "sample", "reconstruct", "interpolate", "latent", "anomaly", "bench train", "bench gemm", "info", "gradcheck", "help" })
            Assert.True(r.StdoutLines.Any(l => l.StartsWith("  " + command + " ", StringComparison.Ordinal)), $"'{command}' missing from:\n{r}");
    }

    [Theory]
    [InlineData("train", "--epochs")]
    [InlineData("eval", "--checkpoint")]
    [InlineData("sample", "--count")]
    [InlineData("reconstruct", "--first")]
    [InlineData("interpolate", "--from")]
    [InlineData("bench train", "--steps")]
    [InlineData("bench gemm", "--threads")]
    [InlineData("latent", "--tsne")]
    [InlineData("anomaly", "--percentile")]
    [InlineData("info", "--json")]
    [InlineData("gradcheck", "--backend")]
    public void CommandHelpShowsItsUsage(string command, string oneOfItsOptions)
    {
        var r = VaeProcess.Run(_folder.Path, [.. command.Split(' '), "--help"]);
        CliAssert.Succeeded(r);
        Assert.StartsWith($"usage: vae {command} ", r.Stdout, StringComparison.Ordinal);
        Assert.Contains(oneOfItsOptions, r.Stdout, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_folder.Path));   // --help does nothing else
    }

    [Theory]
    [InlineData("train")]
    [InlineData("eval")]
    [InlineData("sample")]
    [InlineData("reconstruct")]
    [InlineData("interpolate")]
    [InlineData("latent")]
    [InlineData("anomaly")]
    public void SharedOptionsStartOnTheirOwnLines(string command)
    {
        var r = VaeProcess.Run(_folder.Path, command, "--help");
        CliAssert.Succeeded(r);
        Assert.Contains(r.StdoutLines, l => l.StartsWith("  --backend NAME ", StringComparison.Ordinal));
        foreach (var option in new[] { "--backend NAME ", "--data DIR " })
            Assert.DoesNotContain(r.StdoutLines, l => l.Contains(option, StringComparison.Ordinal) && !l.StartsWith("  " + option, StringComparison.Ordinal));
    }
}
