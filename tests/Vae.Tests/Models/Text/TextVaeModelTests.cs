// TextVaeModel beyond the gradient checks: every backend (CPU with the pool and with one thread, reference, CUDA on the
// PTX interpreter, and a real GPU when there is one) gives the same losses, posterior moments and gradients for the same
// parameters, batch and noise, with fed-back steps, word dropout and free bits switched on; padding changes nothing (a
// wider id table gives bit-identical results; a longer sequence joining the batch leaves the other sequences' losses
// unchanged, and the batch gradient is the row-weighted mean of the sequences' gradients); misuse is refused.
using Vae.Models.Text;
using Vae.Tests.Support;
using Xunit;

namespace Vae.Tests.Models.Text;

public sealed class TextVaeModelTests
{
    const int Vocab = 13, MaxLength = 8;

    /// <summary>Losses within 1e-5 relative; gradients within 1e-4 of the largest |gradient| plus 1e-3 relative (float sums in other orders).</summary>
    const double LossRel = 1e-5, LossAbs = 1e-5, GradientRel = 1e-3, GradientOfLargest = 1e-4;

    public static TheoryData<string, string> BackendCases => new()
    {
        { "cpu", "vae" },
        { "cpu-1", "vae" },
        { "reference", "vae" },
        { "cuda-interpreted", "vae" },
        { "cpu", "language-model" },
        { "cuda-interpreted", "language-model" },
    };

    [Theory]
    [MemberData(nameof(BackendCases))]
    public void Backends_agree_on_losses_and_gradients(string backendName, string variant)
    {
        var (mine, want) = RunOnTwoBackends(backendName, backendName == "reference" ? "cpu-1" : "reference", variant);
        AssertAgree(backendName, mine, want);
    }

    [GpuFact]
    public void Cuda_agrees_with_the_reference_backend()
    {
        var (vae, vaeWant) = RunOnTwoBackends("cuda", "reference", "vae");
        AssertAgree("cuda", vae, vaeWant);
        var (lm, lmWant) = RunOnTwoBackends("cuda", "reference", "language-model");
        AssertAgree("cuda", lm, lmWant);
    }

    /// <summary>The same model (two encoder layers), batch of 4 ragged sequences, noise, fed-back steps, word dropout and free bits on two backends.</summary>
    static (TextModelRun Mine, TextModelRun Want) RunOnTwoBackends(string backendName, string otherName, string variant)
    {
        int latent = variant == "language-model" ? 0 : 3;
        var config = new TextVaeConfig(Vocab, 6, 5, latent, MaxLength, encoderLayers: 2);
        var table = TextModelSetup.RandomSequences(19, Vocab, [8, 3, 6, 5], stride: 9);
        int[] indices = [2, 0, 3, 1];
        var noise = HostData.Normal(new System.Random(19), indices.Length * 3);
        bool[] feedBack = [false, true, false, true, true, false, false];
        TextModelRun Run(string name)
        {
            using var backend = Backends.Create(name);
            using var model = TextModelSetup.Model(backend, config, capacity: 5, seed: 23);
            return TextModelSetup.Run(model, table, indices, noise, feedBack, klWeight: 0.7f, freeBits: 0.05f, wordDropout: 0.3f, seed: 4, step: 2);
        }
        return (Run(backendName), Run(otherName));
    }

    static void AssertAgree(string backendName, TextModelRun got, TextModelRun want)
    {
        Tolerance.AssertClose($"{backendName}: totals", got.Totals, want.Totals, LossAbs, LossRel);
        Tolerance.AssertClose($"{backendName}: recon per sequence", got.Recon, want.Recon, LossAbs, LossRel);
        Tolerance.AssertClose($"{backendName}: KL per sequence", got.Kl, want.Kl, LossAbs, LossRel);
        Tolerance.AssertClose($"{backendName}: mu", got.Mu, want.Mu, LossAbs, LossRel);
        Tolerance.AssertClose($"{backendName}: logvar", got.LogVar, want.LogVar, LossAbs, LossRel);
        double largest = want.Gradients.Max(MathF.Abs);
        Assert.True(largest > 0, "all gradients are zero");
        Tolerance.AssertClose($"{backendName}: gradients", got.Gradients, want.Gradients, GradientOfLargest * largest, GradientRel);
    }

    // ---------------------------------------------------------------- padding

