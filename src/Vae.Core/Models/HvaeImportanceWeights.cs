// The hierarchical VAE's importance weights for the IWAE estimate of -log p(x) (Training/ImportanceSampling.cs), as
// for the two-stochastic-layer model of Burda et al.: a sample is a pair (z1, z2) drawn from the inference networks,
//   z1 = mu1(x) + sigma1(x) * eps1,  z2 = mu2(z1) + sigma2(z1) * eps2,
//   log w = log p(x | z1) + log p(z1 | z2) + log p(z2) - log q(z1 | x) - log q(z2 | z1).
// Each image is encoded once by q(z1 | x); for a chunk of samples the image rows of mu1, log-variance1 and x are
// replicated with GatherRows (repeated indices), the sample's noise row [eps1 | eps2] is split, z1 is reparameterized
// into the model's Z1, q(z2 | z1) and the reparameterized z2 run in the model's buffers, then p(z1 | z2) and the decoder,
// all in one batch of at most Capacity rows. The five terms come from the loss primitives (see
// GaussianImportanceWeights for how they are summed and for the MSE model's likelihood):
// - log p(x | z1) = -(the reconstruction term) (+ the Gaussian constant for MSE);
// - log p(z1 | z2) = -GaussianNll(muP(z2), lvP(z2), targets z1); log p(z2) = -GaussianNll(0, 0, z2);
// - log q(z1 | x) = -GaussianNll(0, lv1, sigma1 * eps1) and log q(z2 | z1) = -GaussianNll(0, lv2, sigma2 * eps2): the
//   posterior densities at their own samples without the cancellation of z - mu in float. Exact while the sampler's
//   log-variance clamp (Reparameterization) is inactive, as for any trained model.
// The estimate is of the generative model, whatever beta trained it.
using Vae.Training;

namespace Vae.Models;

public sealed class HvaeImportanceWeights : GaussianImportanceWeights
{
    readonly HvaeModel model;
    readonly DeviceBuffer buffer;
    readonly DeviceSpan<float> images, mu1, logVar1, eps1, eps2, scaled1, scaled2, zeros;

    /// <summary>Weights for <paramref name="model"/>; chunks of at most <paramref name="maxSamples"/> samples (0: the model's capacity).</summary>
    public HvaeImportanceWeights(HvaeModel model, int maxSamples = 0)
        : base(model, maxSamples, model?.NoisePerRow ?? 0, model?.Config.Reconstruction ?? ReconstructionLoss.Bce, modelTerms: 3, proposalTerms: 2)
    {
        this.model = model!;
        int c = MaxSamples, d = Input, l1 = model!.Config.Latent1, l2 = model.Config.Latent2;
        var layout = new TensorLayout();
        var eImages = layout.Add("x", c, d);
        var eMu1 = layout.Add("mu1", c, l1);
        var eLogVar1 = layout.Add("logvar1", c, l1);
        var eEps1 = layout.Add("eps1", c, l1);
        var eEps2 = layout.Add("eps2", c, l2);
        var eScaled1 = layout.Add("sigma1_eps1", c, l1);
        var eScaled2 = layout.Add("sigma2_eps2", c, l2);
        var eZeros = layout.Add("zeros", c, Math.Max(l1, l2));
        buffer = Backend.Allocate((long)layout.TotalLength * sizeof(float));   // zero-filled: "zeros" stays zero
        var flat = buffer.AsSpan<float>();
        images = TensorLayout.View(flat, eImages);
        mu1 = TensorLayout.View(flat, eMu1);
        logVar1 = TensorLayout.View(flat, eLogVar1);
        eps1 = TensorLayout.View(flat, eEps1);
        eps2 = TensorLayout.View(flat, eEps2);
        scaled1 = TensorLayout.View(flat, eScaled1);
        scaled2 = TensorLayout.View(flat, eScaled2);
        zeros = TensorLayout.View(flat, eZeros);
    }

    protected override void Encode(DeviceDataset data, int first, int count)
    {
        int n = count * Input;
        Backend.Copy(data.Images.Slice(first * Input, n), model.Input.Slice(0, n));
        model.Encode(count);   // Mu1, LogVar1 and Input now hold these images; the sampling passes leave them alone
    }

    protected override void WriteTerms(DeviceSpan<int> imageOfSample, DeviceSpan<float> noise, int samples)
    {
        int d = Input, l1 = model.Config.Latent1, l2 = model.Config.Latent2, n1 = samples * l1, n2 = samples * l2;
        var backend = Backend;

        // Replicate each sample's image: q(z1 | x)'s parameters and the pixels; split the noise rows.
        backend.GatherRows(model.Mu1, imageOfSample, mu1, Encoded, samples, l1);
        backend.GatherRows(model.LogVar1, imageOfSample, logVar1, Encoded, samples, l1);
        backend.GatherRows(model.Input, imageOfSample, images, Encoded, samples, d);
        backend.Split(noise, eps1, eps2, samples, l1, l2);

        // z1 ~ q(z1 | x), z2 ~ q(z2 | z1), then p(z1 | z2) and p(x | z1).
        GaussianVae.SampleWithOffset(backend, mu1, logVar1, eps1, zeros, model.Z1, scaled1, n1);
        model.EncodeTop(samples);
        GaussianVae.SampleWithOffset(backend, model.Mu2, model.LogVar2, eps2, zeros, model.Z2, scaled2, n2);
        model.Prior(samples);
        model.Decode(samples, probabilities: model.Config.Reconstruction == ReconstructionLoss.Mse);

        ReconstructionTerm.Forward(backend, model.Config.Reconstruction, model.Logits, model.Prediction, images, Term(0), default, samples, d);
        backend.GaussianNllForward(model.PriorMu, model.PriorLogVar, model.Z1, Term(1), default, samples, l1);
        backend.GaussianNllForward(zeros, zeros, model.Z2, Term(2), default, samples, l2);
        backend.GaussianNllForward(zeros, logVar1, scaled1, Term(3), default, samples, l1);
        backend.GaussianNllForward(zeros, model.LogVar2, scaled2, Term(4), default, samples, l2);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) buffer.Dispose();
        base.Dispose(disposing);
    }
}
