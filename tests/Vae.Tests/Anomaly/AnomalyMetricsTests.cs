// The detector metrics of Vae.Anomaly: the ROC AUC against hand-computed cases and against a brute-force count over
// every (positive, negative) pair on random data with many ties (FsCheck); the percentile threshold on known data;
// precision, recall and F1 at a threshold on a hand example; the highest- and lowest-scored indices.
using FsCheck;
using FsCheck.Fluent;
using Vae.Anomaly;
using Vae.Tests.Support;
using Xunit;

namespace Vae.Tests.Anomaly;

public sealed class AnomalyMetricsTests
{
    static bool[] Labels(string pattern) => pattern.Select(ch => ch == '1').ToArray();

    [Theory]
    [InlineData(new double[] { 1, 2, 3, 4 }, "0011", 1.0)]                 // perfect separation
    [InlineData(new double[] { 1, 2, 3, 4 }, "1100", 0.0)]                 // perfectly reversed
    [InlineData(new double[] { 5, 5, 5, 5 }, "1010", 0.5)]                 // all tied: every pair counts one half
    [InlineData(new double[] { 0.1, 0.4, 0.35, 0.8 }, "0011", 0.75)]       // 3 of the 4 pairs ordered right
    [InlineData(new double[] { 1, 2, 2, 3 }, "0101", 0.875)]               // pairs: 2>1, 2=2 (1/2), 3>1, 3>2 -> 3.5 / 4
    [InlineData(new double[] { 3, 1 }, "10", 1.0)]                         // one positive, one negative
    [InlineData(new double[] { 2, 2, 1, 3, 3, 1 }, "100110", 8.5 / 9)]      // pos {2,3,3} vs neg {2,1,1}: (1/2+1+1) + 3 + 3 of 9
    public void Auc_matches_hand_computed_cases(double[] scores, string positives, double expected)
    {
        var labels = Labels(positives);
        double brute = BruteForceTwiceU(scores, labels, out long p, out long n) / 2.0 / (p * n);
        Assert.Equal(expected, brute, 12);           // the hand value, confirmed by counting pairs
        Assert.Equal(expected, RocAuc.Compute(scores, labels), 12);
    }

    [Fact]
    public void Auc_handles_infinities_and_signed_zeros()
    {
        double[] scores = [double.NegativeInfinity, -0.0, 0.0, double.PositiveInfinity];
        Assert.Equal(1.0, RocAuc.Compute(scores, Labels("0001")));
        Assert.Equal(0.5, RocAuc.Compute([-0.0, 0.0], Labels("10")));   // -0 and +0 are the same score: a tie
        Assert.Equal(0.0, RocAuc.Compute(scores, Labels("1000")));
    }

    [Fact]
    public void Auc_rejects_undefined_cases()
    {
        var e = Assert.Throws<ArgumentException>(() => RocAuc.Compute([1, 2, 3], Labels("000")));
        Assert.Contains("0 positive and 3 negative", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => RocAuc.Compute([1, 2], Labels("11")));
        Assert.Throws<ArgumentException>(() => RocAuc.Compute([1, double.NaN], Labels("10")));
        Assert.Throws<ArgumentException>(() => RocAuc.Compute([1, 2, 3], Labels("10")));
    }

    /// <summary>2U by definition: +2 for every (positive, negative) pair where the positive scores higher, +1 for a tie.</summary>
    static long BruteForceTwiceU(double[] scores, bool[] positive, out long positives, out long negatives)
    {
        long twiceU = 0;
        positives = positive.Count(x => x);
        negatives = positive.Length - positives;
        for (int i = 0; i < scores.Length; i++)
            for (int j = 0; j < scores.Length; j++)
                if (positive[i] && !positive[j])
                    twiceU += scores[i] > scores[j] ? 2 : scores[i] == scores[j] ? 1 : 0;
        return twiceU;
    }

