// VAE checkpoints: the tensors carry exactly PyTorch's state_dict names and shapes and compute the model's outputs in
// a plain host forward pass, the metadata round-trips, bad checkpoints are refused with a message naming the file and
// the problem, a failed load changes nothing in the model, saving over a checkpoint is atomic, and an independent
// reader (python3 with numpy, when available) sees the same tensors and step.
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Vae.Checkpoints;
using Vae.IO;
using Vae.Models;
using Vae.Tests.Support;
using Vae.Training;
using Xunit;
using Xunit.Abstractions;

namespace Vae.Tests.Checkpoints;

public sealed class CheckpointTests(ITestOutputHelper output)
{
    static readonly VaeConfig Config = new(64, [24, 16], 6);
    static readonly TrainingOptions Options = new()
    {
        Epochs = 3,
        BatchSize = 32,
        Adam = new AdamSettings(2e-3f, 0.8f, 0.99f, 1e-7f, 0.01f, Decoupled: true),
        ClipNorm = 2.5f,
        Seed = 77,
    };

    /// <summary>A model trained for one epoch (so Adam's moments are non-zero), saved to <paramref name="path"/>.</summary>
    static TrainingSetup TrainedAndSaved(string path, VaeConfig? config = null, int epochs = 1)
    {
        config ??= Config;
        var setup = new TrainingSetup(Backends.Create("cpu-3"), config, Options with { Epochs = epochs }, new TrainingState(),
            SyntheticImages.Uniform(seed: 1, 100, config.Input), SyntheticImages.Uniform(seed: 2, 40, config.Input));
        setup.Trainer.Run(null);
        Checkpoint.Save(path, setup.Model, setup.Trainer.Options, setup.Trainer.State);
        return setup;
    }

    /// <summary>The state_dict of <c>enc = ModuleList(Linear..), mu, logvar, dec = ModuleList(Linear..), out</c>, written out by hand.</summary>
    static List<(string Name, int[] Shape)> PyTorchStateDict(VaeConfig c)
    {
        var list = new List<(string, int[])>();
        int previous = c.Input;
        for (int i = 0; i < c.Hidden.Length; i++)
        {
            list.Add(($"enc.{i}.weight", [c.Hidden[i], previous]));
            list.Add(($"enc.{i}.bias", [c.Hidden[i]]));
            previous = c.Hidden[i];
        }
        list.Add(("mu.weight", [c.Latent, previous]));
        list.Add(("mu.bias", [c.Latent]));
        list.Add(("logvar.weight", [c.Latent, previous]));
        list.Add(("logvar.bias", [c.Latent]));
        previous = c.Latent;
        for (int i = 0; i < c.Hidden.Length; i++)
        {
            int width = c.Hidden[c.Hidden.Length - 1 - i];
            list.Add(($"dec.{i}.weight", [width, previous]));
            list.Add(($"dec.{i}.bias", [width]));
            previous = width;
        }
        list.Add(("out.weight", [c.Input, previous]));
        list.Add(("out.bias", [c.Input]));
        return list;
    }

    public static TheoryData<VaeConfig> Configs => new()
    {
        new VaeConfig(64, [24, 16], 6),
        new VaeConfig(64, [], 4),
        new VaeConfig(30, [20, 16, 12], 5, ReconstructionLoss.Mse),
    };

    [Theory]
    [MemberData(nameof(Configs))]
    public void Tensor_names_and_shapes_are_the_pytorch_state_dict(VaeConfig config)
    {
        using var folder = new TempFolder();
        string path = folder.File("vae.safetensors");
        using var setup = TrainedAndSaved(path, config);
        var file = SafeTensorsFile.Read(path);
        var stateDict = PyTorchStateDict(config);
        var expected = stateDict.Select(t => (t.Name, string.Join(",", t.Shape)))
            .Concat(stateDict.Select(t => ("optim.m." + t.Name, string.Join(",", t.Shape))))
            .Concat(stateDict.Select(t => ("optim.v." + t.Name, string.Join(",", t.Shape))));
        Assert.Equal(expected, file.Tensors.Select(t => (t.Name, string.Join(",", t.Shape))));
        Assert.All(file.Tensors, t => Assert.Equal(SafeTensorType.F32, t.Type));
        Assert.Equal(setup.Model.ParameterCount, stateDict.Sum(t => t.Shape.Aggregate(1L, (a, b) => a * b)));
    }

