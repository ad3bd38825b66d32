// The shape and objective of a plain VAE: input size, encoder hidden sizes (the decoder mirrors them), latent size,
// reconstruction loss, the KL weight beta and the number K of importance samples of the training objective (1: the
// ELBO; K > 1: the IWAE bound of Burda et al. 2016). Stored as JSON in every checkpoint's metadata; "iwae" is written
// only when K > 1, so the JSON of an ELBO model is what it always was.
using System.Globalization;

namespace Vae.Models;

public enum ReconstructionLoss
{
    /// <summary>Bernoulli likelihood: binary cross-entropy computed from the decoder's logits.</summary>
    Bce,
    /// <summary>Squared error between sigmoid(logits) and the target, summed over pixels.</summary>
    Mse,
}

public sealed record VaeConfig : IModelConfig
{
    public VaeConfig(int input, int[] hidden, int latent, ReconstructionLoss reconstruction = ReconstructionLoss.Bce, float beta = 1f, int importanceSamples = 1)
    {
        Input = input;
        Hidden = (int[])hidden.Clone();
        Latent = latent;
        Reconstruction = reconstruction;
        Beta = beta;
        ImportanceSamples = importanceSamples;
        Validate();
    }

    /// <summary>
    /// The most importance samples per image of the training objective: a model's sample buffers hold Capacity * K rows
    /// (for `vae eval`'s 500 images per batch and K = 64, about 600 MB), and the IWAE paper trains with K up to 50.
    /// </summary>
    public const int MaxImportanceSamples = 64;

    /// <summary>The seed VAE: 784-400-400-20, BCE, beta 1.</summary>
    public static VaeConfig Default => new(784, [400, 400], 20);

    public int Input { get; }
    /// <summary>Encoder hidden sizes, input side first; the decoder uses them in reverse.</summary>
    public int[] Hidden { get; }
    public int Latent { get; }
    public ReconstructionLoss Reconstruction { get; }
    public float Beta { get; }
    /// <summary>
    /// K, the posterior samples per image of the training objective: 1 trains the ELBO (one sample, analytic KL); K &gt; 1
    /// trains the IWAE bound log (1/K) sum_k p(x|z_k) p(z_k) / q(z_k|x) (see VaeModel).
    /// </summary>
    public int ImportanceSamples { get; }
    public string Kind => "vae";

    public ITrainableModel Create(IComputeBackend backend, int capacity) => new VaeModel(backend, this, capacity);

    /// <summary>"784-400-400-20".</summary>
    public string Describe() => Input + "-" + string.Join("-", Hidden) + (Hidden.Length > 0 ? "-" : "") + Latent;

    void Validate()
    {
        if (Input <= 0) throw new ArgumentOutOfRangeException(nameof(Input), Input, "Input size must be > 0.");
        if (Latent <= 0) throw new ArgumentOutOfRangeException(nameof(Latent), Latent, "Latent size must be > 0.");
        foreach (int h in Hidden)
            if (h <= 0) throw new ArgumentOutOfRangeException(nameof(Hidden), h, "Hidden sizes must be > 0.");
        if (!(Beta >= 0 && float.IsFinite(Beta))) throw new ArgumentOutOfRangeException(nameof(Beta), Beta, "Beta must be finite and >= 0.");
        if (ImportanceSamples < 1 || ImportanceSamples > MaxImportanceSamples)
            throw new ArgumentOutOfRangeException(nameof(ImportanceSamples), ImportanceSamples,
                $"The importance samples per image must be in [1, {MaxImportanceSamples}] (1 = the ELBO, K > 1 = the IWAE bound).");
    }

    public bool Equals(VaeConfig? other) =>
        other is not null && Input == other.Input && Hidden.AsSpan().SequenceEqual(other.Hidden) && Latent == other.Latent
        && Reconstruction == other.Reconstruction && Beta.Equals(other.Beta) && ImportanceSamples == other.ImportanceSamples;

    public override int GetHashCode() => HashCode.Combine(Input, Hidden.Length, Latent, Reconstruction, Beta, ImportanceSamples);

    public string ToJson() => ConfigJson.Write(Kind, Input, Hidden, w =>
    {
        w.WriteNumber("latent", Latent);
        ConfigJson.WriteReconstruction(w, Reconstruction);
        w.WriteNumber("beta", Beta);
        if (ImportanceSamples > 1) w.WriteNumber("iwae", ImportanceSamples);
    });

    /// <summary>Parses <see cref="ToJson"/>'s format (unknown keys are ignored; recon, beta and iwae default to bce, 1 and 1); throws InvalidDataException with <paramref name="source"/>.</summary>
    public static VaeConfig FromJson(string json, string source) => ConfigJson.Read(json, source, "vae", root => new VaeConfig(
        ConfigJson.Required(root, "input").GetInt32(), ConfigJson.Sizes(root, "hidden"), ConfigJson.Required(root, "latent").GetInt32(),
        ConfigJson.Reconstruction(root), ConfigJson.Optional(root, "beta", 1f), root.TryGetProperty("iwae", out var k) ? k.GetInt32() : 1));

    public static ReconstructionLoss ParseReconstruction(string text) => text.ToLowerInvariant() switch
    {
        "bce" => ReconstructionLoss.Bce,
        "mse" => ReconstructionLoss.Mse,
        _ => throw new ArgumentException($"Unknown reconstruction loss '{text}'; use bce or mse."),
    };

    public override string ToString() => Describe() + " " + Reconstruction.ToString().ToLowerInvariant() + " beta=" + Beta.ToString(CultureInfo.InvariantCulture)
        + (ImportanceSamples > 1 ? " iwae=" + ImportanceSamples.ToString(CultureInfo.InvariantCulture) : "");
}
