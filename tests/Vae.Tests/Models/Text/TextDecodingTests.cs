// How the text model turns logits into tokens: TextDecoding.Choose (top-k never leaves the k largest logits, ties at
// the cut-off included; temperature 0 and top-k 1 are the arg-max; at temperature T the draws follow the softmax of
// logits / T over the kept tokens, by a chi-square bound on many draws from fixed seeds) and TextVaeModel.Decode
// (greedy decoding equals an arg-max loop over the double-precision twin's logits and stops at <eos>; sampled decoding
// gives the same sentences whatever the capacity splits the batch into, and the same seed the same sentences).
using FsCheck.Fluent;
using Vae.Data.Text;
using Vae.Models.Text;
using Vae.Tests.Support;
using Xunit;

namespace Vae.Tests.Models.Text;

public sealed class TextDecodingTests
{
    /// <summary>Logits of a case: normal numbers, or in half the cases rounded to a coarse grid so that ties occur.</summary>
    static float[] Logits(int seed, int count, bool ties)
    {
        var logits = HostData.Normal(new System.Random(seed), count, 2);
        if (ties) for (int i = 0; i < count; i++) logits[i] = MathF.Round(logits[i]);
        return logits;
    }

    [Fact]
    public void Top_k_never_returns_a_token_outside_the_k_largest_logits()
    {
        var cases =
            from count in Gen.Choose(1, 40)
            from k in Gen.Choose(1, 12)
            from seed in Gen.Choose(0, int.MaxValue)
            from ties in Gen.Elements(false, true)
            from temperature in Gen.Elements(0.25f, 1f, 3f)
            select (count, k, seed, ties, temperature);
        PropertyRunner.Check(cases, c =>
        {
            var logits = Logits(c.seed, c.count, c.ties);
            var decoding = new TextDecoding(c.temperature, c.k, (ulong)c.seed);
            float cutoff = c.k >= c.count ? float.NegativeInfinity : logits.OrderDescending().ElementAt(c.k - 1);
            for (int sequence = 0; sequence < 4; sequence++)
                for (int step = 0; step < 8; step++)
                {
                    int chosen = decoding.Choose(logits, sequence, step);
                    Assert.InRange(chosen, 0, c.count - 1);
                    Assert.True(logits[chosen] >= cutoff, $"token {chosen} (logit {logits[chosen]}) is below the top-{c.k} cut-off {cutoff}");
                }
        }, cases: 200);
    }

    [Fact]
    public void Temperature_zero_and_top_one_return_the_first_arg_max()
    {
        var cases =
            from count in Gen.Choose(1, 30)
            from seed in Gen.Choose(0, int.MaxValue)
            from ties in Gen.Elements(false, true)
            select (count, seed, ties);
        PropertyRunner.Check(cases, c =>
        {
            var logits = Logits(c.seed, c.count, c.ties);
            int first = Array.IndexOf(logits, logits.Max());
            Assert.True(TextDecoding.GreedyDecoding.Greedy);
            Assert.Equal(first, TextDecoding.GreedyDecoding.Choose(logits, 0, 0));
            var topOne = new TextDecoding(1f, 1, (ulong)c.seed);
            Assert.True(topOne.Greedy);
            for (int step = 0; step < 5; step++) Assert.Equal(first, topOne.Choose(logits, 3, step));
        }, cases: 100);
    }

    [Theory]
    [InlineData(1f, 0)]
    [InlineData(0.5f, 0)]
    [InlineData(2f, 4)]
    public void Draws_follow_the_softmax_of_the_kept_tokens(float temperature, int topK)
    {
        // 8 tokens, one far below the rest (rarely drawn at T = 1) and two tied.
        float[] logits = [1.2f, -0.4f, 0.3f, 2.0f, -3.5f, 0.3f, 0.9f, -1.0f];
        var decoding = new TextDecoding(temperature, topK, seed: 77);
        const int draws = 40_000;
        var counts = new int[logits.Length];
        for (int i = 0; i < draws; i++) counts[decoding.Choose(logits, i % 200, i / 200)]++;

        float cutoff = topK == 0 ? float.NegativeInfinity : logits.OrderDescending().ElementAt(topK - 1);
        var weights = logits.Select(l => l >= cutoff ? Math.Exp(l / temperature) : 0).ToArray();
        double total = weights.Sum(), chiSquare = 0;
        int kept = 0;
        for (int j = 0; j < logits.Length; j++)
        {
            if (weights[j] == 0)
            {
                Assert.True(counts[j] == 0, $"token {j} is outside the top {topK} but was drawn {counts[j]} times");
                continue;
            }
            kept++;
            double expected = draws * weights[j] / total;
            chiSquare += (counts[j] - expected) * (counts[j] - expected) / expected;
        }
        // The chi-square statistic has kept - 1 degrees of freedom: mean dof, standard deviation sqrt(2 dof). Six standard
        // deviations above the mean is far beyond chance, while a wrong temperature or a skewed draw exceeds it by far.
        int dof = kept - 1;
        double bound = dof + 6 * Math.Sqrt(2.0 * dof);
        Assert.True(chiSquare < bound, $"chi-square {chiSquare:F1} with {dof} degrees of freedom exceeds {bound:F1}; counts {string.Join(", ", counts)}");
    }

