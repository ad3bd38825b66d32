// The plain VAE's importance weights for the IWAE estimate of -log p(x) (Training/ImportanceSampling.cs):
//   log w = log p(x | z) + log N(z; 0, I) - log N(z; mu, diag(sigma^2)),   z = mu + sigma * eps,
// with mu and log sigma^2 from the encoder. Each image is encoded once; for a chunk of samples the image rows of
// mu, log-variance and x are replicated with GatherRows (repeated indices), z is reparameterized into the model's Z
// and decoded in one batch of at most Capacity rows, and the three terms come from the loss primitives, one value per
// row, summed on the host in double:
// - log p(x | z): for a BCE model the Bernoulli log-likelihood with the decoder's logits, -BCE(logits, x) (the model's
//   training loss term exactly). For an MSE model the loss sum (x - sigmoid(logits))^2 is, up to a constant, the
//   negative log-density of a Gaussian with mean sigmoid(logits) and variance 1/2 per pixel; the estimate uses that
//   density, log p(x | z) = -(MSE + (D / 2) log pi), so the MSE case is a continuous density (comparable to other
//   Gaussian-likelihood models, not to Bernoulli nats) and its K = 1 value is the test loss plus (D / 2) log pi.
// - log N(z; 0, I) = -GaussianNll(mean 0, log-variance 0, targets z).
// - log q(z | x) = -GaussianNll(mean 0, log-variance lv, targets sigma * eps): the same density as with targets z and
//   mean mu, but without the cancellation of z - mu in float (sigma * eps is what z - mu is, computed directly).
//   It uses the encoder's log-variance; the sampler's clamp to [MinLogVar, MaxLogVar] (Reparameterization) must be
//   inactive for the density to be exact, as it is for any trained model (sigma between 3e-7 and 2e4).
// The prior and likelihood do not involve beta: the estimate is of the generative model, whatever beta trained it.
using Vae.Training;

namespace Vae.Models;

public sealed class VaeImportanceWeights : IImportanceWeighted, IDisposable
{
    readonly VaeModel model;
    readonly IComputeBackend backend;
    readonly DeviceBuffer buffer;
    readonly DeviceSpan<float> images, mu, logVar, scaledNoise, zeros, terms, recon, prior, posterior;
    readonly float[] hostTerms;   // (3, MaxSamples): recon, prior and posterior negative log-densities
    readonly double likelihoodConstant;   // added to -recon to make log p(x | z): 0 (Bernoulli) or -(D / 2) log pi (Gaussian, variance 1/2)
    int encoded;

