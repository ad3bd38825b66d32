// The options of a text VAE run (TextTrainer) and their JSON in a checkpoint's "text_training" metadata.
using System.Text.Json;

namespace Vae.Training;

/// <summary>
/// A text run's options: the common ones (epochs, batch, Adam, clipping, seed, KL schedule, free bits) and the text
/// ones: word dropout (the probability that a decoder input word becomes &lt;unk&gt;), the teacher-forcing ratio (the
/// probability that a decoder step gets the true previous token rather than its own prediction), the corpus's length cap
/// in tokens, the seed of its train/validation/test split and the folder it was read from (null: the default fortunes
/// folder with its default files; otherwise every fortune file in that folder).
/// </summary>
public sealed record TextTrainingOptions(TrainingOptions Common, float WordDropout = 0f, float TeacherForcing = 1f, int MaxTokens = 48, ulong SplitSeed = 1,
    string? Corpus = null)
{
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(Common);
        Common.Validate();
        if (!(WordDropout >= 0 && WordDropout < 1))
            throw new ArgumentOutOfRangeException(nameof(WordDropout), WordDropout, "Word dropout must be in [0, 1).");
        if (!(TeacherForcing >= 0 && TeacherForcing <= 1))
            throw new ArgumentOutOfRangeException(nameof(TeacherForcing), TeacherForcing, "The teacher-forcing ratio must be in [0, 1].");
        if (MaxTokens < 1) throw new ArgumentOutOfRangeException(nameof(MaxTokens), MaxTokens, "The length cap must be at least 1 token.");
        if (Common.KlSchedule.Kind == KlScheduleKind.Capacity)
            throw new ArgumentException("Capacity annealing is not offered for the text VAE; use a linear or cyclical KL schedule, or free bits.", nameof(Common));
    }

    public string TextToJson()
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            w.WriteNumber("word_dropout", WordDropout);
            w.WriteNumber("teacher_forcing", TeacherForcing);
            w.WriteNumber("max_tokens", MaxTokens);
            w.WriteNumber("split_seed", SplitSeed);
            if (Corpus is not null) w.WriteString("corpus", Corpus);
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(ms.ToArray());
    }

    public static TextTrainingOptions FromJson(TrainingOptions common, string? textJson, string source)
    {
        if (textJson is null) return new TextTrainingOptions(common);
        try
        {
            using var doc = JsonDocument.Parse(textJson);
            var r = doc.RootElement;
            var options = new TextTrainingOptions(common, r.GetProperty("word_dropout").GetSingle(), r.GetProperty("teacher_forcing").GetSingle(),
                r.GetProperty("max_tokens").GetInt32(), r.GetProperty("split_seed").GetUInt64(),
                r.TryGetProperty("corpus", out var corpus) ? corpus.GetString() : null);
            options.Validate();
            return options;
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or ArgumentException)
        {
            throw new InvalidDataException($"{source}: the text training metadata '{textJson}' is not valid ({e.Message}).", e);
        }
    }
}
