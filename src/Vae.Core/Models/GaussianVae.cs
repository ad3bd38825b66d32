// The parts that the Gaussian-latent members of the family (the VAE, the conditional VAE) build and compute the same
// way, so each model keeps only its own wiring:
// - the parameter layout: ReLU encoder layers "enc.i", the (2L, H) heads layer [mu | logvar], ReLU decoder layers
//   "dec.i", the output layer "out"; every weight first, then every bias, so the bias gradients are one region;
// - the gradient through the reparameterization z = mu + exp(logvar / 2) eps and the KL to N(0, I) (optionally floored
//   by free bits) into the heads output [mu | logvar];
// - the PyTorch state_dict names of the heads layer, which PyTorch holds as two layers mu and logvar.
using Vae.Nn;

namespace Vae.Models;

public static class GaussianVae
{
    /// <summary>
    /// Declares enc.i (encSizes[i] -> encSizes[i + 1]), heads (encSizes[^1] -> 2 latent), dec.i (decSizes[i] ->
    /// decSizes[i + 1]) and out (decSizes[^1] -> output): all weights, then all biases. Returns where the biases start.
    /// </summary>
    public static int DeclareParameters(TensorLayout layout, int[] encSizes, int[] decSizes, int latent, int output)
    {
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(encSizes);
        ArgumentNullException.ThrowIfNull(decSizes);
        ReluMlp.AddWeights(layout, "enc", encSizes);
        layout.Add("heads.weight", 2 * latent, encSizes[^1]);
        ReluMlp.AddWeights(layout, "dec", decSizes);
        layout.Add("out.weight", output, decSizes[^1]);
        int firstBias = layout.TotalLength;
        ReluMlp.AddBiases(layout, "enc", encSizes);
        layout.Add("heads.bias", 2 * latent);
        ReluMlp.AddBiases(layout, "dec", decSizes);
        layout.Add("out.bias", output);
        return firstBias;
    }

    /// <summary>The argument checks of Backward(rows, klWeight, freeBits).</summary>
    public static void CheckKlArguments(float klWeight, float freeBits)
    {
        if (!float.IsFinite(klWeight)) throw new ArgumentOutOfRangeException(nameof(klWeight), klWeight, "The KL weight must be finite.");
        if (!(freeBits >= 0 && float.IsFinite(freeBits)))
            throw new ArgumentOutOfRangeException(nameof(freeBits), freeBits, "Free bits must be finite and >= 0 nats per latent dimension (0 = off).");
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

    /// <summary>mu.weight (L, top), mu.bias, logvar.weight, logvar.bias: the halves of "{heads}.weight" (2L, top) and "{heads}.bias" (2L).</summary>
    public static void AddNamedHeads(List<NamedTensor> named, TensorLayout layout, string heads, int latent, int top)
    {
        ArgumentNullException.ThrowIfNull(named);
        ArgumentNullException.ThrowIfNull(layout);
        var weight = layout[heads + ".weight"];
        var bias = layout[heads + ".bias"];
        named.Add(new NamedTensor("mu.weight", [latent, top], weight.Offset, latent * top));
        named.Add(new NamedTensor("mu.bias", [latent], bias.Offset, latent));
        named.Add(new NamedTensor("logvar.weight", [latent, top], weight.Offset + latent * top, latent * top));
        named.Add(new NamedTensor("logvar.bias", [latent], bias.Offset + latent, latent));
    }
}
