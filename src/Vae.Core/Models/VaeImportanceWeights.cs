// The importance weights of the one-layer Gaussian VAEs (VaeModel, and CvaeModel with the label y of each test image
// given) for the IWAE estimate of -log p(x) (-log p(x | y)), with the encoder as the proposal:
//   log w = log p(x | z (, y)) + log N(z; 0, I) - log N(z; mu, diag(sigma^2)),   z = mu + sigma * eps.
// Each image is encoded once; for a chunk of samples the image rows of mu, log-variance, x (and the one-hot label, the
// decoder's condition) are replicated with GatherRows (repeated indices), z is reparameterized into the model's Z and
// decoded in one batch of at most Capacity rows, and the three terms come from the loss primitives (see
// GaussianImportanceWeights for how they are summed and for the MSE model's likelihood):
// - log p(x | z) = -(the reconstruction term) (+ the Gaussian constant for MSE);
// - log N(z; 0, I) = -GaussianNll(mean 0, log-variance 0, targets z);
// - log q(z | x) = -GaussianNll(mean 0, log-variance lv, targets sigma * eps): the same density as with targets z and
//   mean mu, but without the cancellation of z - mu in float (sigma * eps is what z - mu is, computed directly).
//   It uses the encoder's log-variance; the sampler's clamp to [MinLogVar, MaxLogVar] (Reparameterization) must be
//   inactive for the density to be exact, as it is for any trained model (sigma between 3e-7 and 2e4).
// The prior and likelihood do not involve beta: the estimate is of the generative model, whatever beta trained it.
// A conditional model's estimate is of the class-conditional likelihood, not comparable with an unconditional
// model's -log p(x) (knowing the class is worth up to log C nats).
using Vae.Training;

namespace Vae.Models;

public sealed class VaeImportanceWeights : GaussianImportanceWeights
{
    readonly IGaussianVae model;
    readonly DeviceBuffer buffer;
    readonly DeviceSpan<float> labels, images, mu, logVar, scaledNoise, zeros;

    /// <summary>Weights for <paramref name="model"/>; chunks of at most <paramref name="maxSamples"/> samples (0: the model's capacity).</summary>
    public VaeImportanceWeights(IGaussianVae model, int maxSamples = 0)
        : base(model, maxSamples, model?.Latent ?? 0, model?.Reconstruction ?? ReconstructionLoss.Bce, modelTerms: 2, proposalTerms: 1)
    {
        this.model = model!;
        int s = MaxSamples, d = Input, l = NoisePerSample;
        var layout = new TensorLayout();
        var entries = new[]
        {
            layout.Add("labels", MaxImages, model!.Classes),   // the encoded images' one-hot labels (none for an unconditional model)
            layout.Add("x", s, d),
            layout.Add("mu", s, l),
            layout.Add("logvar", s, l),
            layout.Add("sigma_eps", s, l),
            layout.Add("zeros", s, l),
        };
        buffer = Backend.Allocate((long)layout.TotalLength * sizeof(float));   // zero-filled: "zeros" stays zero
        var views = entries.Select(e => TensorLayout.View(buffer.AsSpan<float>(), e)).ToArray();
        (labels, images, mu, logVar, scaledNoise, zeros) = (views[0], views[1], views[2], views[3], views[4], views[5]);
    }

    /// <summary>Encodes the images (under their labels: the dataset must carry a conditional model's classes).</summary>
    protected override void Encode(DeviceDataset data, int first, int count)
    {
        int c = model.Classes;
        if (c > 0 && data.Classes != c)
            throw new ArgumentException(
                $"The model is conditioned on {c} classes but the data carries {data.Classes}; load the DeviceDataset with its labels and the model's class count.", nameof(data));
        int n = count * Input;
        Backend.Copy(data.Images.Slice(first * Input, n), model.Input.Slice(0, n));
        if (c > 0)
        {
            Backend.Copy(data.OneHotLabels.Slice(first * c, count * c), model.Condition.Slice(0, count * c));
            Backend.Copy(model.Condition.Slice(0, count * c), labels.Slice(0, count * c));   // Decode's condition is rebuilt from here per chunk
        }
        model.Encode(count);   // Mu, LogVar and Input now hold these images; Decode leaves them alone
    }

    protected override void WriteTerms(DeviceSpan<int> imageOfSample, DeviceSpan<float> noise, int samples)
    {
        int d = Input, l = NoisePerSample, c = model.Classes, nl = samples * l;
        // Each sample's image: its posterior parameters, its pixels (and its label, the decoder's condition).
        var backend = Backend;
        backend.GatherRows(model.Mu, imageOfSample, mu, Encoded, samples, l);
        backend.GatherRows(model.LogVar, imageOfSample, logVar, Encoded, samples, l);
        backend.GatherRows(model.Input, imageOfSample, images, Encoded, samples, d);
        if (c > 0) backend.GatherRows(labels, imageOfSample, model.Condition, Encoded, samples, c);
        var lv = logVar.Slice(0, nl);
        var zero = zeros.Slice(0, nl);
        var scaled = scaledNoise.Slice(0, nl);
        GaussianVae.SampleWithOffset(backend, mu, lv, noise, zero, model.Z, scaled, nl);

        model.Decode(samples, probabilities: model.Reconstruction == ReconstructionLoss.Mse);
        ReconstructionTerm.Forward(backend, model.Reconstruction, model.Logits, model.Prediction, images, Term(0), default, samples, d);
        backend.GaussianNllForward(zero, zero, model.Z.Slice(0, nl), Term(1), default, samples, l);
        backend.GaussianNllForward(zero, lv, scaled, Term(2), default, samples, l);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) buffer.Dispose();
        base.Dispose(disposing);
    }
}
