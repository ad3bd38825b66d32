// t-SNE: perplexity calibration (every conditional distribution has the requested perplexity), the joint affinities
// (symmetric, summing to 1), the KL gradient against central finite differences of the KL, separation of well
// separated Gaussian clusters (nearest-neighbour class agreement in the embedding), a decreasing KL objective,
// bit-exact determinism for a seed and any thread count, and bad input.
using Vae.Analysis;
using Xunit;

namespace Vae.Tests.Analysis;

public sealed class TsneTests
{
    /// <summary>clusters x perCluster points in `dimensions`-D: cluster k around a random centre at distance ~spread, unit-variance noise.</summary>
    static (float[] Data, byte[] Labels) Clusters(int seed, int clusters, int perCluster, int dimensions, double spread)
    {
        var rng = new System.Random(seed);
        var centres = new double[clusters * dimensions];
        for (int i = 0; i < centres.Length; i++) centres[i] = (rng.NextDouble() * 2 - 1) * spread;
        int n = clusters * perCluster;
        var data = new float[n * dimensions];
        var labels = new byte[n];
        for (int i = 0; i < n; i++)
        {
            int k = rng.Next(clusters);   // interleaved, so no order can leak the class
            labels[i] = (byte)k;
            for (int j = 0; j < dimensions; j++)
            {
                double u1 = 1 - rng.NextDouble(), u2 = rng.NextDouble();
                data[i * dimensions + j] = (float)(centres[k * dimensions + j] + Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
            }
        }
        return (data, labels);
    }

    /// <summary>Fraction of points whose nearest other point (2-D Euclidean) has the same label.</summary>
    static double NearestNeighbourAgreement(float[] embedding, byte[] labels)
    {
        int n = labels.Length, agree = 0;
        for (int i = 0; i < n; i++)
        {
            double best = double.PositiveInfinity;
            int nearest = -1;
            for (int j = 0; j < n; j++)
            {
                if (j == i) continue;
                double dx = embedding[2 * i] - embedding[2 * j], dy = embedding[2 * i + 1] - embedding[2 * j + 1];
                double d = dx * dx + dy * dy;
                if (d < best) { best = d; nearest = j; }
            }
            if (labels[nearest] == labels[i]) agree++;
        }
        return agree / (double)n;
    }

    [Theory]
    [InlineData(5.0)]
    [InlineData(15.0)]
    [InlineData(30.0)]
    public void Every_conditional_distribution_has_the_requested_perplexity(double perplexity)
    {
        var (data, _) = Clusters(1, 4, 30, 6, 5);
        int n = 120;
        var p = Tsne.ConditionalProbabilities(data, n, 6, perplexity, null, out var betas);
        Assert.Equal(n, betas.Length);
        for (int i = 0; i < n; i++)
        {
            double sum = 0, entropy = 0;
            for (int j = 0; j < n; j++)
            {
                double v = p[i * n + j];
                Assert.True(v >= 0);
                sum += v;
                if (v > 0) entropy -= v * Math.Log(v);
            }
            Assert.Equal(0.0, p[i * n + i]);
            Assert.Equal(1.0, sum, 12);
            Assert.True(Math.Abs(Math.Exp(entropy) / perplexity - 1) < 1e-4, $"row {i}: perplexity {Math.Exp(entropy)} instead of {perplexity}");
            Assert.True(betas[i] > 0);
        }
    }

    [Fact]
    public void Joint_affinities_are_symmetric_and_sum_to_one()
    {
        var (data, _) = Clusters(2, 3, 20, 4, 5);
        int n = 60;
        var conditional = Tsne.ConditionalProbabilities(data, n, 4, 10, null, out _);
        var p = Tsne.JointProbabilities(data, n, 4, 10, null, out _);
        double sum = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                Assert.Equal(p[i * n + j], p[j * n + i]);
                Assert.Equal((conditional[i * n + j] + conditional[j * n + i]) / (2.0 * n), p[i * n + j], 15);
                sum += p[i * n + j];
            }
        Assert.Equal(1.0, sum, 12);
    }

    [Fact]
    public void The_gradient_matches_finite_differences_of_the_KL()
    {
        var (data, _) = Clusters(3, 3, 10, 5, 4);
        int n = 30;
        var p = Tsne.JointProbabilities(data, n, 5, 5, null, out _);
        var rng = new System.Random(4);
        var y = Enumerable.Range(0, 2 * n).Select(_ => rng.NextDouble() * 4 - 2).ToArray();
        var gradient = Tsne.KlGradient(p, y, n);
        const double h = 1e-5;
        for (int k = 0; k < 2 * n; k++)
        {
            var plus = (double[])y.Clone();
            var minus = (double[])y.Clone();
            plus[k] += h;
            minus[k] -= h;
            double numeric = (Tsne.KlDivergence(p, plus, n) - Tsne.KlDivergence(p, minus, n)) / (2 * h);
            Assert.True(Math.Abs(numeric - gradient[k]) < 1e-6 + 1e-5 * Math.Abs(numeric), $"coordinate {k}: analytic {gradient[k]}, numeric {numeric}");
        }
    }

