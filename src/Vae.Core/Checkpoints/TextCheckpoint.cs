// Text VAE checkpoints: the same safetensors format as the image models' (Checkpoint.Write / ReadParts), with the
// vocabulary the model was trained with in the metadata ("vocabulary", Vocabulary.ToJson), so a checkpoint alone can
// encode and decode sentences, and the text-specific training options ("text_training": word dropout, teacher
// forcing, the corpus length cap and split seed) next to the common ones.
using System.Buffers.Binary;
using System.Globalization;
using System.Text.Json;
using Vae.Data.Text;
using Vae.Models.Text;
using Vae.Training;

namespace Vae.Checkpoints;

public sealed class TextCheckpoint
{
    public const string VocabularyKey = "vocabulary";
    public const string TextTrainingKey = "text_training";

    TextCheckpoint(string path, Checkpoint.Parts parts, TextVaeConfig config, Vocabulary vocabulary, TextTrainingOptions? options)
    {
        Path = path;
        File = parts.File;
        Config = config;
        Vocabulary = vocabulary;
        Options = options;
        State = parts.State;
        HasOptimizerState = parts.HasOptimizerState;
    }

    public string Path { get; }
    public SafeTensorsFile File { get; }
    public TextVaeConfig Config { get; }
    public Vocabulary Vocabulary { get; }
    /// <summary>The run's options; null for a weights-only file.</summary>
    public TextTrainingOptions? Options { get; }
    public TrainingState State { get; }
    public bool HasOptimizerState { get; }

    /// <summary>Saves a text model's weights, vocabulary and (with options and state) everything a resumed run needs, atomically.</summary>
    public static void Save(string path, TextVaeModel model, Vocabulary vocabulary, TextTrainingOptions? options, TrainingState? state)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(vocabulary);
        if (vocabulary.Count != model.Config.Vocabulary)
            throw new ArgumentException($"The vocabulary has {vocabulary.Count} tokens but the model was built for {model.Config.Vocabulary}.", nameof(vocabulary));
        var extra = new Dictionary<string, string>(StringComparer.Ordinal) { [VocabularyKey] = vocabulary.ToJson() };
        if (options is not null) extra[TextTrainingKey] = options.TextToJson();
        Checkpoint.Write(path, model.Parameters, model.NamedTensors, model.Config.ToJson(), extra, options?.Common, state);
    }

    /// <summary>Reads and checks a text checkpoint: its format, config, vocabulary (matching the config) and options.</summary>
    public static TextCheckpoint Read(string path)
    {
        var parts = Checkpoint.ReadParts(path);
        var config = TextVaeConfig.FromJson(parts.ConfigJson, path);
        if (!parts.File.Metadata.TryGetValue(VocabularyKey, out var vocabularyJson))
            throw new InvalidDataException($"{path}: the text checkpoint has no '{VocabularyKey}' metadata, so its token ids cannot be turned into words; use a checkpoint written by 'vae train --model text'.");
        var vocabulary = Vocabulary.FromJson(vocabularyJson, path);
        if (vocabulary.Count != config.Vocabulary)
            throw new InvalidDataException($"{path}: the vocabulary holds {vocabulary.Count} tokens but the model was built for {config.Vocabulary}; the checkpoint is inconsistent.");
        TextTrainingOptions? options = null;
        if (parts.Options is not null)
        {
            parts.File.Metadata.TryGetValue(TextTrainingKey, out var textJson);
            options = TextTrainingOptions.FromJson(parts.Options, textJson, path);
        }
        return new TextCheckpoint(path, parts, config, vocabulary, options);
    }

    /// <summary>Uploads the weights (and Adam's moments) into a model of the same configuration, all checked first.</summary>
    public void LoadInto(TextVaeModel model, bool withOptimizerState)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (!model.Config.Equals(Config))
            throw new InvalidDataException($"{Path}: the checkpoint is a text model {Config} but the model is {model.Config}; build the model from the checkpoint's config.");
        Checkpoint.LoadTensors(File, Path, model.Parameters, model.NamedTensors, withOptimizerState);
    }

    /// <summary>
    /// True when <paramref name="path"/> is a safetensors file whose config names a text model. Reads only the header, so
    /// commands can choose between the image and the text path cheaply; a file that is not a checkpoint gives false (the
    /// full read then reports what is wrong with it).
    /// </summary>
    public static bool IsTextModel(string path)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            Span<byte> lengthBytes = stackalloc byte[8];
            if (stream.Length < 8) return false;
            stream.ReadExactly(lengthBytes);
            ulong length = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
            if (length < 2 || length > SafeTensorsFile.MaxHeaderBytes || (long)length > stream.Length - 8) return false;
            var header = new byte[length];
            stream.ReadExactly(header);
            using var doc = JsonDocument.Parse(header);
            if (!doc.RootElement.TryGetProperty("__metadata__", out var metadata) || !metadata.TryGetProperty("config", out var config)
                || config.ValueKind != JsonValueKind.String) return false;
            using var configDoc = JsonDocument.Parse(config.GetString()!);
            return configDoc.RootElement.ValueKind == JsonValueKind.Object && configDoc.RootElement.TryGetProperty("model", out var model)
                && model.ValueKind == JsonValueKind.String && model.GetString() == TextVaeConfig.KindName;
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