    /// <summary>Weights for <paramref name="model"/>; chunks of at most <paramref name="maxSamples"/> samples (0: the model's capacity).</summary>
    public VaeImportanceWeights(VaeModel model, int maxSamples = 0)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (maxSamples < 0 || maxSamples > model.Capacity)
            throw new ArgumentOutOfRangeException(nameof(maxSamples), maxSamples, $"Samples per chunk must be in [1, {model.Capacity}] (the model's batch capacity), or 0 for the capacity.");
        this.model = model;
        backend = model.Backend;
        MaxSamples = maxSamples == 0 ? model.Capacity : maxSamples;
        int c = MaxSamples, d = model.Config.Input, l = model.Config.Latent;
        var layout = new TensorLayout();
        var eImages = layout.Add("x", c, d);
        var eMu = layout.Add("mu", c, l);
        var eLogVar = layout.Add("logvar", c, l);
        var eScaled = layout.Add("sigma_eps", c, l);
        var eZeros = layout.Add("zeros", c, l);
        var eTerms = layout.Add("terms", 3, c);   // one download per chunk
        buffer = backend.Allocate((long)layout.TotalLength * sizeof(float));   // zero-filled: "zeros" stays zero
        var flat = buffer.AsSpan<float>();
        images = TensorLayout.View(flat, eImages);
        mu = TensorLayout.View(flat, eMu);
        logVar = TensorLayout.View(flat, eLogVar);
        scaledNoise = TensorLayout.View(flat, eScaled);
        zeros = TensorLayout.View(flat, eZeros);
        terms = TensorLayout.View(flat, eTerms);
        recon = terms.Slice(0, c);
        prior = terms.Slice(c, c);
        posterior = terms.Slice(2 * c, c);
        hostTerms = new float[3 * c];
        (Likelihood, likelihoodConstant) = model.Config.Reconstruction == ReconstructionLoss.Bce
            ? ("bernoulli", 0.0)
            : ("gaussian(variance 0.5)", -0.5 * d * Math.Log(Math.PI));
    }

    public IComputeBackend Backend => backend;
    public int Input => model.Config.Input;
    public int NoisePerSample => model.Config.Latent;
    public int MaxImages => model.Capacity;
    public int MaxSamples { get; }
    public string Likelihood { get; }

    public void EncodeImages(DeviceDataset data, int first, int count)
    {
        ImportanceSampling.CheckImages(this, data, first, count);
        int n = count * Input;
        backend.Copy(data.Images.Slice(first * Input, n), model.Input.Slice(0, n));
        model.Encode(count);
        encoded = count;   // Mu, LogVar and Input now hold these images; Decode leaves them alone
    }

    public void LogWeights(DeviceSpan<int> imageOfSample, DeviceSpan<float> noise, int samples, Span<double> logWeights)
    {
        if (encoded == 0) throw new InvalidOperationException("Call EncodeImages before LogWeights.");
        if (samples < 1 || samples > MaxSamples)
            throw new ArgumentOutOfRangeException(nameof(samples), samples, $"Samples per call must be in [1, {MaxSamples}].");
        int d = Input, l = NoisePerSample, nl = samples * l;
        if (imageOfSample.Length < samples) throw new ArgumentException($"Need {samples} image indices, got {imageOfSample.Length}.", nameof(imageOfSample));
        if (noise.Length < nl) throw new ArgumentException($"Need {nl} noise values ({samples} samples of {l}), got {noise.Length}.", nameof(noise));
        if (logWeights.Length < samples) throw new ArgumentException($"Need room for {samples} log-weights, got {logWeights.Length}.", nameof(logWeights));

        // Replicate each sample's image: its posterior parameters and its pixels.
        var index = imageOfSample.Slice(0, samples);
        backend.GatherRows(model.Mu, index, mu, encoded, samples, l);
        backend.GatherRows(model.LogVar, index, logVar, encoded, samples, l);
        backend.GatherRows(model.Input, index, images, encoded, samples, d);
        var eps = noise.Slice(0, nl);
        var lv = logVar.Slice(0, nl);
        var z = model.Z.Slice(0, nl);
        var scaled = scaledNoise.Slice(0, nl);
        var zero = zeros.Slice(0, nl);
        backend.ReparameterizeForward(mu.Slice(0, nl), lv, eps, z, Reparameterization.MinLogVar, Reparameterization.MaxLogVar);
        backend.ReparameterizeForward(zero, lv, eps, scaled, Reparameterization.MinLogVar, Reparameterization.MaxLogVar);

        var loss = model.Config.Reconstruction;
        model.Decode(samples, probabilities: loss == ReconstructionLoss.Mse);
        ReconstructionTerm.Forward(backend, loss, model.Logits, model.Prediction, images, recon, default, samples, d);
        backend.GaussianNllForward(zero, zero, z, prior, default, samples, l);
        backend.GaussianNllForward(zero, lv, scaled, posterior, default, samples, l);

        backend.Download<float>(terms, hostTerms);
        int c = MaxSamples;
        for (int s = 0; s < samples; s++)
            logWeights[s] = likelihoodConstant - hostTerms[s] - (double)hostTerms[c + s] + hostTerms[2 * c + s];
    }

    public void Dispose() => buffer.Dispose();
}
