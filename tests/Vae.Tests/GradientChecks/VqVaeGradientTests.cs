// Gradient checks of the VQ-VAE against a double-precision twin (DoubleVqVae):
// - Finite differences of the whole objective with straight-through semantics. Quantization is piecewise constant, so
//   the objective differentiated is the surrogate the straight-through estimator is the exact gradient of: decoder
//   input z_e + (e_code - z_e) with the bracket frozen at the base point, codebook loss ||sg(z_e) - e||^2 with z_e frozen
//   (left out with EMA), commitment * ||z_e - sg(e)||^2 with e frozen. It equals the real objective at the base point,
//   and every perturbation is checked to leave each latent vector's code unchanged. Every trained parameter is
//   differentiated; the non-trained state (EMA statistics, restarts, prior) must get exactly zero gradient, and so
//   must the codebook under EMA.
// - The codebook and commitment gradients alone, against their formulas in double: the codebook gradient is
//   sum over the vectors using code k of 2 (e_k - z_e) / rows, and the commitment weight adds
//   2 commitment (z_e - e) / rows to the gradient of z_e (seen in the last encoder layer's bias gradient).
using Vae.Models;
using Vae.Tests.Support;
using Xunit;

namespace Vae.Tests.GradientChecks;

public sealed class VqVaeGradientTests
{
    public static TheoryData<string, int, int[], int, int, int, bool, string, float> Configurations => new()
    {
        // backend, input, hidden, positions, code size, codes, ema, recon, commitment
        { "cpu", 12, new[] { 7 }, 3, 2, 5, false, "bce", 0.25f },
        { "cpu", 10, Array.Empty<int>(), 2, 3, 4, true, "mse", 0.25f },
        { "cpu", 9, new[] { 8, 6 }, 4, 2, 6, false, "mse", 1.5f },
        { "cpu", 11, new[] { 6 }, 3, 2, 4, true, "bce", 0f },
        { "reference", 12, new[] { 7 }, 3, 2, 5, false, "bce", 0.25f },
        { "cuda-interpreted", 10, new[] { 6 }, 3, 2, 5, false, "bce", 0.25f },
        { "cuda-interpreted", 9, new[] { 5 }, 2, 3, 4, true, "mse", 0.5f },
    };

    const int Batch = 5;

    [Theory]
    [MemberData(nameof(Configurations))]
    public void Gradient_matches_finite_differences_of_the_straight_through_objective(string backendName, int input, int[] hidden, int positions,
        int codeDim, int codes, bool ema, string recon, float commitment)
    {
        var config = new VqVaeConfig(input, hidden, positions, codeDim, codes, commitment, ema, reconstruction: VaeConfig.ParseReconstruction(recon));
        int seed = input * 31 + positions * 7 + codes;
        using var backend = Backends.Create(backendName);
        using var model = VqVaeSetup.Prepare(backend, config, Batch, seed, out var images, out var parameters);
        model.Forward(Batch);
        model.Backward(Batch, 1f, 0f);
        var gradients = VqVaeSetup.Download(backend, model.Parameters.Gradients);
        var totals = VqVaeSetup.Download(backend, model.LossTotals);
        var quantization = VqVaeSetup.Download(backend, model.QuantizationTotal);
        var floatCodes = VqVaeSetup.Download(backend, model.Codes.Slice(0, Batch * positions));

        var twin = new DoubleVqVae(config, model.NamedTensors, parameters);
        var baseZe = twin.Encode(images, Batch);
        var baseCodebook = twin.Codebook();
        var (baseCodes, baseDistances) = twin.Nearest(baseZe, baseCodebook);
        Assert.Equal(baseCodes, floatCodes);
        Assert.True(baseCodes.Distinct().Count() > 1, "the test data should use more than one code");

        double Objective()
        {
            var ze = twin.Encode(images, Batch);
            var codebook = twin.Codebook();
            var (now, _) = twin.Nearest(ze, codebook);
            if (!now.SequenceEqual(baseCodes)) throw new InvalidOperationException("a perturbation changed a code assignment; the finite difference would cross a quantization boundary");
            int d = codeDim;
            var decoderInput = new double[ze.Length];
            double codebookLoss = 0, commitmentLoss = 0;
            for (int i = 0; i < ze.Length; i++)
            {
                int code = baseCodes[i / d], j = i % d;
                decoderInput[i] = ze[i] + (baseCodebook[code * d + j] - baseZe[i]);
                codebookLoss += (baseZe[i] - codebook[code * d + j]) * (baseZe[i] - codebook[code * d + j]);
                commitmentLoss += (ze[i] - baseCodebook[code * d + j]) * (ze[i] - baseCodebook[code * d + j]);
            }
            double reconstruction = twin.Recon(twin.DecodeLogits(decoderInput, Batch), images, Batch);
            return (reconstruction + (ema ? 0 : codebookLoss) + commitment * commitmentLoss) / Batch;
        }

        // The reported values at the base point: recon, P ln K per row, the squared distances.
        var logits = twin.DecodeLogits(baseCodes.SelectMany(c => baseCodebook.Skip(c * codeDim).Take(codeDim)).ToArray(), Batch);
        double exactRecon = twin.Recon(logits, images, Batch);
        Assert.True(Math.Abs(totals[0] - exactRecon) <= 1e-5 * Math.Abs(exactRecon) + 1e-4, $"recon {totals[0]} vs {exactRecon}");
        Assert.Equal(Batch * positions * Math.Log(codes), totals[1], 1e-4 * Batch * positions * Math.Log(codes) + 1e-6);
        Assert.True(Math.Abs(quantization[0] - baseDistances.Sum()) <= 1e-5 * baseDistances.Sum() + 1e-6, $"quantization {quantization[0]} vs {baseDistances.Sum()}");

        var fd = new double[parameters.Length];
        double largest = 0;
        var trained = model.NamedTensors.Where(t => t.Name.StartsWith("enc.", StringComparison.Ordinal) || t.Name.StartsWith("dec.", StringComparison.Ordinal)
            || (t.Name == "codebook.weight" && !ema)).ToList();
        foreach (var t in trained)
            for (int i = t.Offset; i < t.Offset + t.Length; i++)
            {
                double saved = twin.Parameters[i], h = 1e-6 * Math.Max(1, Math.Abs(saved));
                twin.Parameters[i] = saved + h;
                double up = Objective();
                twin.Parameters[i] = saved - h;
                double down = Objective();
                twin.Parameters[i] = saved;
                fd[i] = (up - down) / (2 * h);
                largest = Math.Max(largest, Math.Abs(fd[i]));
            }
        foreach (var t in model.NamedTensors)
        {
            bool isTrained = trained.Contains(t);
            for (int i = t.Offset; i < t.Offset + t.Length; i++)
            {
                if (!isTrained)
                {
                    Assert.True(gradients[i] == 0f, $"{t.Name}[{i - t.Offset}] is not trained (ema {ema}) but has gradient {gradients[i]}");
                    continue;
                }
                double allowed = 2e-3 * Math.Abs(fd[i]) + 2e-5 * largest;
                Assert.True(Math.Abs(gradients[i] - fd[i]) <= allowed,
                    $"{backendName}: {t.Name}[{i - t.Offset}] gradient {gradients[i]:R} vs finite difference {fd[i]:R} (allowed {allowed:G3})");
            }
        }
    }