    sealed record AucCase(int Count, int Seed, int Levels, double PositiveShare)
    {
        /// <summary>Scores drawn from <see cref="Levels"/> distinct values (few levels: many ties), at least one of each label.</summary>
        public (double[] Scores, bool[] Positive) Data()
        {
            var rng = new System.Random(Seed);
            var scores = new double[Count];
            var positive = new bool[Count];
            for (int i = 0; i < Count; i++)
            {
                positive[i] = rng.NextDouble() < PositiveShare;
                // positives drift upwards a little, so the AUC ranges over (0, 1) and not just around 1/2
                double level = rng.Next(Levels) + (positive[i] ? rng.Next(3) : 0);
                scores[i] = Levels > 1000 ? rng.NextDouble() * 100 - 50 + (positive[i] ? 10 : 0) : level * 0.25 - 3;
            }
            positive[0] = true;
            positive[^1] = false;
            return (scores, positive);
        }
    }

    static readonly Gen<AucCase> AucCases =
        from count in Gen.Choose(2, 300)
        from seed in Generators.Seed
        from levels in Gen.Elements(new[] { 1, 2, 3, 5, 20, 100_000 })
        from share in Gen.Elements(new[] { 0.05, 0.3, 0.5, 0.9 })
        select new AucCase(count, seed, levels, share);

    [Fact]
    public void Auc_equals_the_brute_force_pair_count_on_random_data() => PropertyRunner.Check(AucCases, c =>
    {
        var (scores, positive) = c.Data();
        long twiceU = BruteForceTwiceU(scores, positive, out long p, out long n);
        double u = RocAuc.MannWhitneyU(scores, positive, out long positives, out long negatives);
        Assert.Equal(p, positives);
        Assert.Equal(n, negatives);
        Assert.Equal(twiceU / 2.0, u);                                     // exact: both are counts of half pairs
        Assert.Equal(twiceU / 2.0 / ((double)p * n), RocAuc.Compute(scores, positive));
    }, 300);

    [Fact]
    public void Auc_of_swapped_labels_or_negated_scores_is_one_minus_the_auc() => PropertyRunner.Check(AucCases, c =>
    {
        var (scores, positive) = c.Data();
        double auc = RocAuc.Compute(scores, positive);
        Assert.InRange(auc, 0, 1);
        Assert.Equal(1 - auc, RocAuc.Compute(scores, positive.Select(x => !x).ToArray()), 12);
        Assert.Equal(1 - auc, RocAuc.Compute(scores.Select(s => -s).ToArray(), positive), 12);
        // a strictly increasing transform keeps every order and every tie
        Assert.Equal(auc, RocAuc.Compute(scores.Select(s => Math.Exp(s / 64) * 3 + 1).ToArray(), positive), 12);
    }, 200);

    [Theory]
    [InlineData(new double[] { 3, 1, 2, 5, 4 }, 0, 1)]
    [InlineData(new double[] { 3, 1, 2, 5, 4 }, 100, 5)]
    [InlineData(new double[] { 3, 1, 2, 5, 4 }, 50, 3)]
    [InlineData(new double[] { 3, 1, 2, 5, 4 }, 25, 2)]
    [InlineData(new double[] { 3, 1, 2, 5, 4 }, 95, 4.8)]          // h = 0.95 * 4 = 3.8: 4 + 0.8 * (5 - 4)
    [InlineData(new double[] { 4, 1, 3, 2 }, 50, 2.5)]             // h = 1.5: between 2 and 3
    [InlineData(new double[] { 10, 20 }, 10, 11)]
    [InlineData(new double[] { 7 }, 95, 7)]
    [InlineData(new double[] { 2, 2, 2, 9 }, 60, 2)]               // h = 1.8, inside a run of equal values
    public void Percentile_interpolates_linearly_between_order_statistics(double[] values, double percentile, double expected) =>
        Assert.Equal(expected, ThresholdMetrics.Percentile(values, percentile), 12);