    [Fact]
    public void Checkpoint_tensors_compute_the_model_outputs_in_a_host_forward_pass()
    {
        // Weights are (out, in), mu and logvar are the two heads in that order, the decoder mirrors the encoder: a
        // forward pass in double from the file's tensors alone gives the model's mu, logvar and reconstructions.
        using var folder = new TempFolder();
        string path = folder.File("vae.safetensors");
        using var setup = TrainedAndSaved(path);
        var file = SafeTensorsFile.Read(path);
        const int count = 5;
        var images = SyntheticImages.Uniform(seed: 3, count, Config.Input);
        var model = setup.Model;

        double[] Layer(string name, double[] x, bool relu)
        {
            var w = file.Get(name + ".weight", path);
            var b = file.Get(name + ".bias", path).ToDoubles();
            var wv = w.ToDoubles();
            int outF = w.Shape[0], inF = w.Shape[1];
            var y = new double[outF];
            for (int o = 0; o < outF; o++)
            {
                double s = b[o];
                for (int i = 0; i < inF; i++) s += wv[o * inF + i] * x[i];
                y[o] = relu ? Math.Max(0, s) : s;
            }
            return y;
        }

        var modelMu = model.EncodeMeans(images, count);
        UploadAndEncode(model, images, count);
        var modelLogVar = new float[count * Config.Latent];
        setup.Backend.Download(model.LogVar.Slice(0, modelLogVar.Length), modelLogVar);
        var reconstructions = model.Reconstruct(images, count);

        int l = Config.Latent, d = Config.Input;
        for (int n = 0; n < count; n++)
        {
            var h = images.AsSpan(n * d, d).ToArray().Select(x => (double)x).ToArray();
            for (int i = 0; i < Config.Hidden.Length; i++) h = Layer($"enc.{i}", h, relu: true);
            var mu = Layer("mu", h, relu: false);
            var logVar = Layer("logvar", h, relu: false);
            var z = mu;
            for (int i = 0; i < Config.Hidden.Length; i++) z = Layer($"dec.{i}", z, relu: true);
            var logits = Layer("out", z, relu: false);
            var probabilities = logits.Select(x => (float)(1 / (1 + Math.Exp(-x)))).ToArray();
            Tolerance.AssertClose($"mu of image {n}", modelMu.AsSpan(n * l, l), mu.Select(x => (float)x).ToArray(), 1e-5, 1e-4);
            Tolerance.AssertClose($"logvar of image {n}", modelLogVar.AsSpan(n * l, l), logVar.Select(x => (float)x).ToArray(), 1e-5, 1e-4);
            Tolerance.AssertClose($"reconstruction of image {n}", reconstructions.AsSpan(n * d, d), probabilities, 1e-5, 1e-4);
        }

        static void UploadAndEncode(VaeModel model, float[] images, int count)
        {
            model.Backend.Upload<float>(images, model.Input.Slice(0, images.Length));
            model.Encode(count);
        }
    }

