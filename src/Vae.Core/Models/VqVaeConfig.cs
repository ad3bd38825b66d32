// The shape and objective of a VQ-VAE (van den Oord et al. 2017) built from dense layers: input size, encoder hidden
// sizes (the decoder mirrors them), a grid of Positions latent vectors of CodeDim values each, a codebook of Codes
// vectors, the commitment weight, codebook updates by exponential moving averages or by the codebook loss, the
// dead-code restart threshold and the reconstruction loss. Stored as JSON ("model": "vqvae") in every checkpoint.
using System.Globalization;

namespace Vae.Models;

public sealed record VqVaeConfig : IModelConfig
{
    public VqVaeConfig(int input, int[] hidden, int positions, int codeDim, int codes, float commitment = 0.25f, bool ema = true,
        float emaDecay = 0.99f, float restartThreshold = 0.01f, ReconstructionLoss reconstruction = ReconstructionLoss.Bce)
    {
        ArgumentNullException.ThrowIfNull(hidden);
        Input = input;
        Hidden = (int[])hidden.Clone();
        Positions = positions;
        CodeDim = codeDim;
        Codes = codes;
        Commitment = commitment;
        Ema = ema;
        EmaDecay = emaDecay;
        RestartThreshold = restartThreshold;
        Reconstruction = reconstruction;
        Validate();
    }

    /// <summary>
    /// The Fashion-MNIST default: 784-400-400 to a 16 x 16 latent grid, 128 codes, EMA 0.99, commitment 0.25, BCE. The MLP
    /// matches the seed VAE's; 16 positions of 16 values is a 256-value bottleneck; 128 codes cost 16 ln 128 = 77.6 nats
    /// per image under the uniform prior, and with 60000 x 16 assignments per epoch each code's uniform share is 7500.
    /// </summary>
    public static VqVaeConfig Default => new(784, [400, 400], 16, 16, 128);

    public int Input { get; }
    /// <summary>Encoder hidden sizes, input side first; the decoder uses them in reverse.</summary>
    public int[] Hidden { get; }
    /// <summary>Latent positions P: the encoder's output is P vectors, each quantized to one code.</summary>
    public int Positions { get; }
    /// <summary>Values per latent vector and per code (D).</summary>
    public int CodeDim { get; }
    /// <summary>Codebook size K.</summary>
    public int Codes { get; }
    /// <summary>The commitment weight (the paper's beta): commitment * ||z_e - sg(e)||^2 trains the encoder.</summary>
    public float Commitment { get; }
    /// <summary>Codebook by exponential moving averages (true) or by the codebook loss ||sg(z_e) - e||^2 and Adam (false).</summary>
    public bool Ema { get; }
    public float EmaDecay { get; }
    /// <summary>A code used fewer than RestartThreshold * (assignments in the epoch / Codes) times in an epoch is restarted; 0 = never.</summary>
    public float RestartThreshold { get; }
    public ReconstructionLoss Reconstruction { get; }
    /// <summary>The weight of the "KL" (the uniform prior's P ln K) in the reported loss: always 1, so the loss is a bound on -log p(x).</summary>
    public float Beta => 1f;
    public string Kind => "vqvae";
    /// <summary>P * CodeDim: the width of the encoder's output and the decoder's input.</summary>
    public int LatentWidth => Positions * CodeDim;

    public ITrainableModel Create(IComputeBackend backend, int capacity) => new VqVaeModel(backend, this, capacity);

    /// <summary>"784-400-400-16x16/128": the MLP, positions x code size, and the codebook size.</summary>
    public string Describe() => Input + "-" + string.Join("-", Hidden) + (Hidden.Length > 0 ? "-" : "") + Positions + "x" + CodeDim + "/" + Codes;

