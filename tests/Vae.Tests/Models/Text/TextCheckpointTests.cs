// Checkpoints/TextCheckpoint: a save/read round trip keeps the config, the vocabulary, the options (the text ones and the
// corpus folder included), the training state and history, and a model loaded from it gives bit-identical losses; a
// weights-only file has no options; missing, corrupt or inconsistent vocabulary metadata and corrupt text options are
// InvalidDataExceptions naming the file and what is wrong; IsTextModel tells text checkpoints from image ones and from
// files that are no checkpoint; the image Checkpoint.Read refuses a text checkpoint with a pointer to the text commands.
using System.Text;
using Vae.Checkpoints;
using Vae.Data.Text;
using Vae.Models;
using Vae.Models.Text;
using Vae.Tests.Support;
using Vae.Training;
using Xunit;

namespace Vae.Tests.Models.Text;

public sealed class TextCheckpointTests : IDisposable
{
    const int MaxLength = 12;
    readonly ScratchDirectory scratch = new();
    readonly IComputeBackend backend = Backends.Create("cpu-1");
    readonly TextDataset data = TextModelSetup.Dataset(TextModelSetup.Sentences(20, seed: 4), MaxLength);

    public void Dispose()
    {
        backend.Dispose();
        scratch.Dispose();
    }

    TextVaeModel Model(int latent = 3, int layers = 2) =>
        TextModelSetup.Model(backend, new TextVaeConfig(data.Vocabulary.Count, 6, 5, latent, MaxLength, layers, beta: 0.75f), 4, seed: 6);

    static TextTrainingOptions Options() => new(
        new TrainingOptions { Epochs = 3, BatchSize = 4, Adam = new AdamSettings(2e-3f), ClipNorm = 1.5f, Seed = 11, KlSchedule = KlSchedule.Cyclical(6, 0.25), FreeBits = 0.2f },
        WordDropout: 0.3f, TeacherForcing: 0.6f, MaxTokens: MaxLength - 2, SplitSeed: 5, Corpus: "/some/fortunes");

    /// <summary>Trains 3 steps so that the parameters, Adam's moments and the state are not the initial ones.</summary>
    TrainingState Train(TextVaeModel model, TextTrainingOptions options)
    {
        var state = new TrainingState();
        using var trainer = new TextTrainer(model, data, null, options, state);
        for (int i = 0; i < 3; i++) trainer.TrainStep([i, i + 4, i + 8, i + 12]);
        state.Epoch = 1;
        state.History.Add(new EpochRecord(1, 40.5, 38.25, 2.25, 41.0, 39.0, 2.0, 0.5));
        return state;
    }

    float[] Losses(TextVaeModel model)
    {
        var noise = HostData.Normal(new System.Random(2), 4 * model.Config.Latent);
        var table = new IdTable(data.Tokens, data.MaxLength, data.Lengths);
        var run = TextModelSetup.Run(model, table, [1, 3, 5, 7], noise, [false, true, false, true]);
        return [.. run.Totals, .. run.Recon, .. run.Gradients];
    }

    [Theory]
    [InlineData(3, 2)]
    [InlineData(0, 1)]
    public void Round_trip_keeps_everything_and_the_loaded_model_computes_the_same(int latent, int layers)
    {
        using var model = Model(latent, layers);
        var options = Options();
        var state = Train(model, options);
        string path = scratch.File("text.safetensors");
        TextCheckpoint.Save(path, model, data.Vocabulary, options, state);

        var checkpoint = TextCheckpoint.Read(path);
        Assert.Equal(path, checkpoint.Path);
        Assert.Equal(model.Config, checkpoint.Config);
        Assert.Equal(data.Vocabulary.ToJson(), checkpoint.Vocabulary.ToJson());
        Assert.Equal(options, checkpoint.Options);
        Assert.True(checkpoint.HasOptimizerState);
        Assert.Equal(3, checkpoint.State.Step);
        Assert.Equal(state.RngOffset, checkpoint.State.RngOffset);
        Assert.Equal(1, checkpoint.State.Epoch);
        Assert.Equal(state.History, checkpoint.State.History);

        using var loaded = new TextVaeModel(backend, checkpoint.Config, 4);
        checkpoint.LoadInto(loaded, withOptimizerState: true);
        var p = model.Parameters;
        var q = loaded.Parameters;
        Tolerance.AssertBitwiseEqual("parameters", TextModelSetup.Download(backend, q.Parameters, q.Parameters.Length), TextModelSetup.Download(backend, p.Parameters, p.Parameters.Length));
        Tolerance.AssertBitwiseEqual("Adam m", TextModelSetup.Download(backend, q.AdamM, q.AdamM.Length), TextModelSetup.Download(backend, p.AdamM, p.AdamM.Length));
        Tolerance.AssertBitwiseEqual("losses and gradients", Losses(loaded), Losses(model));
        Assert.True(TextCheckpoint.IsTextModel(path));
    }