    [Fact]
    public void Weights_moments_counters_options_and_history_round_trip()
    {
        using var folder = new TempFolder();
        string path = folder.File("vae.safetensors");
        using var setup = TrainedAndSaved(path, epochs: 2);
        var checkpoint = Checkpoint.Read(path);
        Assert.Equal(path, checkpoint.Path);
        Assert.Equal(Config, checkpoint.Config);
        Assert.True(checkpoint.HasOptimizerState);
        Assert.Equal(setup.Trainer.Options, checkpoint.Options);
        var (want, got) = (setup.Trainer.State, checkpoint.State);
        Assert.Equal(8, want.Step);   // 2 epochs of ceil(100 / 32) = 4 steps
        Assert.Equal(want.Step, got.Step);
        Assert.Equal(want.Epoch, got.Epoch);
        Assert.Equal(want.RngOffset, got.RngOffset);
        Assert.Equal(want.History, got.History);   // records compare every double exactly, seconds included
        Assert.Equal("8", checkpoint.File.Metadata["step"]);
        Assert.Equal(Checkpoint.Format, checkpoint.File.Metadata["format"]);
        Assert.Equal(Checkpoint.Version, checkpoint.File.Metadata["version"]);

        using var backend = Backends.Create("reference");
        using var loaded = new VaeModel(backend, Config, capacity: 7);   // capacity is not part of the checkpoint
        checkpoint.LoadInto(loaded, withOptimizerState: true);
        Tolerance.AssertBitwiseEqual("parameters", Download(loaded.Parameters.Parameters, backend), setup.Parameters());
        Tolerance.AssertBitwiseEqual("Adam m", Download(loaded.Parameters.AdamM, backend), setup.AdamM());
        Tolerance.AssertBitwiseEqual("Adam v", Download(loaded.Parameters.AdamV, backend), setup.AdamV());
        Assert.All(Download(loaded.Parameters.Gradients, backend), g => Assert.Equal(0f, g));
        Assert.Contains(setup.AdamV(), v => v > 0);
    }

    [Fact]
    public void Weights_only_checkpoints_load_without_optimizer_state_and_refuse_to_resume()
    {
        using var folder = new TempFolder();
        string path = folder.File("weights.safetensors");
        using var setup = TrainedAndSaved(folder.File("full.safetensors"));
        Checkpoint.Save(path, setup.Model, options: null, state: null);
        var checkpoint = Checkpoint.Read(path);
        Assert.Null(checkpoint.Options);
        Assert.False(checkpoint.HasOptimizerState);
        Assert.DoesNotContain(checkpoint.File.Tensors, t => t.Name.StartsWith("optim.", StringComparison.Ordinal));
        Assert.Equal(PyTorchStateDict(Config).Count, checkpoint.File.Tensors.Count);

        using var backend = Backends.Create("cpu-1");
        using var model = new VaeModel(backend, Config, capacity: 4);
        checkpoint.LoadInto(model, withOptimizerState: false);
        Tolerance.AssertBitwiseEqual("parameters", Download(model.Parameters.Parameters, backend), setup.Parameters());
        var e = Assert.Throws<InvalidDataException>(() => checkpoint.LoadInto(model, withOptimizerState: true));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains("no optimizer state", e.Message, StringComparison.Ordinal);
    }

    // ------------------------------------------------------------------ bad checkpoints

    /// <summary>Rewrites the checkpoint at <paramref name="path"/> with changed metadata and tensors.</summary>
    static void Rewrite(string path, Action<Dictionary<string, string>> metadata, Func<List<SafeTensor>, List<SafeTensor>> tensors)
    {
        var file = SafeTensorsFile.Read(path);
        var m = new Dictionary<string, string>(file.Metadata, StringComparer.Ordinal);
        metadata(m);
        SafeTensorsFile.Write(path, m, tensors(file.Tensors.ToList()));
    }

    static List<SafeTensor> Replace(List<SafeTensor> tensors, SafeTensor replacement) =>
        tensors.Select(t => t.Name == replacement.Name ? replacement : t).ToList();

