// What the importance-weight evaluators of the Gaussian-latent models (VaeImportanceWeights for the VAE and the
// conditional VAE, HvaeImportanceWeights) share, for the IWAE estimate of -log p(x) (Training/ImportanceSampling.cs):
// the limits and argument checks, the likelihood's name and constant, and the per-sample terms. A model's evaluator
// writes, per sample, negative log-densities into the rows of one terms buffer: first those of the generative model
// (the reconstruction term, then its latent densities), then those of the proposal (the posterior densities at the
// sample); one download per chunk, and on the host in double
//   log w = likelihoodConstant - (model terms, in order) + (proposal terms, in order).
// The reconstruction term is the model's loss: for a BCE model -log p(x | z) exactly (constant 0); for an MSE model the
// sum (x - sigmoid(logits))^2, which is -log of a Gaussian density of variance 1/2 per pixel up to the constant
// -(D / 2) log pi, so the MSE case is a continuous density (comparable to other Gaussian-likelihood models, not to
// Bernoulli nats) and its K = 1 value is the test loss plus (D / 2) log pi.
using Vae.Training;

namespace Vae.Models;

public abstract class GaussianImportanceWeights : IImportanceWeighted
{
    readonly DeviceBuffer termBuffer;
    readonly DeviceSpan<float> terms;
    readonly float[] hostTerms;   // (model terms + proposal terms, MaxSamples)
    readonly int modelTerms, proposalTerms;
    readonly double likelihoodConstant;   // added to -recon to make log p(x | z): 0 (Bernoulli) or -(D / 2) log pi (Gaussian, variance 1/2)

    /// <summary>
    /// Limits from <paramref name="model"/> (chunks of at most <paramref name="maxSamples"/> samples, 0: its capacity)
    /// and a terms buffer of <paramref name="modelTerms"/> + <paramref name="proposalTerms"/> rows of MaxSamples.
    /// </summary>
    protected GaussianImportanceWeights(ITrainableModel model, int maxSamples, int noisePerSample, ReconstructionLoss reconstruction, int modelTerms, int proposalTerms)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (maxSamples < 0 || maxSamples > model.Capacity)
            throw new ArgumentOutOfRangeException(nameof(maxSamples), maxSamples, $"Samples per chunk must be in [1, {model.Capacity}] (the model's batch capacity), or 0 for the capacity.");
        Backend = model.Backend;
        Input = model.Config.Input;
        NoisePerSample = noisePerSample;
        MaxImages = model.Capacity;
        MaxSamples = maxSamples == 0 ? model.Capacity : maxSamples;
        (this.modelTerms, this.proposalTerms) = (modelTerms, proposalTerms);
        (Likelihood, likelihoodConstant) = reconstruction == ReconstructionLoss.Bce
            ? ("bernoulli", 0.0)
            : ("gaussian(variance 0.5)", -0.5 * Input * Math.Log(Math.PI));
        int rows = modelTerms + proposalTerms;
        termBuffer = Backend.Allocate((long)rows * MaxSamples * sizeof(float));
        terms = termBuffer.AsSpan<float>().Slice(0, rows * MaxSamples);
        hostTerms = new float[rows * MaxSamples];
    }

    public IComputeBackend Backend { get; }
    public int Input { get; }
    public int NoisePerSample { get; }
    public int MaxImages { get; }
    public int MaxSamples { get; }
    public string Likelihood { get; }

    /// <summary>Images of the last <see cref="EncodeImages"/> call (0 before the first).</summary>
    protected int Encoded { get; private set; }

    public void EncodeImages(DeviceDataset data, int first, int count)
    {
        ImportanceSampling.CheckImages(this, data, first, count);
        Encode(data, first, count);
        Encoded = count;
    }

    public void LogWeights(DeviceSpan<int> imageOfSample, DeviceSpan<float> noise, int samples, Span<double> logWeights)
    {
        if (Encoded == 0) throw new InvalidOperationException("Call EncodeImages before LogWeights.");
        if (samples < 1 || samples > MaxSamples)
            throw new ArgumentOutOfRangeException(nameof(samples), samples, $"Samples per call must be in [1, {MaxSamples}].");
        if (imageOfSample.Length < samples) throw new ArgumentException($"Need {samples} image indices, got {imageOfSample.Length}.", nameof(imageOfSample));
        if (noise.Length < samples * NoisePerSample)
            throw new ArgumentException($"Need {samples * NoisePerSample} noise values ({samples} samples of {NoisePerSample}), got {noise.Length}.", nameof(noise));
        if (logWeights.Length < samples) throw new ArgumentException($"Need room for {samples} log-weights, got {logWeights.Length}.", nameof(logWeights));

        WriteTerms(imageOfSample.Slice(0, samples), noise, samples);
        Backend.Download<float>(terms, hostTerms);
        int c = MaxSamples;
        for (int s = 0; s < samples; s++)
        {
            double w = likelihoodConstant;
            for (int t = 0; t < modelTerms; t++) w -= hostTerms[t * c + s];
            for (int t = modelTerms; t < modelTerms + proposalTerms; t++) w += hostTerms[t * c + s];
            logWeights[s] = w;
        }
    }

    /// <summary>Runs the model's inference network on images first .. first+count-1 of <paramref name="data"/> (checked).</summary>
    protected abstract void Encode(DeviceDataset data, int first, int count);

    /// <summary>
    /// For samples s of the images <paramref name="imageOfSample"/>[s] (checked, <paramref name="samples"/> of them) and
    /// their noise rows: writes every <see cref="Term"/> (t, s), negative log-densities, the model's before the proposal's.
    /// </summary>
    protected abstract void WriteTerms(DeviceSpan<int> imageOfSample, DeviceSpan<float> noise, int samples);

    /// <summary>(MaxSamples) the row of term <paramref name="t"/>: the model's terms first (the reconstruction term is 0), then the proposal's.</summary>
    protected DeviceSpan<float> Term(int t) => terms.Slice(t * MaxSamples, MaxSamples);

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Frees the device buffers; an evaluator with its own buffers frees them too.</summary>
    protected virtual void Dispose(bool disposing)
    {
        if (disposing) termBuffer.Dispose();
    }
}