    [Fact]
    public void Well_separated_clusters_stay_separated_and_the_KL_decreases()
    {
        var (data, labels) = Clusters(5, 5, 40, 10, 10);
        int n = labels.Length;
        var result = Tsne.Embed(data, n, 10, new TsneOptions { Perplexity = 15, Iterations = 500, Seed = 3, KlEvery = 25 });

        Assert.Equal(2 * n, result.Embedding.Length);
        double agreement = NearestNeighbourAgreement(result.Embedding, labels);
        Assert.True(agreement >= 0.99, $"nearest-neighbour class agreement {agreement}");

        // Every cluster is tighter than the distance between cluster centres in the map.
        var centres = new double[5 * 2];
        var counts = new int[5];
        for (int i = 0; i < n; i++) { centres[2 * labels[i]] += result.Embedding[2 * i]; centres[2 * labels[i] + 1] += result.Embedding[2 * i + 1]; counts[labels[i]]++; }
        for (int k = 0; k < 5; k++) { centres[2 * k] /= counts[k]; centres[2 * k + 1] /= counts[k]; }
        double maxRadius = 0, minSeparation = double.PositiveInfinity;
        for (int i = 0; i < n; i++)
            maxRadius = Math.Max(maxRadius, Math.Sqrt(Math.Pow(result.Embedding[2 * i] - centres[2 * labels[i]], 2) + Math.Pow(result.Embedding[2 * i + 1] - centres[2 * labels[i] + 1], 2)));
        for (int a = 0; a < 5; a++)
            for (int b = a + 1; b < 5; b++)
                minSeparation = Math.Min(minSeparation, Math.Sqrt(Math.Pow(centres[2 * a] - centres[2 * b], 2) + Math.Pow(centres[2 * a + 1] - centres[2 * b + 1], 2)));
        Assert.True(minSeparation > 2 * maxRadius, $"closest cluster centres {minSeparation} apart, widest cluster radius {maxRadius}");

        // The objective: recorded at 0, 25, ..., 500; the final value is the KL of the returned embedding.
        var history = result.KlHistory;
        Assert.Equal(Enumerable.Range(0, 21).Select(k => 25 * k), history.Select(h => h.Iteration));
        Assert.True(history[^1].Kl < 0.5 * history[0].Kl, $"KL {history[0].Kl} -> {history[^1].Kl}");
        var p = Tsne.JointProbabilities(data, n, 10, 15, null, out _);
        Assert.Equal(result.FinalKl, Tsne.KlDivergence(p, result.Embedding.Select(v => (double)v).ToArray(), n), 4);
        // After early exaggeration the plain KL is being minimised: it must keep going down.
        var late = history.Where(h => h.Iteration >= 300).Select(h => h.Kl).ToArray();
        for (int k = 1; k < late.Length; k++)
            Assert.True(late[k] <= late[k - 1] + 1e-3, $"KL rose from {late[k - 1]} to {late[k]} after the exaggeration phase");
        Assert.True(late[^1] < history.First(h => h.Iteration == 250).Kl, "the KL must fall after the exaggeration phase ends");
    }

    [Fact]
    public void The_same_seed_gives_the_same_embedding_for_any_thread_count()
    {
        var (data, _) = Clusters(6, 3, 30, 5, 6);
        int n = 90;
        var options = new TsneOptions { Perplexity = 10, Iterations = 150, Seed = 9, KlEvery = 50 };
        var a = Tsne.Embed(data, n, 5, options);
        var b = Tsne.Embed(data, n, 5, options with { Threads = 1 });
        var c = Tsne.Embed(data, n, 5, options with { Threads = 3 });
        Assert.Equal(a.Embedding, b.Embedding);
        Assert.Equal(a.Embedding, c.Embedding);
        Assert.Equal(a.KlHistory, b.KlHistory);

        var other = Tsne.Embed(data, n, 5, options with { Seed = 10 });
        Assert.NotEqual(a.Embedding, other.Embedding);
    }

    [Fact]
    public void The_automatic_learning_rate_follows_the_point_count()
    {
        var (data, _) = Clusters(7, 2, 40, 3, 4);
        var result = Tsne.Embed(data, 80, 3, new TsneOptions { Perplexity = 5, Iterations = 1 });
        Assert.Equal(200, result.LearningRate);   // max(80 / 12, 200)
        Assert.Equal(123.0, Tsne.Embed(data, 80, 3, new TsneOptions { Perplexity = 5, Iterations = 1, LearningRate = 123 }).LearningRate);
    }

    [Fact]
    public void Bad_input_is_refused_with_a_reason()
    {
        var (data, _) = Clusters(8, 2, 10, 3, 4);
        var tooFew = Assert.Throws<ArgumentException>(() => Tsne.Embed(data, 20, 3, new TsneOptions { Perplexity = 30 }));
        Assert.Contains("needs at least 91 points", tooFew.Message, StringComparison.Ordinal);
        Assert.Contains("perplexity of at most 6", tooFew.Message, StringComparison.Ordinal);

        var nan = (float[])data.Clone();
        nan[7] = float.NaN;
        Assert.Contains("finite", Assert.Throws<ArgumentException>(() => Tsne.Embed(nan, 20, 3, new TsneOptions { Perplexity = 3 })).Message, StringComparison.Ordinal);
        Assert.Contains("at most 5000 points",
            Assert.Throws<ArgumentException>(() => Tsne.ConditionalProbabilities(new float[5001], 5001, 1, 30, null, out _)).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => Tsne.Embed(data, 21, 3, new TsneOptions { Perplexity = 3 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => Tsne.Embed(data, 20, 3, new TsneOptions { Perplexity = 3, Iterations = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => Tsne.Embed(data, 20, 3, new TsneOptions { Perplexity = 3, LearningRate = -1 }));
    }
}