    [Theory]
    [InlineData("vae")]
    [InlineData("language-model")]
    public void A_wider_id_table_changes_nothing(string variant)
    {
        var config = new TextVaeConfig(Vocab, 6, 5, variant == "vae" ? 3 : 0, MaxLength);
        var table = TextModelSetup.RandomSequences(7, Vocab, [5, 8, 3], stride: 8);
        int[] indices = [0, 1, 2];
        var noise = HostData.Normal(new System.Random(7), 9);
        bool[] feedBack = [false, false, true, false, true];
        using var backend = Backends.Create("cpu-1");
        using var model = TextModelSetup.Model(backend, config, capacity: 3, seed: 8);
        var narrow = TextModelSetup.Run(model, table, indices, noise, feedBack, wordDropout: 0.25f, seed: 2, step: 5);
        var wide = TextModelSetup.Run(model, table.Widened(15), indices, noise, feedBack, wordDropout: 0.25f, seed: 2, step: 5);
        Tolerance.AssertBitwiseEqual("totals", wide.Totals, narrow.Totals);
        Tolerance.AssertBitwiseEqual("recon per sequence", wide.Recon, narrow.Recon);
        Tolerance.AssertBitwiseEqual("KL per sequence", wide.Kl, narrow.Kl);
        Tolerance.AssertBitwiseEqual("gradients", wide.Gradients, narrow.Gradients);
    }

    [Theory]
    [InlineData("vae", false)]
    [InlineData("vae", true)]
    [InlineData("language-model", false)]
    public void A_longer_sequence_in_the_batch_changes_no_other_sequence(string variant, bool feedBackSteps)
    {
        int latent = variant == "vae" ? 3 : 0;
        var config = new TextVaeConfig(Vocab, 6, 5, latent, MaxLength);
        // Sequences 0 and 1 (4 and 5 ids) pad to 5 steps alone and to 8 beside sequence 2.
        var table = TextModelSetup.RandomSequences(31, Vocab, [4, 5, 8], stride: 8);
        var noise = HostData.Normal(new System.Random(31), 3 * 3);
        bool[]? feedBack = feedBackSteps ? [false, true, true, false, true, true, false] : null;
        using var backend = Backends.Create("cpu");
        using var model = TextModelSetup.Model(backend, config, capacity: 3, seed: 9);

        var short2 = TextModelSetup.Run(model, table, [0, 1], noise, feedBack);
        var all3 = TextModelSetup.Run(model, table, [0, 1, 2], noise, feedBack);
        var longOnly = TextModelSetup.Run(model, table, [2], noise.Skip(2 * latent).ToArray(), feedBack);

        Tolerance.AssertClose("recon of the short sequences", all3.Recon.AsSpan(0, 2), short2.Recon, LossAbs, LossRel);
        Tolerance.AssertClose("KL of the short sequences", all3.Kl.AsSpan(0, 2), short2.Kl, LossAbs, LossRel);
        Tolerance.AssertClose("recon of the long sequence", all3.Recon.AsSpan(2, 1), longOnly.Recon, LossAbs, LossRel);
        // The objective is a mean over the batch: 3 g(all) = 2 g(short pair) + 1 g(long one).
        var combined = new float[all3.Gradients.Length];
        var mixed = new float[all3.Gradients.Length];
        for (int i = 0; i < combined.Length; i++)
        {
            combined[i] = 3 * all3.Gradients[i];
            mixed[i] = 2 * short2.Gradients[i] + longOnly.Gradients[i];
        }
        double largest = mixed.Max(MathF.Abs);
        Tolerance.AssertClose("3 g(all) vs 2 g(short) + g(long)", combined, mixed, GradientOfLargest * largest, GradientRel);
    }

    // ---------------------------------------------------------------- misuse

    [Fact]
    public void Misuse_is_refused_with_clear_messages()
    {
        var config = new TextVaeConfig(Vocab, 4, 3, 2, MaxLength);
        using var backend = Backends.Create("cpu");
        using var model = TextModelSetup.Model(backend, config, capacity: 2, seed: 1);
        Assert.Contains("LoadBatch", Assert.Throws<InvalidOperationException>(() => model.Forward()).Message, StringComparison.Ordinal);
        var table = TextModelSetup.RandomSequences(1, Vocab, [8, 3, 9], stride: 9);
        Assert.Throws<ArgumentOutOfRangeException>(() => model.LoadBatch(table.Tokens, table.Stride, table.Lengths, [0, 1, 1]));
        var tooLong = Assert.Throws<ArgumentException>(() => model.LoadBatch(table.Tokens, table.Stride, table.Lengths, [2]));
        Assert.Contains("length 9", tooLong.Message, StringComparison.Ordinal);
        var badToken = (int[])table.Tokens.Clone();
        badToken[2] = Vocab;
        var outside = Assert.Throws<ArgumentException>(() => model.LoadBatch(badToken, table.Stride, table.Lengths, [0]));
        Assert.Contains("vocabulary", outside.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => model.LoadBatch(table.Tokens, table.Stride, table.Lengths, [0], wordDropout: 1f));
        Assert.Throws<ArgumentException>(() => model.Decode(new float[3], 2, TextDecoding.GreedyDecoding));
        Assert.Throws<ArgumentException>(() => model.Decode([0f, float.NaN], 1, TextDecoding.GreedyDecoding));
    }
}