    [Fact]
    public void Choose_refuses_bad_arguments()
    {
        Assert.Throws<ArgumentException>(() => TextDecoding.GreedyDecoding.Choose([], 0, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new TextDecoding(-1f, 0, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new TextDecoding(float.NaN, 0, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new TextDecoding(1f, -2, 1));
    }

    // ---------------------------------------------------------------- Decode

    const int Vocab = 12, MaxLength = 9;

    /// <summary>
    /// A model whose &lt;eos&gt; output bias is raised by <paramref name="eosBias"/>, so that greedy decoding from random
    /// parameters ends some sentences early and runs others to the length limit.
    /// </summary>
    static TextVaeModel Model(IComputeBackend backend, int latent, int capacity, float eosBias)
    {
        var model = TextModelSetup.Model(backend, new TextVaeConfig(Vocab, 6, 8, latent, MaxLength), capacity, seed: 12);
        var bias = model.Parameters.Parameter("output.bias");
        var host = TextModelSetup.Download(backend, bias, Vocab);
        host[Vocabulary.Eos] += eosBias;
        backend.Upload<float>(host, bias);
        return model;
    }

    [Theory]
    [InlineData("cpu", 4, 0.4f)]
    [InlineData("reference", 4, 0.4f)]
    [InlineData("cuda-interpreted", 4, 0.4f)]
    [InlineData("cpu", 0, 0.5f)]
    public void Greedy_decoding_is_an_arg_max_loop_over_the_logits_and_stops_at_eos(string backendName, int latent, float eosBias)
    {
        const int count = 7;
        using var backend = Backends.Create(backendName);
        using var model = Model(backend, latent, capacity: 3, eosBias);   // 7 sequences in chunks of 3
        var latents = HostData.Normal(new System.Random(3), count * latent, 1.5);
        var twin = TextModelSetup.Twin(model);
        var (want, margin) = twin.GreedyDecode(latents, count);
        Assert.True(margin > 1e-4, $"an arg-max is nearly tied ({margin}); the float model could break the tie either way");

        var got = model.Decode(latents, count, TextDecoding.GreedyDecoding);
        for (int i = 0; i < count; i++)
            Assert.True(want[i].SequenceEqual(got[i]), $"sequence {i}: model [{string.Join(" ", got[i])}] vs arg-max loop [{string.Join(" ", want[i])}]");
        Assert.Equal(got, model.Decode(latents, count, TextDecoding.GreedyDecoding));
        foreach (var s in got) Assert.DoesNotContain(Vocabulary.Eos, s);
        if (latent == 0)
            Assert.All(got, s => Assert.Equal(got[0], s));   // no latent: every sentence is the one greedy sentence
        else
            Assert.Contains(got, s => !s.SequenceEqual(got[0]));
        // Some sentences stop at <eos> before the limit (MaxLength - 1 tokens would be <eos>-less to the end).
        Assert.Contains(got, s => s.Length < MaxLength - 1);
    }

    [Fact]
    public void Sampled_decoding_depends_on_the_seed_only_not_on_the_batch_split()
    {
        const int count = 6, latent = 3;
        using var backend = Backends.Create("cpu");
        using var whole = Model(backend, latent, capacity: count, eosBias: 0.4f);
        using var split = Model(backend, latent, capacity: 4, eosBias: 0.4f);
        var latents = HostData.Normal(new System.Random(4), count * latent);
        var decoding = new TextDecoding(1f, 5, seed: 9);
        var a = whole.Decode(latents, count, decoding);
        Assert.Equal(a, split.Decode(latents, count, decoding));
        Assert.Equal(a, whole.Decode(latents, count, decoding));
        var other = whole.Decode(latents, count, new TextDecoding(1f, 5, seed: 10));
        Assert.NotEqual(a, other);
        Assert.NotEqual(a, whole.Decode(latents, count, TextDecoding.GreedyDecoding));
    }
}