    static InvalidDataException ReadFails(string path, params string[] expected)
    {
        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Read(path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        foreach (var part in expected) Assert.Contains(part, e.Message, StringComparison.Ordinal);
        return e;
    }

    [Fact]
    public void Missing_config_metadata()
    {
        using var folder = new TempFolder();
        string path = folder.File("vae.safetensors");
        using var setup = TrainedAndSaved(path);
        Rewrite(path, m => m.Remove("config"), t => t);
        ReadFails(path, "no 'config' metadata");
    }

    [Fact]
    public void Wrong_format_or_version()
    {
        using var folder = new TempFolder();
        string path = folder.File("vae.safetensors");
        using var setup = TrainedAndSaved(path);
        Rewrite(path, m => m["format"] = "gpt-checkpoint", t => t);
        ReadFails(path, "format is 'gpt-checkpoint'", "expected 'vae-checkpoint'");
        Rewrite(path, m => { m["format"] = Checkpoint.Format; m["version"] = "2"; }, t => t);
        ReadFails(path, "version 2 is not supported");
    }

    [Theory]
    [InlineData("config", "{\"input\": 64}", "model configuration")]
    [InlineData("training", "{\"epochs\": 3}", "training metadata")]
    [InlineData("training", "{\"epochs\":3,\"batch\":32,\"lr\":-1,\"beta1\":0.9,\"beta2\":0.999,\"eps\":1e-8,\"weight_decay\":0,\"decoupled\":false,\"clip\":0,\"seed\":1}", "training metadata")]
    [InlineData("step", "-4", "'step'")]
    [InlineData("rng_offset", "many", "'rng_offset'")]
    [InlineData("history", "[{\"epoch\": \"one\"}]", "history")]
    [InlineData("history", "[{\"epoch\": 1.5}]", "history")]
    [InlineData("history", "{", "history")]
    public void Corrupt_metadata(string key, string value, string expected)
    {
        using var folder = new TempFolder();
        string path = folder.File("vae.safetensors");
        using var setup = TrainedAndSaved(path);
        Rewrite(path, m => m[key] = value, t => t);
        ReadFails(path, expected);
    }

    [Fact]
    public void A_missing_tensor_is_named()
    {
        using var folder = new TempFolder();
        string path = folder.File("vae.safetensors");
        using var setup = TrainedAndSaved(path);
        var before = setup.Parameters();
        Rewrite(path, _ => { }, t => t.Where(x => x.Name != "dec.1.bias").ToList());
        var checkpoint = Checkpoint.Read(path);
        var e = Assert.Throws<InvalidDataException>(() => checkpoint.LoadInto(setup.Model, withOptimizerState: false));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains("'dec.1.bias' is missing", e.Message, StringComparison.Ordinal);
        Tolerance.AssertBitwiseEqual("parameters after the failed load", setup.Parameters(), before);
    }

    [Fact]
    public void A_checkpoint_of_another_configuration_names_both_configurations()
    {
        using var folder = new TempFolder();
        string path = folder.File("vae.safetensors");
        using var other = TrainedAndSaved(path, new VaeConfig(64, [32], 6));
        var checkpoint = Checkpoint.Read(path);
        using var setup = TrainedAndSaved(folder.File("mine.safetensors"));
        var before = setup.Parameters();
        var e = Assert.Throws<InvalidDataException>(() => checkpoint.LoadInto(setup.Model, withOptimizerState: true));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains("64-32-6", e.Message, StringComparison.Ordinal);
        Assert.Contains("64-24-16-6", e.Message, StringComparison.Ordinal);
        Tolerance.AssertBitwiseEqual("parameters after the failed load", setup.Parameters(), before);
    }

    [Fact]
    public void A_tensor_of_the_wrong_shape_names_the_tensor_and_both_shapes()
    {
        // The config says 64-24-16-6 but enc.0.weight was stored transposed.
        using var folder = new TempFolder();
        string path = folder.File("vae.safetensors");
        using var setup = TrainedAndSaved(path);
        var before = setup.Parameters();
        Rewrite(path, _ => { }, t => Replace(t, SafeTensor.FromFloats("enc.0.weight", new float[24 * 64], 64, 24)));
        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Read(path).LoadInto(setup.Model, withOptimizerState: false));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains("'enc.0.weight'", e.Message, StringComparison.Ordinal);
        Assert.Contains("(64, 24)", e.Message, StringComparison.Ordinal);
        Assert.Contains("(24, 64)", e.Message, StringComparison.Ordinal);
        Tolerance.AssertBitwiseEqual("parameters after the failed load", setup.Parameters(), before);
    }