    [Fact]
    public void Percentile_of_one_to_hundred_is_the_numpy_value()
    {
        var values = Enumerable.Range(1, 100).Select(i => (double)i).Reverse().ToArray();
        Assert.Equal(95.05, ThresholdMetrics.Percentile(values, 95), 12);   // numpy.percentile(range(1, 101), 95) = 95.05
        Assert.Equal(50.5, ThresholdMetrics.Percentile(values, 50), 12);
        Assert.Equal(99.01, ThresholdMetrics.Percentile(values, 99), 12);
    }

    [Fact]
    public void Percentile_rejects_bad_arguments()
    {
        Assert.Throws<ArgumentException>(() => ThresholdMetrics.Percentile([], 50));
        Assert.Throws<ArgumentOutOfRangeException>(() => ThresholdMetrics.Percentile([1, 2], 100.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => ThresholdMetrics.Percentile([1, 2], -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => ThresholdMetrics.Percentile([1, 2], double.NaN));
        Assert.Throws<ArgumentException>(() => ThresholdMetrics.Percentile([1, double.NaN], 50));
    }

    [Fact]
    public void Precision_recall_and_f1_at_a_threshold_match_the_hand_example()
    {
        double[] scores = [0.1, 0.5, 0.9, 0.7, 0.3, 0.8];
        var positive = Labels("001100");

        // > 0.6 flags 0.9 (anomaly), 0.7 (anomaly), 0.8 (normal): TP 2, FP 1, FN 0, TN 3
        var c = ThresholdMetrics.AtThreshold(scores, positive, 0.6);
        Assert.Equal(new ConfusionCounts(2, 1, 0, 3), c);
        Assert.Equal(2.0 / 3, c.Precision, 12);
        Assert.Equal(1.0, c.Recall, 12);
        Assert.Equal(0.8, c.F1, 12);
        Assert.Equal(0.25, c.FalsePositiveRate, 12);

        // a score equal to the threshold is not flagged: > 0.7 flags 0.9 and 0.8 only
        c = ThresholdMetrics.AtThreshold(scores, positive, 0.7);
        Assert.Equal(new ConfusionCounts(1, 1, 1, 3), c);
        Assert.Equal(0.5, c.Precision, 12);
        Assert.Equal(0.5, c.Recall, 12);
        Assert.Equal(0.5, c.F1, 12);

        // nothing flagged: precision and F1 are reported as 0
        c = ThresholdMetrics.AtThreshold(scores, positive, 1.0);
        Assert.Equal(new ConfusionCounts(0, 0, 2, 4), c);
        Assert.Equal(0.0, c.Precision);
        Assert.Equal(0.0, c.Recall);
        Assert.Equal(0.0, c.F1);
    }

    [Fact]
    public void Evaluate_thresholds_at_the_percentile_of_the_training_scores()
    {
        var train = Enumerable.Range(1, 100).Select(i => (double)i).ToArray();   // 95th percentile 95.05
        double[] test = [10, 95, 95.05, 95.1, 200, 50, 96];
        var anomaly = Labels("0011101");
        var e = AnomalyScores.Evaluate(train, test, anomaly, 95);
        Assert.Equal(95.05, e.Threshold, 12);
        Assert.Equal(new ConfusionCounts(3, 0, 1, 3), e.Counts);                  // 95.1, 200, 96 flagged; 95.05 is not
        Assert.Equal(1.0, e.Precision);
        Assert.Equal(0.75, e.Recall);
        Assert.Equal(RocAuc.Compute(test, anomaly), e.Auc);
        Assert.Equal(1.0, e.Auc);
        Assert.Equal(100.0, AnomalyScores.Evaluate(train, test, anomaly, 100).Threshold);
    }

    [Fact]
    public void Extremes_lists_the_highest_first_and_the_lowest_first()
    {
        double[] scores = [5, 1, 9, 3, 9, 0, 7];
        var (highest, lowest) = AnomalyScores.Extremes(scores, 3);
        Assert.Equal([4, 2, 6], highest);   // the tie at 9: the later index first among the highest
        Assert.Equal([5, 1, 3], lowest);
        var (all, _) = AnomalyScores.Extremes(scores, 20);
        Assert.Equal([4, 2, 6, 0, 3, 1, 5], all);
    }
}