    void Validate()
    {
        if (Input <= 0) throw new ArgumentOutOfRangeException(nameof(Input), Input, "Input size must be > 0.");
        foreach (int h in Hidden)
            if (h <= 0) throw new ArgumentOutOfRangeException(nameof(Hidden), h, "Hidden sizes must be > 0.");
        if (Positions <= 0) throw new ArgumentOutOfRangeException(nameof(Positions), Positions, "Latent positions must be > 0.");
        if (CodeDim <= 0) throw new ArgumentOutOfRangeException(nameof(CodeDim), CodeDim, "The code size must be > 0.");
        if (Codes <= 0) throw new ArgumentOutOfRangeException(nameof(Codes), Codes, "The codebook needs at least one code.");
        if ((long)Positions * CodeDim > 1 << 24 || (long)Codes * CodeDim > 1 << 26 || (long)Positions * Codes > 1 << 26)
            throw new ArgumentOutOfRangeException(nameof(Positions), $"positions {Positions} x code size {CodeDim} x codes {Codes} is beyond what this model supports (P*D <= 2^24, K*D and P*K <= 2^26).");
        if (!(Commitment >= 0 && float.IsFinite(Commitment))) throw new ArgumentOutOfRangeException(nameof(Commitment), Commitment, "The commitment weight must be finite and >= 0.");
        if (!(EmaDecay >= 0 && EmaDecay < 1)) throw new ArgumentOutOfRangeException(nameof(EmaDecay), EmaDecay, "The EMA decay must be in [0, 1).");
        if (!(RestartThreshold >= 0 && float.IsFinite(RestartThreshold)))
            throw new ArgumentOutOfRangeException(nameof(RestartThreshold), RestartThreshold, "The restart threshold must be finite and >= 0 (0 = no restarts).");
    }

    public bool Equals(VqVaeConfig? other) =>
        other is not null && Input == other.Input && Hidden.AsSpan().SequenceEqual(other.Hidden) && Positions == other.Positions
        && CodeDim == other.CodeDim && Codes == other.Codes && Commitment.Equals(other.Commitment) && Ema == other.Ema
        && EmaDecay.Equals(other.EmaDecay) && RestartThreshold.Equals(other.RestartThreshold) && Reconstruction == other.Reconstruction;

    public override int GetHashCode() => HashCode.Combine(Input, Hidden.Length, Positions, CodeDim, Codes, Commitment, Ema, HashCode.Combine(EmaDecay, RestartThreshold, Reconstruction));

    public string ToJson() => ConfigJson.Write(Kind, Input, Hidden, w =>
    {
        w.WriteNumber("positions", Positions);
        w.WriteNumber("code_dim", CodeDim);
        w.WriteNumber("codes", Codes);
        w.WriteNumber("commitment", Commitment);
        w.WriteBoolean("ema", Ema);
        w.WriteNumber("ema_decay", EmaDecay);
        w.WriteNumber("restart_threshold", RestartThreshold);
        ConfigJson.WriteReconstruction(w, Reconstruction);
    });

    /// <summary>Parses <see cref="ToJson"/>'s format (unknown keys are ignored; the optional ones take their defaults); throws InvalidDataException naming <paramref name="source"/>.</summary>
    public static VqVaeConfig FromJson(string json, string source) => ConfigJson.Read(json, source, "vqvae", root => new VqVaeConfig(
        ConfigJson.Required(root, "input").GetInt32(), ConfigJson.Sizes(root, "hidden"), ConfigJson.Required(root, "positions").GetInt32(),
        ConfigJson.Required(root, "code_dim").GetInt32(), ConfigJson.Required(root, "codes").GetInt32(), ConfigJson.Optional(root, "commitment", 0.25f),
        !root.TryGetProperty("ema", out var ema) || ema.GetBoolean(), ConfigJson.Optional(root, "ema_decay", 0.99f),
        ConfigJson.Optional(root, "restart_threshold", 0.01f), ConfigJson.Reconstruction(root)));

    public override string ToString()
    {
        var inv = CultureInfo.InvariantCulture;
        string codebook = Ema ? "ema=" + EmaDecay.ToString(inv) : "codebook-loss";
        return Describe() + " " + Reconstruction.ToString().ToLowerInvariant() + " commitment=" + Commitment.ToString(inv) + " " + codebook
            + " restart=" + RestartThreshold.ToString(inv);
    }
}
