// Bad usage and bad input files through the real `vae` process: usage errors exit with 2 and print one "vae: " line
// plus the "Run 'vae help'" hint, bad files exit with 1 and print one "vae: " line naming the file; never a stack
// trace, and nothing is written.
using Vae.Checkpoints;
using Vae.Tests.Support;
using Xunit;

namespace Vae.Tests.Cli;

public sealed class CliErrorTests : IDisposable
{
    readonly ScratchDirectory _folder = new();

    public void Dispose() => _folder.Dispose();

    public static TheoryData<string[], string[]> UsageErrors() => new()
    {
        { ["frob"], ["Unknown command 'frob'"] },
        { ["bench"], ["'vae bench train' or 'vae bench gemm'"] },
        { ["bench", "frob"], ["Unknown command 'bench frob'"] },
        { ["train", "--frob", "1"], ["Unknown option --frob"] },
        { ["eval", "--checkpoint", "model.safetensors", "--frob"], ["Unknown option --frob"] },
        { ["train", "--epochs", "abc"], ["--epochs", "integer", "'abc'"] },
        { ["train", "--epochs", "0"], ["--epochs", "[1, 100000]", "got 0"] },
        { ["train", "--hidden", "4,x"], ["--hidden", "positive integers", "'4,x'"] },
        { ["train", "--recon", "foo"], ["--recon", "'foo'", "bce or mse"] },
        { ["train", "--lr", "fast"], ["--lr", "'fast'"] },
        { ["train", "--backend", "abacus"], ["Unknown backend 'abacus'"] },
        { ["train", "--resume", "--force"], ["--resume", "--force"] },
        { ["train", "--resume", "--lr", "0.1"], ["--lr", "--resume"] },
        { ["train", "--resume=yes"], ["--resume takes no value"] },
        { ["eval"], ["--checkpoint FILE is required"] },
        { ["sample", "--checkpoint", "model.safetensors", "--count", "0"], ["--count"] },
        { ["interpolate", "--checkpoint", "model.safetensors", "--steps", "1"], ["--steps"] },
    };

    [Theory]
    [MemberData(nameof(UsageErrors))]
    public void BadUsageExitsWithTwoAndOneMessage(string[] args, string[] fragments)
    {
        var r = VaeProcess.Run(_folder.Path, args);
        CliAssert.UsageError(r, fragments);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_folder.Path));
    }

    [Fact]
    public void MissingDataFolderSaysHowToInstallTheDataset()
    {
        string missing = _folder.File("no-such-dataset");
        string output = _folder.File("run");
        var r = VaeProcess.Run(_folder.Path, "train", "--data", missing, "--epochs", "1", "--out", output);
        CliAssert.InputError(r, missing, "apt-get install dataset-fashion-mnist");
        Assert.False(Directory.Exists(output));
    }

    [Fact]
    public void MissingIdxFileIsNamed()
    {
        var data = TinyIdxDataset.Write(_folder.File("data"), trainCount: 32, testCount: 8);
        File.Delete(data.TestLabelsPath);
        var r = VaeProcess.Run(_folder.Path, "train", "--data", data.Folder, "--epochs", "1", "--out", _folder.File("run"));
        CliAssert.InputError(r, "t10k-labels-idx1-ubyte", "apt-get install dataset-fashion-mnist");
        Assert.False(Directory.Exists(_folder.File("run")));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TruncatedIdxFileIsNamed(bool gzip)
    {
        var data = TinyIdxDataset.Write(_folder.File("data"), trainCount: 32, testCount: 8, gzip: gzip);
        byte[] whole = File.ReadAllBytes(data.TrainImagesPath);
        File.WriteAllBytes(data.TrainImagesPath, whole[..(whole.Length - 9)]);
        var r = VaeProcess.Run(_folder.Path, "train", "--data", data.Folder, "--epochs", "1", "--out", _folder.File("run"));
        CliAssert.InputError(r, data.TrainImagesPath);
        Assert.False(Directory.Exists(_folder.File("run")));
    }

    [Fact]
    public void MissingCheckpointIsNamed()
    {
        string missing = _folder.File("nothing-here.safetensors");
        var r = VaeProcess.Run(_folder.Path, "eval", "--checkpoint", missing);
        CliAssert.InputError(r, missing);
    }

    [Fact]
    public void TextFileIsNotACheckpoint()
    {
        string path = _folder.File("notes.safetensors");
        File.WriteAllText(path, "these are notes, not tensors\n");
        var r = VaeProcess.Run(_folder.Path, "sample", "--checkpoint", path, "--out", _folder.File("x.png"));
        CliAssert.InputError(r, path);
        Assert.False(File.Exists(_folder.File("x.png")));
    }

    [Fact]
    public void SafetensorsWithoutModelConfigIsNotACheckpoint()
    {
        string path = _folder.File("other.safetensors");
        SafeTensorsFile.Write(path, new Dictionary<string, string> { ["format"] = "pt" }, [SafeTensor.FromFloats("weight", [1f, 2f, 3f, 4f], 2, 2)]);
        var r = VaeProcess.Run(_folder.Path, "eval", "--checkpoint", path);
        CliAssert.InputError(r, path, "not a Vae checkpoint");
    }
}