    [Fact]
    public void A_tensor_of_another_dtype_is_refused()
    {
        using var folder = new TempFolder();
        string path = folder.File("vae.safetensors");
        using var setup = TrainedAndSaved(path);
        Rewrite(path, _ => { }, t => Replace(t, new SafeTensor("mu.bias", SafeTensorType.F64, [6], new byte[48])));
        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Read(path).LoadInto(setup.Model, withOptimizerState: false));
        Assert.Contains("'mu.bias' is F64", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("out.weight", false)]
    [InlineData("optim.v.out.bias", true)]   // the very last tensor LoadInto reads
    public void A_nan_anywhere_fails_the_load_before_anything_is_uploaded(string poisoned, bool withOptimizerState)
    {
        using var folder = new TempFolder();
        string path = folder.File("vae.safetensors");
        using var setup = TrainedAndSaved(path);
        // The model to load into holds different values (another seed), so an upload would show.
        using var target = new TrainingSetup(Backends.Create("cpu-1"), Config, Options with { Seed = 1234 }, new TrainingState(),
            SyntheticImages.Uniform(seed: 4, 40, Config.Input), null);
        target.Trainer.RunEpoch(null);
        var (parameters, m, v) = (target.Parameters(), target.AdamM(), target.AdamV());
        Rewrite(path, _ => { }, tensors => tensors.Select(t =>
        {
            if (t.Name != poisoned) return t;
            var values = t.ToFloats();
            values[values.Length - 1] = float.NaN;
            return SafeTensor.FromFloats(t.Name, values, t.Shape);
        }).ToList());

        var checkpoint = Checkpoint.Read(path);
        var e = Assert.Throws<InvalidDataException>(() => checkpoint.LoadInto(target.Model, withOptimizerState));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains($"'{poisoned}' contains NaN", e.Message, StringComparison.Ordinal);
        Tolerance.AssertBitwiseEqual("parameters", target.Parameters(), parameters);
        Tolerance.AssertBitwiseEqual("Adam m", target.AdamM(), m);
        Tolerance.AssertBitwiseEqual("Adam v", target.AdamV(), v);
    }

    // ------------------------------------------------------------------ atomic saves

