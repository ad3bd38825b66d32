// The shape of a sentence VAE (and of its language-model baseline, Latent = 0): vocabulary, embedding width, LSTM
// width, latent size, encoder depth, the longest sequence in ids (<bos> and <eos> included) and the KL weight beta.
// Stored as JSON ("model": "text") in the checkpoint's metadata next to the vocabulary it was trained with.
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Vae.Models.Text;

public sealed record TextVaeConfig
{
    public const string KindName = "text";

    public TextVaeConfig(int vocabulary, int embedding, int hidden, int latent, int maxLength, int encoderLayers = 1, float beta = 1f)
    {
        Vocabulary = vocabulary;
        Embedding = embedding;
        Hidden = hidden;
        Latent = latent;
        MaxLength = maxLength;
        EncoderLayers = encoderLayers;
        Beta = beta;
        Validate();
    }

    /// <summary>Token ids, the four specials included.</summary>
    public int Vocabulary { get; }
    /// <summary>Features per token embedding (shared by encoder and decoder).</summary>
    public int Embedding { get; }
    /// <summary>LSTM units: per direction in the encoder, in the one decoder layer.</summary>
    public int Hidden { get; }
    /// <summary>Latent dimensions; 0 makes the model a plain LSTM language model (no encoder, no z, no KL).</summary>
    public int Latent { get; }
    /// <summary>The longest sequence in ids, &lt;bos&gt; and &lt;eos&gt; included (the decoder runs up to MaxLength - 1 steps).</summary>
    public int MaxLength { get; }
    /// <summary>Stacked bidirectional encoder layers.</summary>
    public int EncoderLayers { get; }
    /// <summary>The KL weight of the objective (1 = the ELBO).</summary>
    public float Beta { get; }

    public string Kind => KindName;

    /// <summary>True for the language-model baseline (Latent = 0).</summary>
    public bool IsLanguageModel => Latent == 0;

    /// <summary>"V10004-E128-H256-Z32" (or "... LM" for the baseline).</summary>
    public string Describe()
    {
        string shape = string.Create(CultureInfo.InvariantCulture, $"V{Vocabulary}-E{Embedding}-H{Hidden}");
        if (IsLanguageModel) return shape + " language model";
        return shape + string.Create(CultureInfo.InvariantCulture, $"-Z{Latent}") + (EncoderLayers > 1 ? string.Create(CultureInfo.InvariantCulture, $" ({EncoderLayers}-layer encoder)") : "");
    }

    public override string ToString() => Describe() + (IsLanguageModel ? "" : string.Create(CultureInfo.InvariantCulture, $", beta {Beta}"));

    void Validate()
    {
        if (Vocabulary <= Data.Text.Vocabulary.SpecialCount)
            throw new ArgumentOutOfRangeException(nameof(Vocabulary), Vocabulary, $"The vocabulary must hold more than the {Data.Text.Vocabulary.SpecialCount} special tokens.");
        if (Embedding <= 0) throw new ArgumentOutOfRangeException(nameof(Embedding), Embedding, "The embedding width must be > 0.");
        if (Hidden <= 0) throw new ArgumentOutOfRangeException(nameof(Hidden), Hidden, "The LSTM width must be > 0.");
        if (Latent < 0) throw new ArgumentOutOfRangeException(nameof(Latent), Latent, "The latent size must be >= 0 (0 = language model).");
        if (MaxLength < 3) throw new ArgumentOutOfRangeException(nameof(MaxLength), MaxLength, "Sequences need room for <bos>, one token and <eos>: max length >= 3.");
        if (EncoderLayers < 1) throw new ArgumentOutOfRangeException(nameof(EncoderLayers), EncoderLayers, "The encoder needs at least 1 layer.");
        if (!(Beta >= 0 && float.IsFinite(Beta))) throw new ArgumentOutOfRangeException(nameof(Beta), Beta, "Beta must be finite and >= 0.");
    }

    public string ToJson()
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            w.WriteString("model", Kind);
            w.WriteNumber("vocabulary", Vocabulary);
            w.WriteNumber("embedding", Embedding);
            w.WriteNumber("hidden", Hidden);
            w.WriteNumber("latent", Latent);
            w.WriteNumber("max_length", MaxLength);
            w.WriteNumber("encoder_layers", EncoderLayers);
            w.WriteNumber("beta", Beta);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    /// <summary>Parses <see cref="ToJson"/>'s output; any problem is an InvalidDataException naming <paramref name="source"/>.</summary>
    public static TextVaeConfig FromJson(string json, string source) => ConfigJson.Read(json, source, KindName, r => new TextVaeConfig(
        ConfigJson.Required(r, "vocabulary").GetInt32(), ConfigJson.Required(r, "embedding").GetInt32(), ConfigJson.Required(r, "hidden").GetInt32(),
        ConfigJson.Required(r, "latent").GetInt32(), ConfigJson.Required(r, "max_length").GetInt32(),
        r.TryGetProperty("encoder_layers", out var layers) ? layers.GetInt32() : 1, ConfigJson.Optional(r, "beta", 1f)));
}