    [Fact]
    public void A_weights_only_file_has_no_options_and_loads_without_optimizer_state()
    {
        using var model = Model();
        string path = scratch.File("weights.safetensors");
        TextCheckpoint.Save(path, model, data.Vocabulary, null, null);
        var checkpoint = TextCheckpoint.Read(path);
        Assert.Null(checkpoint.Options);
        Assert.False(checkpoint.HasOptimizerState);
        using var loaded = new TextVaeModel(backend, checkpoint.Config, 4);
        checkpoint.LoadInto(loaded, withOptimizerState: false);
        Tolerance.AssertBitwiseEqual("losses and gradients", Losses(loaded), Losses(model));
        Assert.Throws<InvalidDataException>(() => checkpoint.LoadInto(loaded, withOptimizerState: true));
    }

    [Fact]
    public void Save_refuses_a_vocabulary_of_another_size()
    {
        using var model = Model();
        var smaller = TextModelSetup.Dataset(TextModelSetup.Sentences(3, seed: 9), MaxLength).Vocabulary;
        Assert.NotEqual(model.Config.Vocabulary, smaller.Count);
        var e = Assert.Throws<ArgumentException>(() => TextCheckpoint.Save(scratch.File("x.safetensors"), model, smaller, null, null));
        Assert.Contains($"built for {model.Config.Vocabulary}", e.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(scratch.File("x.safetensors")));
    }

    /// <summary>A checkpoint of <paramref name="model"/> with the given extra metadata written by the common writer.</summary>
    string WriteWith(TextVaeModel model, string name, Dictionary<string, string>? extra, TrainingOptions? options = null, TrainingState? state = null)
    {
        string path = scratch.File(name);
        Checkpoint.Write(path, model.Parameters, model.NamedTensors, model.Config.ToJson(), extra, options, state);
        return path;
    }