    [Fact]
    public void Saving_over_a_checkpoint_replaces_it_whole_or_not_at_all()
    {
        using var folder = new TempFolder();
        string path = folder.File("vae.safetensors");
        using var setup = TrainedAndSaved(path);
        var before = File.ReadAllBytes(path);

        // A later save whose write fails midway (injected into the same atomic writer Checkpoint.Save uses).
        setup.Trainer.RunEpoch(null);
        var e = Assert.Throws<IOException>(() => AtomicFile.Write(path, stream =>
        {
            Checkpoint.Save(folder.File("elsewhere.safetensors"), setup.Model, setup.Trainer.Options, setup.Trainer.State);
            var next = File.ReadAllBytes(folder.File("elsewhere.safetensors"));
            stream.Write(next, 0, next.Length / 2);
            throw new IOException("simulated: the disk is full");
        }));
        Assert.Contains("disk is full", e.Message, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal(["elsewhere.safetensors", "vae.safetensors"], folder.FileNames());
        Assert.Equal(1, Checkpoint.Read(path).State.Epoch);

        // A save that fails for real at the rename: the destination name is taken by a directory.
        string taken = folder.File("taken");
        Directory.CreateDirectory(taken);
        Assert.ThrowsAny<IOException>(() => Checkpoint.Save(taken, setup.Model, setup.Trainer.Options, setup.Trainer.State));
        Assert.True(Directory.Exists(taken));
        Assert.Equal(["elsewhere.safetensors", "vae.safetensors"], folder.FileNames());

        // The next successful save replaces the file in one piece.
        Checkpoint.Save(path, setup.Model, setup.Trainer.Options, setup.Trainer.State);
        Assert.Equal(2, Checkpoint.Read(path).State.Epoch);
        Assert.Equal(File.ReadAllBytes(folder.File("elsewhere.safetensors")), File.ReadAllBytes(path));
        Assert.Equal(["elsewhere.safetensors", "vae.safetensors"], folder.FileNames());
    }

    // ------------------------------------------------------------------ an independent reader

    const string NumpyReader = """
import json, struct, sys
import numpy as np
path = sys.argv[1]
with open(path, "rb") as f:
    blob = f.read()
(n,) = struct.unpack("<Q", blob[:8])
header = json.loads(blob[8:8 + n].decode("utf-8"))
data = blob[8 + n:]
types = {"F32": "<f4", "F64": "<f8", "I32": "<i4", "I64": "<i8", "U8": "u1"}
result = {"step": header["__metadata__"]["step"], "tensors": {}}
for name, entry in header.items():
    if name == "__metadata__":
        continue
    begin, end = entry["data_offsets"]
    array = np.frombuffer(data[begin:end], dtype=types[entry["dtype"]]).reshape(entry["shape"])
    result["tensors"][name] = {"shape": list(array.shape), "sum": float(array.astype(np.float64).sum()), "abs": float(np.abs(array.astype(np.float64)).sum())}
print(json.dumps(result))
""";

    [Fact]
    public void Python_with_numpy_reads_the_same_tensors_and_step()
    {
        string? python = FindPythonWithNumpy();
        if (python is null)
        {
            output.WriteLine("SKIPPED: no python3 with numpy found (tried /usr/bin/python3 and python3 on PATH); the cross-language check did not run.");
            return;
        }
        using var folder = new TempFolder();
        string path = folder.File("vae.safetensors");
        using var setup = TrainedAndSaved(path, epochs: 2);
        string script = folder.File("read.py");
        File.WriteAllText(script, NumpyReader);
        var (exit, stdout, stderr) = RunProcess(python, [script, path]);
        Assert.True(exit == 0, $"{python} failed ({exit}): {stderr}");

        using var json = JsonDocument.Parse(stdout);
        var root = json.RootElement;
        Assert.Equal(setup.Trainer.State.Step.ToString(CultureInfo.InvariantCulture), root.GetProperty("step").GetString());
        var file = SafeTensorsFile.Read(path);
        var seen = root.GetProperty("tensors");
        Assert.Equal(file.Tensors.Count, seen.EnumerateObject().Count());
        foreach (var t in file.Tensors)
        {
            var entry = seen.GetProperty(t.Name);
            Assert.Equal(t.Shape, entry.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()));
            var values = t.ToDoubles();
            double sum = values.Sum(), abs = values.Sum(Math.Abs);
            Assert.True(abs > 0, $"{t.Name} is all zero");
            Assert.Equal(abs, entry.GetProperty("abs").GetDouble(), 1e-12 * abs);
            Assert.Equal(sum, entry.GetProperty("sum").GetDouble(), 1e-12 * abs);
        }
        output.WriteLine($"{python} read {file.Tensors.Count} tensors and step {root.GetProperty("step").GetString()}.");
    }

    const string TorchLoader = """
import json, struct, sys
import numpy as np
import torch
from torch import nn

class Vae(nn.Module):
    def __init__(self, d, hidden, latent):
        super().__init__()
        enc = [d] + hidden
        self.enc = nn.ModuleList([nn.Linear(a, b) for a, b in zip(enc[:-1], enc[1:])])
        self.mu = nn.Linear(enc[-1], latent)
        self.logvar = nn.Linear(enc[-1], latent)
        dec = [latent] + hidden[::-1]
        self.dec = nn.ModuleList([nn.Linear(a, b) for a, b in zip(dec[:-1], dec[1:])])
        self.out = nn.Linear(dec[-1], d)

    def encode(self, x):
        for layer in self.enc:
            x = torch.relu(layer(x))
        return self.mu(x), self.logvar(x)

    def decode(self, z):
        for layer in self.dec:
            z = torch.relu(layer(z))
        return torch.sigmoid(self.out(z))

path, images_path, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(path, "rb") as f:
    blob = f.read()
(n,) = struct.unpack("<Q", blob[:8])
header = json.loads(blob[8:8 + n].decode("utf-8"))
config = json.loads(header["__metadata__"]["config"])
model = Vae(config["input"], config["hidden"], config["latent"])
state = {}
for name, entry in header.items():
    if name == "__metadata__" or name.startswith("optim."):
        continue
    begin, end = entry["data_offsets"]
    array = np.frombuffer(blob[8 + n + begin:8 + n + end], dtype="<f4").reshape(entry["shape"])
    state[name] = torch.from_numpy(array.copy())
model.load_state_dict(state, strict=True)
x = torch.from_numpy(np.fromfile(images_path, dtype="<f4").reshape(count, config["input"]))
with torch.no_grad():
    mu, logvar = model.encode(x)
    reconstruction = model.decode(mu)
print(json.dumps({"keys": list(model.state_dict().keys()), "mu": mu.flatten().tolist(), "logvar": logvar.flatten().tolist(), "reconstruction": reconstruction.flatten().tolist()}))
""";

