// The shape and objective of a conditional VAE (Sohn et al. 2015): the plain VAE's input, encoder hidden sizes (the
// decoder mirrors them), latent size, reconstruction loss and beta, plus the number of classes whose one-hot label
// conditions both networks. Stored as JSON ("model":"cvae") in every checkpoint's metadata.
using System.Globalization;
using System.Text.Json;

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

    public string ToJson()
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            w.WriteString("model", Kind);
            w.WriteNumber("input", Input);
            w.WriteStartArray("hidden");
            foreach (int h in Hidden) w.WriteNumberValue(h);
            w.WriteEndArray();
            w.WriteNumber("latent", Latent);
            w.WriteNumber("classes", Classes);
            w.WriteString("recon", Reconstruction == ReconstructionLoss.Bce ? "bce" : "mse");
            w.WriteNumber("beta", Beta);
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(ms.ToArray());
    }

    /// <summary>Parses <see cref="ToJson"/>'s format (unknown keys are ignored; recon and beta default to bce and 1); throws InvalidDataException with <paramref name="source"/>.</summary>
    public static CvaeConfig FromJson(string json, string source)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            string? kind = root.TryGetProperty("model", out var model) ? model.GetString() : null;
            if (kind != "cvae")
                throw new InvalidDataException($"{source}: the checkpoint holds a '{kind ?? "vae"}' model, not a conditional one ('cvae').");
            return new CvaeConfig(
                root.GetProperty("input").GetInt32(),
                root.GetProperty("hidden").EnumerateArray().Select(e => e.GetInt32()).ToArray(),
                root.GetProperty("latent").GetInt32(),
                root.GetProperty("classes").GetInt32(),
                VaeConfig.ParseReconstruction(root.TryGetProperty("recon", out var r) ? r.GetString() ?? "bce" : "bce"),
                root.TryGetProperty("beta", out var b) ? b.GetSingle() : 1f);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or ArgumentException)
        {
            throw new InvalidDataException($"{source}: the conditional VAE configuration '{json}' is not valid ({e.Message}).", e);
        }
    }

    public override string ToString() => Describe() + " " + Reconstruction.ToString().ToLowerInvariant() + " beta=" + Beta.ToString(CultureInfo.InvariantCulture);
}