    [Theory]
    [InlineData("cpu")]
    [InlineData("cuda-interpreted")]
    public void Codebook_and_commitment_gradients_match_their_formulas(string backendName)
    {
        const int input = 10, positions = 3, codeDim = 2, codes = 4, batch = 6;
        const float commitment = 0.7f;
        using var backend = Backends.Create(backendName);
        // Two models with the same parameters and images, with and without the commitment term.
        using var model = VqVaeSetup.Prepare(backend, new VqVaeConfig(input, [8], positions, codeDim, codes, commitment, ema: false), batch, seed: 91, out _, out _);
        using var plain = VqVaeSetup.Prepare(backend, new VqVaeConfig(input, [8], positions, codeDim, codes, 0f, ema: false), batch, seed: 91, out _, out _);
        model.Forward(batch);
        model.Backward(batch, 1f, 0f);
        plain.Forward(batch);
        plain.Backward(batch, 1f, 0f);

        int n = batch * positions;
        var ze = VqVaeSetup.Download(backend, model.EncoderOutput.Slice(0, n * codeDim));
        var codebook = VqVaeSetup.Download(backend, model.Codebook);
        var assigned = VqVaeSetup.Download(backend, model.Codes.Slice(0, n));
        Assert.Equal(assigned, VqVaeSetup.Download(backend, plain.Codes.Slice(0, n)));

        // Codebook: sum over the vectors using code k of 2 (e_k - z_e) / rows, in double.
        var want = new double[codes * codeDim];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < codeDim; j++)
                want[assigned[i] * codeDim + j] += 2.0 * (codebook[assigned[i] * codeDim + j] - ze[i * codeDim + j]) / batch;
        var layout = model.Parameters.Layout;
        var gradients = VqVaeSetup.Download(backend, model.Parameters.Gradients);
        var codebookGradient = gradients.AsSpan(layout["codebook.weight"].Offset, codes * codeDim).ToArray();
        for (int i = 0; i < want.Length; i++)
            Assert.True(Math.Abs(codebookGradient[i] - want[i]) <= 1e-6 + 1e-5 * Math.Abs(want[i]), $"codebook gradient [{i}] {codebookGradient[i]} vs {want[i]}");
        Assert.Contains(want, w => w != 0);

        // Commitment: the last encoder layer's bias gradient is the column sum of dz_e; the commitment adds
        // sum over rows of 2 commitment (z_e - e) / rows to it (P*D columns), and nothing to the codebook.
        var last = layout["enc.1.bias"];
        var plainGradients = VqVaeSetup.Download(backend, plain.Parameters.Gradients);
        for (int c = 0; c < positions * codeDim; c++)
        {
            double added = 0;
            for (int r = 0; r < batch; r++)
            {
                int vector = r * positions + c / codeDim, j = c % codeDim;
                added += 2.0 * commitment * (ze[vector * codeDim + j] - codebook[assigned[vector] * codeDim + j]) / batch;
            }
            double got = gradients[last.Offset + c] - (double)plainGradients[last.Offset + c];
            Assert.True(Math.Abs(got - added) <= 1e-5 + 1e-4 * Math.Abs(added), $"commitment part of enc.1.bias gradient [{c}]: {got} vs {added}");
        }
        Assert.Equal(codebookGradient, plainGradients.AsSpan(layout["codebook.weight"].Offset, codes * codeDim).ToArray());
    }
}
