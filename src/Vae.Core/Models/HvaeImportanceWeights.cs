// The hierarchical VAE's importance weights for the IWAE estimate of -log p(x) (Training/ImportanceSampling.cs), as
// for the two-stochastic-layer model of Burda et al.: a sample is a pair (z1, z2) drawn from the inference networks,
//   z1 = mu1(x) + sigma1(x) * eps1,  z2 = mu2(z1) + sigma2(z1) * eps2,
//   log w = log p(x | z1) + log p(z1 | z2) + log p(z2) - log q(z1 | x) - log q(z2 | z1).
// Each image is encoded once by q(z1 | x); for a chunk of samples the image rows of mu1, log-variance1 and x are
// replicated with GatherRows (repeated indices), the sample's noise row [eps1 | eps2] is split, z1 is reparameterized
// into the model's Z1, q(z2 | z1) and the reparameterized z2 run in the model's buffers, then p(z1 | z2) and the decoder,
// all in one batch of at most Capacity rows. The five terms come from the loss primitives, one value per row, summed
// on the host in double:
// - log p(x | z1): -BCE(logits, x) for a BCE model; for an MSE model the Gaussian of variance 1/2 around
//   sigmoid(logits), -(MSE + (D / 2) log pi), as in VaeImportanceWeights.
// - log p(z1 | z2) = -GaussianNll(muP(z2), lvP(z2), targets z1); log p(z2) = -GaussianNll(0, 0, z2).
// - log q(z1 | x) = -GaussianNll(0, lv1, sigma1 * eps1) and log q(z2 | z1) = -GaussianNll(0, lv2, sigma2 * eps2): the
//   posterior densities at their own samples without the cancellation of z - mu in float. Exact while the sampler's
//   log-variance clamp (Reparameterization) is inactive, as for any trained model.
// The estimate is of the generative model, whatever beta trained it.
using Vae.Training;

namespace Vae.Models;

public sealed class HvaeImportanceWeights : IImportanceWeighted, IDisposable
{
    /// <summary>Terms per sample, rows of the terms buffer: recon nats, -log p(z1|z2), -log p(z2), -log q(z1|x), -log q(z2|z1).</summary>
    const int Terms = 5;

    readonly HvaeModel model;
    readonly IComputeBackend backend;
    readonly DeviceBuffer buffer;
    readonly DeviceSpan<float> images, mu1, logVar1, eps1, eps2, scaled1, scaled2, zeros, terms;
    readonly float[] hostTerms;   // (Terms, MaxSamples)
    readonly double likelihoodConstant;   // added to -recon to make log p(x | z1): 0 (Bernoulli) or -(D / 2) log pi (Gaussian, variance 1/2)
    int encoded;

