// The conditional VAE's importance weights for the IWAE estimate of -log p(x | y) (Training/ImportanceSampling.cs),
// with the encoder q(z | x, y) as the proposal and the label y of each test image given:
//   log w = log p(x | z, y) + log N(z; 0, I) - log N(z; mu(x, y), diag(sigma^2(x, y))),   z = mu + sigma * eps.
// The estimate is of the class-conditional likelihood, so it is not comparable with an unconditional model's -log p(x)
// (knowing the class is worth up to log C nats). Terms as in VaeImportanceWeights: log p(x | z, y) is the Bernoulli
// log-likelihood -BCE(logits, x) for a BCE model, or -(MSE + (D / 2) log pi) (the Gaussian of variance 1/2) for an MSE
// model; the two Gaussian densities come from GaussianNll, the posterior's with targets sigma * eps (= z - mu without
// the cancellation). Each image is encoded once; for a chunk of samples the rows of mu, log-variance, x and the
// one-hot label are replicated with GatherRows and decoded in one batch of at most Capacity rows.
using Vae.Training;

namespace Vae.Models;

public sealed class CvaeImportanceWeights : IImportanceWeighted
{
    readonly CvaeModel model;
    readonly IComputeBackend backend;
    readonly DeviceBuffer buffer;
    readonly DeviceSpan<float> labels, images, mu, logVar, scaledNoise, zeros, terms;
    readonly float[] hostTerms;           // (3, MaxSamples): recon, prior and posterior negative log-densities
    readonly double likelihoodConstant;   // added to -recon to make log p(x | z, y)
    int encoded;

    /// <summary>Weights for <paramref name="model"/>; chunks of at most <paramref name="maxSamples"/> samples (0: the model's capacity).</summary>
    public CvaeImportanceWeights(CvaeModel model, int maxSamples = 0)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (maxSamples < 0 || maxSamples > model.Capacity)
            throw new ArgumentOutOfRangeException(nameof(maxSamples), maxSamples, $"Samples per chunk must be in [1, {model.Capacity}] (the model's batch capacity), or 0 for the capacity.");
        this.model = model;
        backend = model.Backend;
        MaxSamples = maxSamples == 0 ? model.Capacity : maxSamples;
        int s = MaxSamples, d = model.Config.Input, l = model.Config.Latent;
        var layout = new TensorLayout();
        var entries = new[]
        {
            layout.Add("labels", model.Capacity, model.Classes),   // the encoded images' one-hot labels
            layout.Add("x", s, d),
            layout.Add("mu", s, l),
            layout.Add("logvar", s, l),
            layout.Add("sigma_eps", s, l),
            layout.Add("zeros", s, l),
            layout.Add("terms", 3, s),                             // one download per chunk
        };
        buffer = backend.Allocate((long)layout.TotalLength * sizeof(float));   // zero-filled: "zeros" stays zero
        var views = entries.Select(e => TensorLayout.View(buffer.AsSpan<float>(), e)).ToArray();
        (labels, images, mu, logVar, scaledNoise, zeros, terms) = (views[0], views[1], views[2], views[3], views[4], views[5], views[6]);
        hostTerms = new float[3 * s];
        bool bce = model.Config.Reconstruction == ReconstructionLoss.Bce;
        Likelihood = bce ? "bernoulli" : "gaussian(variance 0.5)";
        likelihoodConstant = bce ? 0.0 : -0.5 * d * Math.Log(Math.PI);
    }

    public IComputeBackend Backend => backend;
    public int Input => model.Config.Input;
    public int NoisePerSample => model.Config.Latent;
    public int MaxImages => model.Capacity;
    public int MaxSamples { get; }
    public string Likelihood { get; }

    /// <summary>Encodes images first .. first+count-1 of <paramref name="data"/> under their labels (the dataset must carry the model's classes).</summary>
    public void EncodeImages(DeviceDataset data, int first, int count)
    {
        ImportanceSampling.CheckImages(this, data, first, count);
        int c = model.Classes;
        if (data.Classes != c)
            throw new ArgumentException(
                $"The model is conditioned on {c} classes but the data carries {data.Classes}; load the DeviceDataset with its labels and the model's class count.", nameof(data));
        int n = count * Input;
        backend.Copy(data.Images.Slice(first * Input, n), model.Input.Slice(0, n));
        backend.Copy(data.OneHotLabels.Slice(first * c, count * c), model.Condition.Slice(0, count * c));
        backend.Copy(model.Condition.Slice(0, count * c), labels.Slice(0, count * c));   // Decode's condition is rebuilt from here per chunk
        model.Encode(count);
        encoded = count;
    }

    public void LogWeights(DeviceSpan<int> imageOfSample, DeviceSpan<float> noise, int samples, Span<double> logWeights)
    {
        if (encoded == 0) throw new InvalidOperationException("Call EncodeImages before LogWeights.");
        if (samples < 1 || samples > MaxSamples)
            throw new ArgumentOutOfRangeException(nameof(samples), samples, $"Samples per call must be in [1, {MaxSamples}].");
        int d = Input, l = NoisePerSample, c = model.Classes, nl = samples * l;
        if (imageOfSample.Length < samples) throw new ArgumentException($"Need {samples} image indices, got {imageOfSample.Length}.", nameof(imageOfSample));
        if (noise.Length < nl) throw new ArgumentException($"Need {nl} noise values ({samples} samples of {l}), got {noise.Length}.", nameof(noise));
        if (logWeights.Length < samples) throw new ArgumentException($"Need room for {samples} log-weights, got {logWeights.Length}.", nameof(logWeights));

        // Each sample's image: its posterior parameters, its pixels and its label (the decoder's condition).
        var index = imageOfSample.Slice(0, samples);
        backend.GatherRows(model.Mu, index, mu, encoded, samples, l);
        backend.GatherRows(model.LogVar, index, logVar, encoded, samples, l);
        backend.GatherRows(model.Input, index, images, encoded, samples, d);
        backend.GatherRows(labels, index, model.Condition, encoded, samples, c);
        var eps = noise.Slice(0, nl);
        var lv = logVar.Slice(0, nl);
        var z = model.Z.Slice(0, nl);
        var zero = zeros.Slice(0, nl);
        var scaled = scaledNoise.Slice(0, nl);
        backend.ReparameterizeForward(mu.Slice(0, nl), lv, eps, z, Reparameterization.MinLogVar, Reparameterization.MaxLogVar);
        backend.ReparameterizeForward(zero, lv, eps, scaled, Reparameterization.MinLogVar, Reparameterization.MaxLogVar);

        var loss = model.Config.Reconstruction;
        model.Decode(samples, probabilities: loss == ReconstructionLoss.Mse);
        int s = MaxSamples;
        ReconstructionTerm.Forward(backend, loss, model.Logits, model.Prediction, images, terms.Slice(0, s), default, samples, d);
        backend.GaussianNllForward(zero, zero, z, terms.Slice(s, s), default, samples, l);
        backend.GaussianNllForward(zero, lv, scaled, terms.Slice(2 * s, s), default, samples, l);

        backend.Download<float>(terms, hostTerms);
        for (int k = 0; k < samples; k++)
            logWeights[k] = likelihoodConstant - hostTerms[k] - (double)hostTerms[s + k] + hostTerms[2 * s + k];
    }

    public void Dispose() => buffer.Dispose();
}
