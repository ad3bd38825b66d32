// Metrics of an anomaly detector that gives every sample a score (higher = more anomalous): the exact area under the
// ROC curve from ranks (the Mann-Whitney U statistic, ties counted one half), a percentile of a set of scores (the
// threshold), and the confusion counts with precision, recall and F1 of "score > threshold" flags.
namespace Vae.Anomaly;

/// <summary>The area under the ROC curve of scores against binary labels, computed exactly from ranks.</summary>
public static class RocAuc
{
    /// <summary>
    /// The probability that a random positive scores above a random negative, with ties counting one half:
    /// AUC = U / (P * N), where U = (sum of the positives' ranks) - P (P + 1) / 2 and tied scores share their mean rank.
    /// This is the area under the ROC curve with its ties drawn as diagonal segments. O(n log n).
    /// </summary>
    /// <param name="scores">One score per sample; higher means "more likely positive". NaN is rejected.</param>
    /// <param name="positive">True for the positive (anomalous) samples.</param>
    /// <exception cref="ArgumentException">Lengths differ, a score is NaN, or either class is empty (the AUC is undefined).</exception>
    public static double Compute(ReadOnlySpan<double> scores, ReadOnlySpan<bool> positive)
    {
        double u = MannWhitneyU(scores, positive, out long positives, out long negatives);
        return u / ((double)positives * negatives);
    }

    /// <summary>
    /// U = the number of (positive, negative) pairs where the positive scores higher, plus one half per tied pair.
    /// Exact in double for up to about 10^7 samples (U is a multiple of 1/2 below 2^52).
    /// </summary>
    public static double MannWhitneyU(ReadOnlySpan<double> scores, ReadOnlySpan<bool> positive, out long positives, out long negatives)
    {
        if (scores.Length != positive.Length)
            throw new ArgumentException($"Got {scores.Length} scores but {positive.Length} labels; need one label per score.", nameof(positive));
        int n = scores.Length;
        positives = 0;
        for (int i = 0; i < n; i++)
        {
            if (double.IsNaN(scores[i])) throw new ArgumentException($"Score {i} is NaN; every score must be a number.", nameof(scores));
            if (positive[i]) positives++;
        }
        negatives = n - positives;
        if (positives == 0 || negatives == 0)
            throw new ArgumentException(
                $"The ROC AUC needs both positive and negative samples; got {positives} positive and {negatives} negative of {n}.", nameof(positive));

        var order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        var keys = scores.ToArray();
        Array.Sort(keys, order);

        // Walk the sorted scores in runs of equal values; every member of a run gets the run's mean rank
        // (ranks are 1-based: the run at sorted positions [start, end) covers ranks start + 1 .. end).
        // Twice the rank sum is an integer, so it is accumulated exactly as a long.
        long twiceRankSum = 0;
        for (int start = 0; start < n;)
        {
            int end = start + 1;
            while (end < n && keys[end] == keys[start]) end++;
            long positivesInRun = 0;
            for (int k = start; k < end; k++)
                if (positive[order[k]]) positivesInRun++;
            twiceRankSum += positivesInRun * ((long)start + 1 + end);   // 2 * mean rank = (start + 1) + end
            start = end;
        }
        long twiceU = twiceRankSum - positives * (positives + 1);
        return twiceU / 2.0;
    }
}

/// <summary>Counts of a binary decision against the truth, and the metrics made from them.</summary>
public readonly record struct ConfusionCounts(long TruePositives, long FalsePositives, long FalseNegatives, long TrueNegatives)
{
    /// <summary>TP / (TP + FP): the share of flagged samples that are anomalies; 0 when nothing is flagged.</summary>
    public double Precision => TruePositives + FalsePositives == 0 ? 0 : TruePositives / (double)(TruePositives + FalsePositives);

    /// <summary>TP / (TP + FN): the share of anomalies that are flagged; 0 when there are no anomalies.</summary>
    public double Recall => TruePositives + FalseNegatives == 0 ? 0 : TruePositives / (double)(TruePositives + FalseNegatives);

    /// <summary>The harmonic mean of precision and recall; 0 when both are 0.</summary>
    public double F1
    {
        get
        {
            double p = Precision, r = Recall;
            return p + r == 0 ? 0 : 2 * p * r / (p + r);
        }
    }

    /// <summary>FP / (FP + TN): the share of normal samples that are flagged; 0 when there are none.</summary>
    public double FalsePositiveRate => FalsePositives + TrueNegatives == 0 ? 0 : FalsePositives / (double)(FalsePositives + TrueNegatives);

    public long Flagged => TruePositives + FalsePositives;
    public long Positives => TruePositives + FalseNegatives;
}

public static class ThresholdMetrics
{
    /// <summary>
    /// The <paramref name="percentile"/>-th percentile (0..100) of <paramref name="values"/> with linear interpolation
    /// between order statistics (NumPy's default, Hyndman and Fan's type 7): with the values sorted as v[0..n-1],
    /// position h = percentile / 100 * (n - 1) and the result is v[floor h] + (h - floor h) * (v[floor h + 1] - v[floor h]).
    /// So 0 gives the minimum, 100 the maximum and 50 the median.
    /// </summary>
    public static double Percentile(ReadOnlySpan<double> values, double percentile)
    {
        if (values.IsEmpty) throw new ArgumentException("A percentile of no values is undefined; need at least one value.", nameof(values));
        if (!(percentile >= 0 && percentile <= 100))
            throw new ArgumentOutOfRangeException(nameof(percentile), percentile, "The percentile must be in [0, 100].");
        var sorted = values.ToArray();
        foreach (double v in sorted)
            if (double.IsNaN(v)) throw new ArgumentException("A value is NaN; every value must be a number.", nameof(values));
        Array.Sort(sorted);
        double h = percentile / 100 * (sorted.Length - 1);
        int low = (int)Math.Floor(h);
        if (low >= sorted.Length - 1) return sorted[^1];
        double fraction = h - low;
        return fraction == 0 || sorted[low] == sorted[low + 1] ? sorted[low] : sorted[low] + fraction * (sorted[low + 1] - sorted[low]);
    }

    /// <summary>Flags every sample whose score is strictly above <paramref name="threshold"/> and counts the flags against the truth.</summary>
    public static ConfusionCounts AtThreshold(ReadOnlySpan<double> scores, ReadOnlySpan<bool> positive, double threshold)
    {
        if (scores.Length != positive.Length)
            throw new ArgumentException($"Got {scores.Length} scores but {positive.Length} labels; need one label per score.", nameof(positive));
        if (double.IsNaN(threshold)) throw new ArgumentException("The threshold is NaN.", nameof(threshold));
        long tp = 0, fp = 0, fn = 0, tn = 0;
        for (int i = 0; i < scores.Length; i++)
        {
            if (double.IsNaN(scores[i])) throw new ArgumentException($"Score {i} is NaN; every score must be a number.", nameof(scores));
            bool flagged = scores[i] > threshold;
            if (positive[i]) { if (flagged) tp++; else fn++; }
            else { if (flagged) fp++; else tn++; }
        }
        return new ConfusionCounts(tp, fp, fn, tn);
    }
}
