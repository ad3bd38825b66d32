// Small synthetic training setups for the model, trainer and checkpoint tests: seeded image sets (uniform pixels with
// exact 0s and 1s, or learnable prototype pictures plus noise), a backend + model + datasets + trainer bundle, and a
// temporary folder that removes itself.
using Vae.Models;
using Vae.Training;

namespace Vae.Tests.Support;

public static class SyntheticImages
{
    /// <summary>(count, pixels) uniform in [0, 1), with about 15% exact 0 and 10% exact 1 (the BCE edge cases).</summary>
    public static float[] Uniform(int seed, int count, int pixels)
    {
        var rng = new System.Random(seed);
        var images = new float[count * pixels];
        for (int i = 0; i < images.Length; i++)
        {
            double u = rng.NextDouble();
            images[i] = u < 0.15 ? 0f : u < 0.25 ? 1f : (float)rng.NextDouble();
        }
        return images;
    }

    /// <summary>
    /// Learnable images: each is one of <paramref name="prototypes"/> random pictures (pixels mostly near 0 or 1) plus
    /// uniform noise of +-<paramref name="noise"/>, clamped to [0, 1].
    /// </summary>
    public static float[] Prototypes(int seed, int count, int pixels, int prototypes, float noise)
    {
        var rng = new System.Random(seed);
        var bases = new float[prototypes * pixels];
        for (int i = 0; i < bases.Length; i++) bases[i] = rng.NextDouble() < 0.4 ? 0.9f : 0.05f;
        var images = new float[count * pixels];
        for (int n = 0; n < count; n++)
        {
            int p = rng.Next(prototypes);
            for (int i = 0; i < pixels; i++)
                images[n * pixels + i] = Math.Clamp(bases[p * pixels + i] + noise * (float)(2 * rng.NextDouble() - 1), 0f, 1f);
        }
        return images;
    }
}

/// <summary>One training run's objects on one backend; the model starts from InitializeParameters(options.Seed) unless a checkpoint is loaded later.</summary>
public class TrainingSetup<TModel> : IDisposable where TModel : ITrainableModel
{
    public TrainingSetup(IComputeBackend backend, IModelConfig config, TrainingOptions options, TrainingState state, float[] train, float[]? test, bool initialize = true)
    {
        ArgumentNullException.ThrowIfNull(config);
        Backend = backend;
        Model = (TModel)config.Create(backend, options.BatchSize);
        if (initialize) Model.InitializeParameters(options.Seed);
        Train = new DeviceDataset(backend, train, train.Length / config.Input, config.Input);
        Test = test is null ? null : new DeviceDataset(backend, test, test.Length / config.Input, config.Input);
        Trainer = new Trainer(Model, Train, Test, options, state);
    }

    public IComputeBackend Backend { get; }
    public TModel Model { get; }
    public DeviceDataset Train { get; }
    public DeviceDataset? Test { get; }
    public Trainer Trainer { get; }

    public float[] Parameters() => Download(Model.Parameters.Parameters);
    public float[] AdamM() => Download(Model.Parameters.AdamM);
    public float[] AdamV() => Download(Model.Parameters.AdamV);

    public float[] Download(DeviceSpan<float> view)
    {
        var host = new float[view.Length];
        Backend.Download(view, host);
        return host;
    }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (!disposing) return;
        Trainer.Dispose();
        Train.Dispose();
        Test?.Dispose();
        Model.Dispose();
        Backend.Dispose();
    }
}

/// <summary>A training run of the plain VAE (<see cref="TrainingSetup{TModel}"/> of a <see cref="VaeModel"/>).</summary>
public sealed class TrainingSetup(IComputeBackend backend, VaeConfig config, TrainingOptions options, TrainingState state, float[] train, float[]? test, bool initialize = true)
    : TrainingSetup<VaeModel>(backend, config, options, state, train, test, initialize);

/// <summary>A fresh folder under the system temp folder, deleted with everything in it on Dispose.</summary>
public sealed class TempFolder : IDisposable
{
    public TempFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "vae-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>Names of every file in the folder (hidden temp files included), sorted.</summary>
    public string[] FileNames() => Directory.GetFiles(Path).Select(System.IO.Path.GetFileName).OrderBy(n => n, StringComparer.Ordinal).ToArray()!;

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
