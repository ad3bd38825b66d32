// Whole-model gradient checks of the text VAE (Models/Text/TextVaeModel): the model runs forward and backward in float
// on a backend; its losses are compared with the double-precision twin (Support/DoubleTextVae), and every coordinate of
// every parameter tensor of its gradient with central finite differences of the twin's objective
// mean recon + w * mean KL (free bits: + w * sum_c max(floor, batch-mean KL_c)) at fixed noise. Cases: the ELBO with
// one and two encoder layers, a KL weight of 0.3, free bits with a floor between the dimensions' KLs, fed-back decoder
// steps (every perturbation must leave the arg-max tokens unchanged), and the language model (latent 0). Word dropout
// draws its <unk> positions inside the model, so that case differentiates the float model itself (its draws are fixed by
// seed and step) on a sample of coordinates of every tensor, the <unk> row of the embedding included.
// Tolerance as the LSTM checks: |g - fd| <= 2e-3 |fd| + 2e-5 max |fd|; forward values within 1e-5 (1 + |value|).
using Vae.Data.Text;
using Vae.Models.Text;
using Vae.Tests.Support;
using Xunit;

namespace Vae.Tests.Models.Text;

public sealed class TextVaeGradientTests
{
    const double Relative = 2e-3, Absolute = 2e-5, ForwardTolerance = 1e-5;
    const int Vocab = 11, Embedding = 5, Hidden = 4, Latent = 3, MaxLength = 7;

    /// <summary>Three ragged sequences (7, 4 and 5 ids) in a table of stride 8.</summary>
    static readonly int[] Lengths = [7, 4, 5];

