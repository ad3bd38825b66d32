// Importance-sampled log-likelihood of a test set (the IWAE estimate of Burda et al., 2016): for each image x, draw
// K samples z_k ~ q(z | x) from the model's own encoder, weigh them by w_k = p(x | z_k) p(z_k) / q(z_k | x) and report
//   -log p(x) ~= -(logsumexp_k log w_k - log K)
// in nats per image, averaged over the images. The estimate is a stochastic upper bound on the true negative
// log-likelihood that tightens (in expectation) as K grows; K = 1 is the one-sample negative ELBO. The average of
// -log w_k over the same samples (the negative ELBO with K samples per image) comes with it.
//
// Models plug in through IImportanceWeighted: encode a batch of images once, then compute log w for any run of
// samples given the images they belong to and their standard normal noise. The estimator owns the noise (RandomNormal
// of one fixed stream, sample s of image i taking numbers [(i K + s) N, (i K + s + 1) N) for N noise numbers per
// sample), so the result depends on the seed alone, never on how the images are batched or the samples chunked.
// Log-weights are summed up on the host in double with a streaming logsumexp per image.
namespace Vae.Training;

/// <summary>
/// A latent-variable model whose marginal likelihood p(x) can be estimated by importance sampling with its inference
/// network as the proposal. Implementations keep their own preallocated device buffers: a call allocates nothing.
/// </summary>
public interface IImportanceWeighted : IDisposable
{
    IComputeBackend Backend { get; }

    /// <summary>Values per image (pixels).</summary>
    int Input { get; }

    /// <summary>Standard normal numbers one sample consumes (the latent size of a one-layer VAE).</summary>
    int NoisePerSample { get; }

    /// <summary>The most images one <see cref="EncodeImages"/> call takes.</summary>
    int MaxImages { get; }

    /// <summary>The most samples one <see cref="LogWeights"/> call takes.</summary>
    int MaxSamples { get; }

    /// <summary>What p(x | z) is, for reports (e.g. "bernoulli").</summary>
    string Likelihood { get; }

    /// <summary>
    /// Runs the inference network on images first .. first+count-1 of <paramref name="data"/> (with their labels, for
    /// a conditional model); later LogWeights calls refer to these images by row 0 .. count-1.
    /// </summary>
    void EncodeImages(DeviceDataset data, int first, int count);

    /// <summary>
    /// For samples s = 0 .. samples-1 of the images <paramref name="imageOfSample"/>[s] (rows of the last
    /// EncodeImages call), with standard normal noise (samples, NoisePerSample): writes
    /// logWeights[s] = log p(x | z_s) + log p(z_s) - log q(z_s | x) in nats, where z_s is the reparameterized sample.
    /// </summary>
    void LogWeights(DeviceSpan<int> imageOfSample, DeviceSpan<float> noise, int samples, Span<double> logWeights);
}

/// <summary>A model whose marginal likelihood can be estimated: it makes its own importance-weight evaluator.</summary>
public interface IImportanceSampled
{
    /// <summary>An evaluator over this model's buffers, for chunks of at most <paramref name="maxSamples"/> samples (0: the model's capacity).</summary>
    IImportanceWeighted CreateImportanceWeights(int maxSamples = 0);
}

/// <summary>
/// The estimate over <paramref name="Images"/> images with <paramref name="SamplesPerImage"/> samples each, in nats
/// per image: <paramref name="Nll"/> = mean of -(logsumexp log w - log K); <paramref name="NegativeElbo"/> = mean of
/// -log w over the same samples (always &gt;= Nll, by Jensen's inequality).
/// </summary>
public sealed record ImportanceSamplingResult(int Images, int SamplesPerImage, double Nll, double NegativeElbo, string Likelihood);

public static class ImportanceSampling
{
    /// <summary>The default noise stream: fixed, so an estimate is reproducible.</summary>
    public const ulong NoiseSeed = 0x1CAE_5EED;

    /// <summary>The default number of samples per image (as in the IWAE paper's evaluations).</summary>
    public const int DefaultSamples = 1000;