    [Fact]
    public void PyTorch_loads_the_weights_strictly_and_computes_the_same_outputs()
    {
        // A PyTorch module with attributes enc, mu, logvar, dec, out takes the checkpoint's weights with
        // load_state_dict(strict=True) (names and shapes must match exactly) and gives the model's mu, logvar and
        // reconstructions.
        string? python = FindPython("import numpy, torch");
        if (python is null)
        {
            output.WriteLine("SKIPPED: no python3 with numpy and torch found (tried /usr/bin/python3 and python3 on PATH); the PyTorch check did not run.");
            return;
        }
        using var folder = new TempFolder();
        string path = folder.File("vae.safetensors");
        using var setup = TrainedAndSaved(path);
        const int count = 6;
        var images = SyntheticImages.Uniform(seed: 8, count, Config.Input);
        string imagesPath = folder.File("images.f32");
        File.WriteAllBytes(imagesPath, System.Runtime.InteropServices.MemoryMarshal.AsBytes(images.AsSpan()).ToArray());
        string script = folder.File("torch_load.py");
        File.WriteAllText(script, TorchLoader);
        var (exit, stdout, stderr) = RunProcess(python, [script, path, imagesPath, count.ToString(CultureInfo.InvariantCulture)]);
        Assert.True(exit == 0, $"{python} failed ({exit}): {stderr}");

        using var json = JsonDocument.Parse(stdout);
        var root = json.RootElement;
        float[] Floats(string key) => root.GetProperty(key).EnumerateArray().Select(e => (float)e.GetDouble()).ToArray();
        Assert.Equal(PyTorchStateDict(Config).Select(t => t.Name), root.GetProperty("keys").EnumerateArray().Select(e => e.GetString()));

        var model = setup.Model;
        var mu = model.EncodeMeans(images, count);
        var logVar = new float[count * Config.Latent];
        setup.Backend.Download(model.LogVar.Slice(0, logVar.Length), logVar);   // EncodeMeans ran all rows in one call
        Tolerance.AssertClose("mu vs PyTorch", mu, Floats("mu"), 1e-5, 1e-4);
        Tolerance.AssertClose("logvar vs PyTorch", logVar, Floats("logvar"), 1e-5, 1e-4);
        Tolerance.AssertClose("reconstructions vs PyTorch", model.Reconstruct(images, count), Floats("reconstruction"), 1e-5, 1e-4);
    }

    static string? FindPythonWithNumpy() => FindPython("import numpy");

    static string? FindPython(string imports)
    {
        foreach (var candidate in new[] { "/usr/bin/python3", "python3" })
        {
            try
            {
                if (RunProcess(candidate, ["-c", imports]).Exit == 0) return candidate;
            }
            catch (System.ComponentModel.Win32Exception)
            {
                // Not installed.
            }
        }
        return null;
    }

    static (int Exit, string Stdout, string Stderr) RunProcess(string file, string[] arguments)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in arguments) info.ArgumentList.Add(a);
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {file}");
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout, stderr.Result);
    }

    static float[] Download(DeviceSpan<float> view, IComputeBackend backend)
    {
        var host = new float[view.Length];
        backend.Download(view, host);
        return host;
    }
}