    [Fact]
    public void Missing_corrupt_or_inconsistent_vocabulary_metadata_is_a_clear_error()
    {
        using var model = Model();
        string missing = WriteWith(model, "missing.safetensors", null);
        var e = Assert.Throws<InvalidDataException>(() => TextCheckpoint.Read(missing));
        Assert.Contains(missing, e.Message, StringComparison.Ordinal);
        Assert.Contains("no 'vocabulary' metadata", e.Message, StringComparison.Ordinal);

        string corrupt = WriteWith(model, "corrupt.safetensors", new() { [TextCheckpoint.VocabularyKey] = "{\"format\": \"vae-vocab" });
        e = Assert.Throws<InvalidDataException>(() => TextCheckpoint.Read(corrupt));
        Assert.Contains(corrupt, e.Message, StringComparison.Ordinal);
        Assert.Contains("vocabulary", e.Message, StringComparison.OrdinalIgnoreCase);

        string wrongFormat = WriteWith(model, "format.safetensors", new() { [TextCheckpoint.VocabularyKey] = data.Vocabulary.ToJson().Replace("vae-vocabulary", "something-else", StringComparison.Ordinal) });
        e = Assert.Throws<InvalidDataException>(() => TextCheckpoint.Read(wrongFormat));
        Assert.Contains("something-else", e.Message, StringComparison.Ordinal);

        var smaller = TextModelSetup.Dataset(TextModelSetup.Sentences(3, seed: 9), MaxLength).Vocabulary;
        string inconsistent = WriteWith(model, "inconsistent.safetensors", new() { [TextCheckpoint.VocabularyKey] = smaller.ToJson() });
        e = Assert.Throws<InvalidDataException>(() => TextCheckpoint.Read(inconsistent));
        Assert.Contains($"holds {smaller.Count} tokens but the model was built for {model.Config.Vocabulary}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Corrupt_text_training_metadata_is_a_clear_error()
    {
        using var model = Model();
        var options = Options();
        var extra = new Dictionary<string, string>
        {
            [TextCheckpoint.VocabularyKey] = data.Vocabulary.ToJson(),
            [TextCheckpoint.TextTrainingKey] = "{\"word_dropout\": 1.5, \"teacher_forcing\": 1, \"max_tokens\": 10, \"split_seed\": 1}",
        };
        string path = WriteWith(model, "options.safetensors", extra, options.Common, new TrainingState());
        var e = Assert.Throws<InvalidDataException>(() => TextCheckpoint.Read(path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains("text training metadata", e.Message, StringComparison.Ordinal);

        extra[TextCheckpoint.TextTrainingKey] = "{\"word_dropout\": 0.1}";
        path = WriteWith(model, "options2.safetensors", extra, options.Common, new TrainingState());
        Assert.Contains("text training metadata", Assert.Throws<InvalidDataException>(() => TextCheckpoint.Read(path)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Loading_into_a_model_of_another_shape_is_refused_before_anything_is_uploaded()
    {
        using var model = Model(latent: 3, layers: 2);
        string path = scratch.File("text.safetensors");
        TextCheckpoint.Save(path, model, data.Vocabulary, null, null);
        using var other = Model(latent: 2, layers: 2);
        var before = TextModelSetup.Parameters(other);
        var e = Assert.Throws<InvalidDataException>(() => TextCheckpoint.Read(path).LoadInto(other, withOptimizerState: false));
        Assert.Contains("Z3", e.Message, StringComparison.Ordinal);
        Assert.Contains("Z2", e.Message, StringComparison.Ordinal);
        Assert.Equal(before, TextModelSetup.Parameters(other));
    }

    [Fact]
    public void IsTextModel_tells_text_checkpoints_from_image_ones_and_from_other_files()
    {
        using var model = Model();
        string text = scratch.File("text.safetensors");
        TextCheckpoint.Save(text, model, data.Vocabulary, null, null);
        Assert.True(TextCheckpoint.IsTextModel(text));

        string image = WriteWith(model, "image.safetensors", null);
        // The same tensors under an image model's config: only the config decides.
        Checkpoint.Write(image, model.Parameters, model.NamedTensors, new VaeConfig(64, [24, 16], 6).ToJson(), null, null, null);
        Assert.False(TextCheckpoint.IsTextModel(image));

        Assert.False(TextCheckpoint.IsTextModel(scratch.File("does-not-exist.safetensors")));
        string garbage = scratch.File("garbage.safetensors");
        File.WriteAllBytes(garbage, Encoding.UTF8.GetBytes("not a safetensors file at all"));
        Assert.False(TextCheckpoint.IsTextModel(garbage));
        string tiny = scratch.File("tiny.safetensors");
        File.WriteAllBytes(tiny, [1, 2, 3]);
        Assert.False(TextCheckpoint.IsTextModel(tiny));
        // A header that claims more bytes than the file has.
        string truncated = scratch.File("truncated.safetensors");
        File.WriteAllBytes(truncated, File.ReadAllBytes(text).AsSpan(0, 40).ToArray());
        Assert.False(TextCheckpoint.IsTextModel(truncated));
    }

    [Fact]
    public void The_image_checkpoint_reader_points_to_the_text_commands()
    {
        using var model = Model();
        string path = scratch.File("text.safetensors");
        TextCheckpoint.Save(path, model, data.Vocabulary, Options(), Train(model, Options()));
        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Read(path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains("text VAE", e.Message, StringComparison.Ordinal);
    }
}