    public static TheoryData<string, string> Cases => new()
    {
        { "elbo", "reference" },
        { "elbo-two-layers", "reference" },
        { "kl-weight", "reference" },
        { "free-bits", "reference" },
        { "feed-back", "reference" },
        { "language-model", "reference" },
        { "elbo", "cpu" },
        { "feed-back", "cpu" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Gradient_matches_finite_differences_of_the_double_precision_twin(string variant, string backendName)
    {
        int latent = variant == "language-model" ? 0 : Latent, layers = variant == "elbo-two-layers" ? 2 : 1;
        var config = new TextVaeConfig(Vocab, Embedding, Hidden, latent, MaxLength, layers);
        float klWeight = variant == "kl-weight" ? 0.3f : 1f;
        bool[]? feedBack = variant == "feed-back" ? [false, false, true, true, false, true] : null;
        int seed = variant.Length * 17 + layers;
        var table = TextModelSetup.RandomSequences(seed, Vocab, Lengths, stride: 8);
        int[] indices = [0, 1, 2];
        var noise = HostData.Normal(new System.Random(seed), indices.Length * Latent);
        using var backend = Backends.Create(backendName);
        using var model = TextModelSetup.Model(backend, config, capacity: 4, (ulong)seed);
        var twin = TextModelSetup.Twin(model);

        var baseline = twin.Forward(table.Tokens, table.Stride, table.Lengths, indices, noise, feedBack);
        float freeBits = 0f;
        if (variant == "free-bits")
        {
            // The floor halfway across the widest gap between the dimensions' KLs: some above it, some below, far from the kink.
            var sorted = baseline.KlPerDimension(latent).Order().ToArray();
            int gap = Enumerable.Range(0, sorted.Length - 1).MaxBy(i => sorted[i + 1] - sorted[i]);
            Assert.True(sorted[gap + 1] - sorted[gap] > 1e-2, $"the dimensions' KLs {string.Join(", ", sorted)} are too close for a floor between them");
            freeBits = (float)((sorted[gap] + sorted[gap + 1]) / 2);
        }
        if (feedBack is not null)
        {
            Assert.Contains(baseline.FedBack, token => token >= 0);
            Assert.True(baseline.SmallestMargin > 1e-4, $"an arg-max is nearly tied ({baseline.SmallestMargin}); pick another seed");
        }

        var run = TextModelSetup.Run(model, table, indices, noise, feedBack, klWeight, freeBits);

        // Forward: per-sequence losses, totals and posterior moments against the twin.
        AssertForward("recon per sequence", run.Recon, baseline.Recon);
        AssertForward("KL per sequence", run.Kl, baseline.Kl);
        AssertForward("totals", run.Totals, [baseline.ReconSum, baseline.KlSum]);
        AssertForward("mu", run.Mu, baseline.Mu);
        AssertForward("logvar", run.LogVar, baseline.LogVar);
        if (latent == 0) Assert.Equal(0f, run.Totals[1]);

        // Gradient: every coordinate of every tensor.
        double Objective()
        {
            var r = twin.Forward(table.Tokens, table.Stride, table.Lengths, indices, noise, feedBack);
            if (feedBack is not null && !r.FedBack.AsSpan().SequenceEqual(baseline.FedBack))
                throw new InvalidOperationException("a perturbation changed a fed-back arg-max token; the finite difference would cross a discontinuity");
            return r.Objective(latent, klWeight, freeBits);
        }
        var p = twin.Parameters;
        var fd = new double[p.Length];
        for (int i = 0; i < p.Length; i++)
        {
            double saved = p[i], h = 1e-6 * Math.Max(1, Math.Abs(saved));
            p[i] = saved + h;
            double up = Objective();
            p[i] = saved - h;
            double down = Objective();
            p[i] = saved;
            fd[i] = (up - down) / (2 * h);
        }
        double largest = fd.Max(Math.Abs);
        foreach (var t in model.NamedTensors)
        {
            bool anyNonZero = false;
            for (int i = t.Offset; i < t.Offset + t.Length; i++)
            {
                // The <pad> row is frozen (nn.Embedding's padding_idx; checked below): a fed-back step may read it, but
                // it is not a parameter of the objective.
                if (t.Name == "embedding.weight" && (i - t.Offset) / Embedding == Vocabulary.Pad) continue;
                double allowed = Relative * Math.Abs(fd[i]) + Absolute * largest;
                Assert.True(Math.Abs(run.Gradients[i] - fd[i]) <= allowed,
                    $"{variant} on {backendName}: {t.Name}[{i - t.Offset}] gradient {run.Gradients[i]:R} vs finite difference {fd[i]:R} (allowed {allowed:G3})");
                anyNonZero |= run.Gradients[i] != 0;
            }
            Assert.True(anyNonZero, $"{t.Name} has an all-zero gradient: the check would not see a wrong one");
        }
        // The padding row of the embedding is never trained.
        var embedding = model.NamedTensors.Single(t => t.Name == "embedding.weight");
        Assert.All(run.Gradients.AsSpan(embedding.Offset + Vocabulary.Pad * Embedding, Embedding).ToArray(), g => Assert.Equal(0f, g));
    }

    [Fact]
    public void Word_dropout_gradient_matches_finite_differences_of_the_model_with_its_draws_fixed()
    {
        const float dropout = 0.5f, klWeight = 1f;
        const ulong seed = 3;
        const long step = 7;
        var config = new TextVaeConfig(Vocab, Embedding, Hidden, Latent, MaxLength);
        var table = TextModelSetup.RandomSequences(41, Vocab, Lengths, stride: 7);
        int[] indices = [0, 1, 2];
        var noise = HostData.Normal(new System.Random(41), indices.Length * Latent);
        using var backend = Backends.Create("reference");
        using var model = TextModelSetup.Model(backend, config, capacity: 3, seed: 41);
        var twin = TextModelSetup.Twin(model);
        var run = TextModelSetup.Run(model, table, indices, noise, klWeight: klWeight, wordDropout: dropout, seed: seed, step: step);

        // Dropout changed the decoder's inputs (recon differs from the twin without dropout; KL and the encoder do not).
        var clean = twin.Forward(table.Tokens, table.Stride, table.Lengths, indices, noise);
        Assert.True(Math.Abs(run.Totals[0] - clean.ReconSum) > 1e-3, "word dropout 0.5 changed no decoder input");
        AssertForward("KL per sequence", run.Kl, clean.Kl);
        // The same seed and step draw the same positions: the forward is repeatable, so finite differences are valid.
        var again = TextModelSetup.Totals(model, table, indices, noise, wordDropout: dropout, seed: seed, step: step);
        Assert.Equal(run.Totals, again);
        var embedding = model.NamedTensors.Single(t => t.Name == "embedding.weight");
        int unknownRow = embedding.Offset + Vocabulary.Unknown * Embedding;
        Assert.Contains(run.Gradients.AsSpan(unknownRow, Embedding).ToArray(), g => g != 0f);

        var parameters = TextModelSetup.Parameters(model);
        double Objective(int i, float value)
        {
            backend.Upload<float>([value], model.Parameters.Parameters.Slice(i, 1));
            var totals = TextModelSetup.Totals(model, table, indices, noise, wordDropout: dropout, seed: seed, step: step);
            backend.Upload<float>([parameters[i]], model.Parameters.Parameters.Slice(i, 1));
            return (totals[0] + (double)klWeight * totals[1]) / indices.Length;
        }
        // float32 forward: a step of 1e-2 keeps the rounding of the loss (~1e-6) small against the difference; the
        // truncation error of central differences is O(h^2).
        const float h = 1e-2f;
        var rng = new System.Random(5);
        int checkedCoordinates = 0;
        foreach (var t in model.NamedTensors)
        {
            var coordinates = Enumerable.Range(0, t.Length).OrderBy(_ => rng.Next()).Take(6).Select(k => t.Offset + k).ToList();
            if (t.Name == "embedding.weight") coordinates.AddRange(Enumerable.Range(unknownRow, Embedding));
            foreach (int i in coordinates)
            {
                double fd = (Objective(i, parameters[i] + h) - Objective(i, parameters[i] - h)) / (2.0 * h);
                double allowed = 2e-2 * Math.Abs(fd) + 2e-3;
                Assert.True(Math.Abs(run.Gradients[i] - fd) <= allowed,
                    $"word dropout: {t.Name}[{i - t.Offset}] gradient {run.Gradients[i]:R} vs finite difference {fd:R} (allowed {allowed:G3})");
                checkedCoordinates++;
            }
        }
        Assert.True(checkedCoordinates > 6 * model.NamedTensors.Count);
    }

    static void AssertForward(string what, ReadOnlySpan<float> got, ReadOnlySpan<double> want)
    {
        Assert.Equal(want.Length, got.Length);
        for (int i = 0; i < want.Length; i++)
            Assert.True(Math.Abs(got[i] - want[i]) <= ForwardTolerance * (1 + Math.Abs(want[i])), $"{what}[{i}]: model {got[i]:R} vs twin {want[i]:R}");
    }
}
