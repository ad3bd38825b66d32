// The parts that the Gaussian-latent members of the family build and compute the same way, so each model keeps only
// its own wiring:
// - the networks of the one-layer VAEs (the VAE, the conditional VAE): ReLU encoder layers "enc.i" ending in the
//   (2L, H) heads layer [mu | logvar], ReLU decoder layers "dec.i" ending in the output layer "out" (Nn/Mlp; PyTorch
//   holds the heads layer as two layers mu and logvar, which Mlp.NamedTensors names);
// - the reparameterization z = mu + exp(logvar / 2) eps, and for importance weights the same sample with sigma * eps
//   beside it (the posterior density without the cancellation of z - mu);
// - the gradient through the reparameterization and the KL to N(0, I) (optionally floored by free bits) into the heads
//   output [mu | logvar] (the one-layer VAEs' latent, the hierarchical VAE's top layer z2);
// - the ELBO's forward pass of the one-layer VAEs, and IGaussianVae, what they expose to it and to their shared
//   importance weights (VaeImportanceWeights).
using Vae.Nn;

namespace Vae.Models;

public static class GaussianVae
{
    /// <summary>
    /// The two networks of a one-layer Gaussian VAE: the encoder, hidden layers enc.i of the widths <paramref name="hidden"/>
    /// from <paramref name="encoderInput"/> values, then the (2 latent) heads layer [mu | logvar]; the decoder, hidden
    /// layers dec.i of the widths in reverse from <paramref name="decoderInput"/> values, then the layer "out" of
    /// <paramref name="output"/> logits.
    /// </summary>
    public static (Mlp Encoder, Mlp Decoder) Networks(int encoderInput, int[] hidden, int latent, int decoderInput, int output)
    {
        ArgumentNullException.ThrowIfNull(hidden);
        return (Mlp.Stack("enc", encoderInput, hidden, "heads", 2 * latent),
            Mlp.Stack("dec", decoderInput, hidden.Reverse().ToArray(), "out", output));
    }

    /// <summary>
    /// The ELBO's forward pass of a one-layer VAE on its Input (Condition) and noise: encode, sample z, decode, then
    /// ReconPerSample, KlPerSample (KL to N(0, I)) and LossTotals = [sum recon, sum KL] over the rows.
    /// </summary>
    public static void ForwardElbo(IGaussianVae model, int rows)
    {
        ArgumentNullException.ThrowIfNull(model);
        var backend = model.Backend;
        model.Encode(rows);
        model.Reparameterize(rows);
        model.Decode(rows, probabilities: model.Reconstruction == ReconstructionLoss.Mse);
        ReconstructionTerm.Forward(backend, model.Reconstruction, model.Logits, model.Prediction, model.Input, model.ReconPerSample, model.LossTotals.Slice(0, 1),
            rows, model.Config.Input);
        backend.KlStandardNormalForward(model.Mu, model.LogVar, model.KlPerSample, model.LossTotals.Slice(1, 1), rows, model.Latent);
    }

    /// <summary>z = mu + exp(logVar / 2) * eps for the first <paramref name="n"/> values (log-variance clamped, see <see cref="Reparameterization"/>).</summary>
    public static void Reparameterize(IComputeBackend backend, DeviceSpan<float> mu, DeviceSpan<float> logVar, DeviceSpan<float> eps, DeviceSpan<float> z, int n)
    {
        ArgumentNullException.ThrowIfNull(backend);
        backend.ReparameterizeForward(mu.Slice(0, n), logVar.Slice(0, n), eps.Slice(0, n), z.Slice(0, n), Reparameterization.MinLogVar, Reparameterization.MaxLogVar);
    }

    /// <summary>
    /// A posterior sample for an importance weight, first <paramref name="n"/> values: z = mu + sigma * eps and
    /// sigmaEps = sigma * eps (mean <paramref name="zeros"/>, all 0), which is z - mu without its cancellation in float,
    /// so -log q(z | x) = GaussianNll(0, logVar, sigmaEps).
    /// </summary>
    public static void SampleWithOffset(IComputeBackend backend, DeviceSpan<float> mu, DeviceSpan<float> logVar, DeviceSpan<float> eps, DeviceSpan<float> zeros,
        DeviceSpan<float> z, DeviceSpan<float> sigmaEps, int n)
    {
        Reparameterize(backend, mu, logVar, eps, z, n);
        Reparameterize(backend, zeros, logVar, eps, sigmaEps, n);
    }

    /// <summary>
    /// Given dz (rows, latent), the gradient of the batch-mean reconstruction term with respect to z: writes dHeads
    /// (rows, 2 latent) = [dMu | dLogVar], the gradient through the reparameterization plus
    /// <paramref name="klWeight"/> / rows times the KL's (each latent's batch-mean KL floored at
    /// <paramref name="freeBits"/> when &gt; 0, which writes <paramref name="klPerDimension"/>). dMu and dLogVar are scratch.
    /// </summary>
    public static void LatentBackward(IComputeBackend backend, DeviceSpan<float> mu, DeviceSpan<float> logVar, DeviceSpan<float> eps, DeviceSpan<float> dz,
        DeviceSpan<float> dMu, DeviceSpan<float> dLogVar, DeviceSpan<float> dHeads, DeviceSpan<float> klPerDimension, int rows, int latent, float klWeight, float freeBits)
    {
        ArgumentNullException.ThrowIfNull(backend);
        int n = rows * latent;
        float scale = klWeight * (1f / rows);   // as klWeight * (1 / rows): the same float as the reconstruction's scale times the weight
        backend.ReparameterizeBackward(logVar.Slice(0, n), eps.Slice(0, n), dz.Slice(0, n), dMu.Slice(0, n), dLogVar.Slice(0, n),
            Reparameterization.MinLogVar, Reparameterization.MaxLogVar);
        if (klWeight != 0f && freeBits > 0f)
            backend.KlFreeBitsBackward(mu, logVar, dMu, dLogVar, klPerDimension, rows, latent, scale, freeBits);
        else if (klWeight != 0f)
            backend.KlStandardNormalBackward(mu, logVar, dMu, dLogVar, rows, latent, scale);
        backend.Concat(dMu, dLogVar, dHeads, rows, latent, latent);
    }
}

/// <summary>
/// A VAE with one Gaussian latent layer and a decoder from it (VaeModel, CvaeModel, whose Condition joins both networks'
/// inputs when Classes &gt; 0): what their shared importance weights read.
/// </summary>
public interface IGaussianVae : ITrainableModel
{
    /// <summary>L, the latent size.</summary>
    int Latent { get; }
    ReconstructionLoss Reconstruction { get; }
    /// <summary>(Capacity, L) the posterior means and log-variances, written by <see cref="Encode"/>.</summary>
    DeviceSpan<float> Mu { get; }
    DeviceSpan<float> LogVar { get; }
    /// <summary>(Capacity, L) the latent codes <see cref="Decode"/> reads.</summary>
    DeviceSpan<float> Z { get; }
    DeviceSpan<float> Logits { get; }
    DeviceSpan<float> Prediction { get; }

    /// <summary>Input (and Condition) (rows, ...) -> Mu, LogVar (rows, L).</summary>
    void Encode(int rows);

    /// <summary>Z = Mu + exp(LogVar / 2) * noise for the first rows.</summary>
    void Reparameterize(int rows);

    /// <summary>Z (and Condition) (rows, ...) -> Logits (rows, Input), and Prediction = sigmoid(Logits) when <paramref name="probabilities"/>.</summary>
    void Decode(int rows, bool probabilities = true);
}