    /// <summary>Weights for <paramref name="model"/>; chunks of at most <paramref name="maxSamples"/> samples (0: the model's capacity).</summary>
    public HvaeImportanceWeights(HvaeModel model, int maxSamples = 0)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (maxSamples < 0 || maxSamples > model.Capacity)
            throw new ArgumentOutOfRangeException(nameof(maxSamples), maxSamples, $"Samples per chunk must be in [1, {model.Capacity}] (the model's batch capacity), or 0 for the capacity.");
        this.model = model;
        backend = model.Backend;
        MaxSamples = maxSamples == 0 ? model.Capacity : maxSamples;
        int c = MaxSamples, d = model.Config.Input, l1 = model.Config.Latent1, l2 = model.Config.Latent2;
        var layout = new TensorLayout();
        var eImages = layout.Add("x", c, d);
        var eMu1 = layout.Add("mu1", c, l1);
        var eLogVar1 = layout.Add("logvar1", c, l1);
        var eEps1 = layout.Add("eps1", c, l1);
        var eEps2 = layout.Add("eps2", c, l2);
        var eScaled1 = layout.Add("sigma1_eps1", c, l1);
        var eScaled2 = layout.Add("sigma2_eps2", c, l2);
        var eZeros = layout.Add("zeros", c, Math.Max(l1, l2));
        var eTerms = layout.Add("terms", Terms, c);   // one download per chunk
        buffer = backend.Allocate((long)layout.TotalLength * sizeof(float));   // zero-filled: "zeros" stays zero
        var flat = buffer.AsSpan<float>();
        images = TensorLayout.View(flat, eImages);
        mu1 = TensorLayout.View(flat, eMu1);
        logVar1 = TensorLayout.View(flat, eLogVar1);
        eps1 = TensorLayout.View(flat, eEps1);
        eps2 = TensorLayout.View(flat, eEps2);
        scaled1 = TensorLayout.View(flat, eScaled1);
        scaled2 = TensorLayout.View(flat, eScaled2);
        zeros = TensorLayout.View(flat, eZeros);
        terms = TensorLayout.View(flat, eTerms);
        hostTerms = new float[Terms * c];
        (Likelihood, likelihoodConstant) = model.Config.Reconstruction == ReconstructionLoss.Bce
            ? ("bernoulli", 0.0)
            : ("gaussian(variance 0.5)", -0.5 * d * Math.Log(Math.PI));
    }

    public IComputeBackend Backend => backend;
    public int Input => model.Config.Input;
    /// <summary>L1 + L2: a sample's row is [eps1 | eps2].</summary>
    public int NoisePerSample => model.Config.Latent1 + model.Config.Latent2;
    public int MaxImages => model.Capacity;
    public int MaxSamples { get; }
    public string Likelihood { get; }

    public void EncodeImages(DeviceDataset data, int first, int count)
    {
        ImportanceSampling.CheckImages(this, data, first, count);
        int n = count * Input;
        backend.Copy(data.Images.Slice(first * Input, n), model.Input.Slice(0, n));
        model.Encode(count);
        encoded = count;   // Mu1, LogVar1 and Input now hold these images; the sampling passes leave them alone
    }

    public void LogWeights(DeviceSpan<int> imageOfSample, DeviceSpan<float> noise, int samples, Span<double> logWeights)
    {
        if (encoded == 0) throw new InvalidOperationException("Call EncodeImages before LogWeights.");
        if (samples < 1 || samples > MaxSamples)
            throw new ArgumentOutOfRangeException(nameof(samples), samples, $"Samples per call must be in [1, {MaxSamples}].");
        int d = Input, l1 = model.Config.Latent1, l2 = model.Config.Latent2, n1 = samples * l1, n2 = samples * l2;
        if (imageOfSample.Length < samples) throw new ArgumentException($"Need {samples} image indices, got {imageOfSample.Length}.", nameof(imageOfSample));
        if (noise.Length < samples * NoisePerSample)
            throw new ArgumentException($"Need {samples * NoisePerSample} noise values ({samples} samples of {NoisePerSample}), got {noise.Length}.", nameof(noise));
        if (logWeights.Length < samples) throw new ArgumentException($"Need room for {samples} log-weights, got {logWeights.Length}.", nameof(logWeights));

        // Replicate each sample's image: q(z1 | x)'s parameters and the pixels; split the noise rows.
        var index = imageOfSample.Slice(0, samples);
        backend.GatherRows(model.Mu1, index, mu1, encoded, samples, l1);
        backend.GatherRows(model.LogVar1, index, logVar1, encoded, samples, l1);
        backend.GatherRows(model.Input, index, images, encoded, samples, d);
        backend.Split(noise, eps1, eps2, samples, l1, l2);

        // z1 ~ q(z1 | x), z2 ~ q(z2 | z1), then p(z1 | z2) and p(x | z1).
        var lv1 = logVar1.Slice(0, n1);
        backend.ReparameterizeForward(mu1.Slice(0, n1), lv1, eps1.Slice(0, n1), model.Z1.Slice(0, n1), Reparameterization.MinLogVar, Reparameterization.MaxLogVar);
        backend.ReparameterizeForward(zeros.Slice(0, n1), lv1, eps1.Slice(0, n1), scaled1.Slice(0, n1), Reparameterization.MinLogVar, Reparameterization.MaxLogVar);
        model.EncodeTop(samples);
        var lv2 = model.LogVar2.Slice(0, n2);
        backend.ReparameterizeForward(model.Mu2.Slice(0, n2), lv2, eps2.Slice(0, n2), model.Z2.Slice(0, n2), Reparameterization.MinLogVar, Reparameterization.MaxLogVar);
        backend.ReparameterizeForward(zeros.Slice(0, n2), lv2, eps2.Slice(0, n2), scaled2.Slice(0, n2), Reparameterization.MinLogVar, Reparameterization.MaxLogVar);
        model.Prior(samples);
        var loss = model.Config.Reconstruction;
        model.Decode(samples, probabilities: loss == ReconstructionLoss.Mse);

        int c = MaxSamples;
        DeviceSpan<float> Term(int t) => terms.Slice(t * c, c);
        ReconstructionTerm.Forward(backend, loss, model.Logits, model.Prediction, images, Term(0), default, samples, d);
        backend.GaussianNllForward(model.PriorMu, model.PriorLogVar, model.Z1, Term(1), default, samples, l1);
        backend.GaussianNllForward(zeros, zeros, model.Z2, Term(2), default, samples, l2);
        backend.GaussianNllForward(zeros, lv1, scaled1, Term(3), default, samples, l1);
        backend.GaussianNllForward(zeros, lv2, scaled2, Term(4), default, samples, l2);

        backend.Download<float>(terms, hostTerms);
        for (int s = 0; s < samples; s++)
            logWeights[s] = likelihoodConstant - hostTerms[s] - (double)hostTerms[c + s] - hostTerms[2 * c + s]
                + hostTerms[3 * c + s] + hostTerms[4 * c + s];
    }

    public void Dispose() => buffer.Dispose();
}