    /// <summary>
    /// Estimates -log p(x) for every image of <paramref name="data"/> with <paramref name="samples"/> importance
    /// samples each. <paramref name="imagesPerBatch"/> (images encoded at once) and <paramref name="samplesPerChunk"/>
    /// (samples decoded at once) default to the model's limits and do not change the result.
    /// </summary>
    /// <param name="perImage">If not null, receives each image's estimate of -log p(x) (length data.Count).</param>
    public static ImportanceSamplingResult Run(IImportanceWeighted model, DeviceDataset data, int samples, ulong seed = NoiseSeed,
        int imagesPerBatch = 0, int samplesPerChunk = 0, double[]? perImage = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        if (samples < 1)
            throw new ArgumentOutOfRangeException(nameof(samples), samples, "The number of importance samples per image must be >= 1.");
        if (data.Pixels != model.Input)
            throw new ArgumentException($"The data has {data.Pixels} pixels per image but the model expects {model.Input}.", nameof(data));
        int batch = imagesPerBatch == 0 ? model.MaxImages : imagesPerBatch;
        int chunk = samplesPerChunk == 0 ? model.MaxSamples : samplesPerChunk;
        if (batch < 1 || batch > model.MaxImages)
            throw new ArgumentOutOfRangeException(nameof(imagesPerBatch), imagesPerBatch, $"Images per batch must be in [1, {model.MaxImages}] (0 for the model's limit).");
        if (chunk < 1 || chunk > model.MaxSamples)
            throw new ArgumentOutOfRangeException(nameof(samplesPerChunk), samplesPerChunk, $"Samples per chunk must be in [1, {model.MaxSamples}] (0 for the model's limit).");
        if (perImage is not null && perImage.Length != data.Count)
            throw new ArgumentException($"perImage needs {data.Count} values, one per image.", nameof(perImage));

        var backend = model.Backend;
        int noise = model.NoisePerSample;
        batch = Math.Min(batch, data.Count);
        // Device buffers for one chunk's image indices and noise, and host buffers, once per evaluation.
        using var indexBuffer = backend.Allocate((long)chunk * sizeof(int));
        using var noiseBuffer = backend.Allocate((long)chunk * noise * sizeof(float));
        var indexView = indexBuffer.AsSpan<int>();
        var noiseView = noiseBuffer.AsSpan<float>();
        var indices = new int[chunk];
        var logWeights = new double[chunk];
        var max = new double[batch];
        var sumExp = new double[batch];
        var sumLog = new double[batch];
        double logK = Math.Log(samples), nllSum = 0, elboSum = 0;

        for (int first = 0; first < data.Count; first += batch)
        {
            int rows = Math.Min(batch, data.Count - first);
            model.EncodeImages(data, first, rows);
            Array.Fill(max, double.NegativeInfinity);
            Array.Clear(sumExp);
            Array.Clear(sumLog);
            long total = (long)rows * samples;
            for (long start = 0; start < total; start += chunk)
            {
                int count = (int)Math.Min(chunk, total - start);
                for (int i = 0; i < count; i++) indices[i] = (int)((start + i) / samples);
                backend.Upload<int>(indices.AsSpan(0, count), indexView.Slice(0, count));
                ulong sampleIndex = (ulong)first * (ulong)samples + (ulong)start;   // global index of this chunk's first sample
                backend.RandomNormal(noiseView.Slice(0, count * noise), seed, sampleIndex * (ulong)noise);
                model.LogWeights(indexView.Slice(0, count), noiseView.Slice(0, count * noise), count, logWeights.AsSpan(0, count));
                for (int i = 0; i < count; i++)
                {
                    double lw = logWeights[i];
                    int image = indices[i];
                    if (!double.IsFinite(lw))
                        throw new InvalidDataException(
                            $"Log-weight {lw} for test image {first + image}, sample {(start + i) % samples}: the model produces non-finite likelihoods (are its parameters finite?).");
                    sumLog[image] += lw;
                    if (lw > max[image])
                    {
                        sumExp[image] = sumExp[image] * Math.Exp(max[image] - lw) + 1;   // exp(-inf) = 0 on the first sample
                        max[image] = lw;
                    }
                    else sumExp[image] += Math.Exp(lw - max[image]);
                }
            }
            for (int i = 0; i < rows; i++)
            {
                double nll = -(max[i] + Math.Log(sumExp[i]) - logK);
                if (perImage is not null) perImage[first + i] = nll;
                nllSum += nll;
                elboSum += -sumLog[i] / samples;
            }
        }
        return new ImportanceSamplingResult(data.Count, samples, nllSum / data.Count, elboSum / data.Count, model.Likelihood);
    }

    /// <summary>The argument checks every <see cref="IImportanceWeighted.EncodeImages"/> makes.</summary>
    public static void CheckImages(IImportanceWeighted model, DeviceDataset data, int first, int count)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (count < 1 || count > model.MaxImages)
            throw new ArgumentOutOfRangeException(nameof(count), count, $"Images per call must be in [1, {model.MaxImages}].");
        if (first < 0 || first + count > data.Count)
            throw new ArgumentOutOfRangeException(nameof(first), first, $"Images {first}..{first + count - 1} are outside the dataset's {data.Count}.");
        if (data.Pixels != model.Input)
            throw new ArgumentException($"The data has {data.Pixels} pixels per image but the model expects {model.Input}.", nameof(data));
    }
}
