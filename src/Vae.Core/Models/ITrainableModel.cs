// The contract between a member of the VAE family (plain/beta VAE, conditional, hierarchical, VQ-VAE) and everything
// generic around it: the Trainer (one step = noise, Forward, Backward, clipping, Adam, AfterOptimizerStep), the test-set
// Evaluation, checkpoints and the CLI's pictures. A model owns its preallocated buffers (parameters, gradients and Adam
// moments in one ParameterStore; activations for Capacity rows), talks only to IComputeBackend, and allocates nothing
// in Forward, Backward or AfterOptimizerStep, so the trainer can capture a step as a CUDA graph.
//
// Loss convention for every model, in nats per image: LossTotals = [sum over rows of the reconstruction term, sum
// over rows of the KL term(s)] after Forward; the reported loss is recon + Beta * KL (the negative ELBO for beta 1).
// A VQ-VAE's "KL" is the constant log(codes) per latent position of its uniform prior, so its test loss is also an
// upper bound on -log p(x); its codebook and commitment losses are training terms, not reported here.
namespace Vae.Models;

/// <summary>A model's configuration: what a checkpoint stores (as JSON) and what builds the model again.</summary>
public interface IModelConfig
{
    /// <summary>"vae", "cvae", "hvae", "vqvae": the "model" field of the JSON.</summary>
    string Kind { get; }
    /// <summary>Values per image (pixels).</summary>
    int Input { get; }
    /// <summary>The KL weight of the objective (1 = the ELBO).</summary>
    float Beta { get; }
    /// <summary>The configuration as one JSON object, "model": Kind first.</summary>
    string ToJson();
    /// <summary>The layer sizes for people, e.g. "784-400-400-20" (ToString adds the objective).</summary>
    string Describe();
    /// <summary>A fresh model of this configuration on <paramref name="backend"/> for up to <paramref name="capacity"/> rows per call (parameters not initialized).</summary>
    ITrainableModel Create(IComputeBackend backend, int capacity);
}

/// <summary>
/// A group of latent variables whose statistics the evaluation reports: posterior means (for variance, active units
/// and correlation) and its share of the KL term.
/// </summary>
/// <param name="Name">"z" for a one-layer model, "z1", "z2" for a hierarchical one.</param>
/// <param name="Width">Latent dimensions in the group.</param>
/// <param name="Means">(Capacity, Width) the posterior means, written by Forward.</param>
/// <param name="KlTotal">(1) the sum over the rows of this group's KL nats, written by Forward.</param>
public sealed record LatentGroup(string Name, int Width, DeviceSpan<float> Means, DeviceSpan<float> KlTotal);

public interface ITrainableModel : IDisposable
{
    IModelConfig Config { get; }
    IComputeBackend Backend { get; }
    /// <summary>The most rows one call handles (the buffers were carved for this many).</summary>
    int Capacity { get; }
    ParameterStore Parameters { get; }
    /// <summary>The PyTorch state_dict view of the parameters (and of non-trained state such as EMA statistics), in state_dict order.</summary>
    IReadOnlyList<NamedTensor> NamedTensors { get; }
    long ParameterCount { get; }

    /// <summary>(Capacity, Config.Input) the images of a batch, values in [0, 1].</summary>
    DeviceSpan<float> Input { get; }
    /// <summary>Classes of the one-hot condition; 0 for an unconditional model.</summary>
    int Classes { get; }
    /// <summary>(Capacity, Classes) one-hot labels of the batch's images (empty when Classes is 0).</summary>
    DeviceSpan<float> Condition { get; }
    /// <summary>Standard normal numbers one training row consumes (0 for a model without sampling in its step).</summary>
    int NoisePerRow { get; }
    /// <summary>(Capacity, NoisePerRow) the reparameterization noise Forward reads.</summary>
    DeviceSpan<float> Noise { get; }

    /// <summary>[sum over rows of recon nats, sum over rows of KL nats] after Forward.</summary>
    DeviceSpan<float> LossTotals { get; }
    /// <summary>(Capacity) reconstruction nats per row after Forward.</summary>
    DeviceSpan<float> ReconPerSample { get; }
    /// <summary>(Capacity) KL nats per row after Forward (all groups together).</summary>
    DeviceSpan<float> KlPerSample { get; }
    /// <summary>The latent groups the evaluation reports (none for a model without Gaussian latents).</summary>
    IReadOnlyList<LatentGroup> LatentGroups { get; }

    /// <summary>Initializes every parameter from a counter-based stream of <paramref name="seed"/> (the same on every backend) and zeroes gradients and Adam moments.</summary>
    void InitializeParameters(ulong seed);

    /// <summary>The training forward pass on the first <paramref name="rows"/> rows of Input, Condition and Noise: writes the losses.</summary>
    void Forward(int rows);

    /// <summary>
    /// After Forward: writes into Parameters.Gradients exactly the gradient of this batch's objective, mean over the rows
    /// of recon + klWeight * KL (KL floored at <paramref name="freeBits"/> nats per latent dimension when &gt; 0), plus any
    /// model-specific training terms (a VQ-VAE's codebook and commitment losses). No separate zeroing pass is needed.
    /// </summary>
    void Backward(int rows, float klWeight, float freeBits);

    /// <summary>Device work after the optimizer step (e.g. EMA codebook updates); allocation-free and capturable. Most models do nothing.</summary>
    void AfterOptimizerStep(int rows);

    /// <summary>Decodes <paramref name="count"/> draws from the prior; a conditional model needs one label per sample. Returns (count, Input) probabilities.</summary>
    float[] Sample(int count, ulong seed, ReadOnlySpan<int> labels = default);

    /// <summary>Reconstructions (count, Input) of images (count, Input) through the posterior mean (no sampling).</summary>
    float[] Reconstruct(ReadOnlySpan<float> images, int count, ReadOnlySpan<int> labels = default);

    /// <summary><paramref name="steps"/> images decoded along the line between the latent codes of images a and b (both ends included).</summary>
    float[] Interpolate(ReadOnlySpan<float> a, ReadOnlySpan<float> b, int steps, int labelA = -1, int labelB = -1);
}

/// <summary>A model that does host-side maintenance between epochs (a VQ-VAE's dead-code restarts): the Trainer calls it after each epoch's last step.</summary>
public interface IEpochEndHook
{
    /// <summary>Called once after epoch <paramref name="epoch"/> (1-based) with the training data; may allocate and synchronize.</summary>
    void OnEpochEnd(Training.DeviceDataset train, int epoch, ulong seed);
}
