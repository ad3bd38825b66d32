// How a text decoder picks each token: greedy (the most likely token, on the device with ArgMaxRows), or a draw from
// the softmax of logits / temperature, optionally restricted to the k most likely tokens (top-k). Draws come from
// Philox stream (seed, sequence, step), so the same seed gives the same sentences on every backend and batch split.
using Vae.Random;

namespace Vae.Models.Text;

public sealed record TextDecoding
{
    /// <summary>Greedy decoding: the most likely token at every step.</summary>
    public static TextDecoding GreedyDecoding { get; } = new(0f, 0, 0);

    /// <param name="temperature">0 = greedy; &gt; 0 divides the logits before the softmax (1 = the model's distribution).</param>
    /// <param name="topK">0 = all tokens; k &gt; 0 samples among the k most likely tokens only.</param>
    /// <param name="seed">Seeds the draws.</param>
    public TextDecoding(float temperature, int topK, ulong seed)
    {
        if (!(temperature >= 0 && float.IsFinite(temperature)))
            throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "The temperature must be finite and >= 0 (0 = greedy).");
        ArgumentOutOfRangeException.ThrowIfNegative(topK);
        Temperature = temperature;
        TopK = topK;
        Seed = seed;
    }

    public float Temperature { get; }
    public int TopK { get; }
    public ulong Seed { get; }
    public bool Greedy => Temperature == 0f || TopK == 1;

    /// <summary>The token drawn from one row of logits for sequence <paramref name="sequence"/> at step <paramref name="step"/>.</summary>
    public int Choose(ReadOnlySpan<float> logits, int sequence, int step)
    {
        if (logits.IsEmpty) throw new ArgumentException("Choosing a token needs at least one logit.", nameof(logits));
        int best = 0;
        for (int i = 1; i < logits.Length; i++) if (logits[i] > logits[best]) best = i;
        if (Greedy) return best;
        // The k-th largest logit is the cut-off (ties at the cut-off all stay in).
        float cutoff = float.NegativeInfinity;
        if (TopK > 0 && TopK < logits.Length)
        {
            var sorted = logits.ToArray();
            Array.Sort(sorted);
            cutoff = sorted[^TopK];
        }
        double max = logits[best], total = 0;
        for (int i = 0; i < logits.Length; i++)
            if (logits[i] >= cutoff) total += Math.Exp((logits[i] - max) / Temperature);
        double u = Uniform(sequence, step) * total, running = 0;
        int last = best;
        for (int i = 0; i < logits.Length; i++)
        {
            if (logits[i] < cutoff) continue;
            running += Math.Exp((logits[i] - max) / Temperature);
            last = i;
            if (u < running) return i;
        }
        return last;
    }

    /// <summary>A uniform number in [0, 1) for (sequence, step) of this seed.</summary>
    double Uniform(int sequence, int step)
    {
        uint c0 = (uint)sequence, c1 = (uint)step, c2 = 0x7e47u, c3 = 0;
        Philox.Philox4x32x10(ref c0, ref c1, ref c2, ref c3, (uint)Seed, (uint)(Seed >> 32));
        return ((((ulong)c0 << 32) | c1) >> 11) * (1.0 / (1UL << 53));
    }
}
