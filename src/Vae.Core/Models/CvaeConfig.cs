// The shape and objective of a conditional VAE (Sohn et al. 2015): the plain VAE's input, encoder hidden sizes (the
// decoder mirrors them), latent size, reconstruction loss and beta, plus the number of classes whose one-hot label
// conditions both networks. Stored as JSON ("model":"cvae") in every checkpoint's metadata.
using System.Globalization;

namespace Vae.Models;

public sealed record CvaeConfig : IModelConfig
{
    public CvaeConfig(int input, int[] hidden, int latent, int classes, ReconstructionLoss reconstruction = ReconstructionLoss.Bce, float beta = 1f)
    {
        ArgumentNullException.ThrowIfNull(hidden);
        // The sizes and the objective are a plain VAE's: its constructor validates them.
        Network = new VaeConfig(input, hidden, latent, reconstruction, beta);
        if (classes < 1) throw new ArgumentOutOfRangeException(nameof(classes), classes, "A conditional VAE needs at least one class.");
        Classes = classes;
    }

    /// <summary>The conditional twin of the seed VAE: 784-400-400-20 on 10 classes, BCE, beta 1.</summary>
    public static CvaeConfig Default => new(784, [400, 400], 20, 10);

    /// <summary>The unconditional network of the same sizes and objective (the encoder reads D + Classes inputs and the decoder L + Classes here).</summary>
    public VaeConfig Network { get; }
    public int Input => Network.Input;
    /// <summary>Encoder hidden sizes, input side first; the decoder uses them in reverse.</summary>
    public int[] Hidden => Network.Hidden;
    public int Latent => Network.Latent;
    /// <summary>Classes of the one-hot label that conditions the encoder and the decoder.</summary>
    public int Classes { get; }
    public ReconstructionLoss Reconstruction => Network.Reconstruction;
    public float Beta => Network.Beta;
    public string Kind => "cvae";

    public ITrainableModel Create(IComputeBackend backend, int capacity) => new CvaeModel(backend, this, capacity);

    /// <summary>"784-400-400-20 (10 classes)".</summary>
    public string Describe() => Network.Describe() + " (" + Classes.ToString(CultureInfo.InvariantCulture) + " classes)";

    public bool Equals(CvaeConfig? other) => other is not null && Network.Equals(other.Network) && Classes == other.Classes;

    public override int GetHashCode() => HashCode.Combine(Network, Classes);

    public string ToJson() => ConfigJson.Write(Kind, Input, Hidden, w =>
    {
        w.WriteNumber("latent", Latent);
        w.WriteNumber("classes", Classes);
        ConfigJson.WriteReconstruction(w, Reconstruction);
        w.WriteNumber("beta", Beta);
    });

    /// <summary>Parses <see cref="ToJson"/>'s format (unknown keys are ignored; recon and beta default to bce and 1); throws InvalidDataException with <paramref name="source"/>.</summary>
    public static CvaeConfig FromJson(string json, string source) => ConfigJson.Read(json, source, "cvae", root => new CvaeConfig(
        ConfigJson.Required(root, "input").GetInt32(), ConfigJson.Sizes(root, "hidden"), ConfigJson.Required(root, "latent").GetInt32(),
        ConfigJson.Required(root, "classes").GetInt32(), ConfigJson.Reconstruction(root), ConfigJson.Optional(root, "beta", 1f)));

    public override string ToString() => Describe() + " " + Reconstruction.ToString().ToLowerInvariant() + " beta=" + Beta.ToString(CultureInfo.InvariantCulture);
}
