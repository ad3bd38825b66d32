// VAE checkpoints as safetensors files. Tensors: every parameter under its PyTorch state_dict name (F32, weights
// (out, in)), and when the optimizer state is saved, Adam's moments as "optim.m.<name>" and "optim.v.<name>".
// __metadata__ (all strings): format = "vae-checkpoint", version = "1", config (model JSON), training (options JSON),
// step, epoch, rng_offset, seed, history (JSON array of per-epoch records). Written atomically.
using System.Globalization;
using System.Text.Json;
using Vae.Models;
using Vae.Training;

namespace Vae.Checkpoints;

public sealed class Checkpoint
{
    public const string Format = "vae-checkpoint";
    public const string Version = "1";

    Checkpoint(string path, SafeTensorsFile file, IModelConfig config, TrainingOptions? options, TrainingState state, bool hasOptimizerState)
    {
        Path = path;
        File = file;
        Config = config;
        Options = options;
        State = state;
        HasOptimizerState = hasOptimizerState;
    }

    public string Path { get; }
    public SafeTensorsFile File { get; }
    /// <summary>The model's configuration, of its kind (VaeConfig for "vae", ...).</summary>
    public IModelConfig Config { get; }
    /// <summary>The options the run was trained with; null for weights-only files (e.g. exported from PyTorch).</summary>
    public TrainingOptions? Options { get; }
    public TrainingState State { get; }
    public bool HasOptimizerState { get; }

    /// <summary>Saves weights, Adam moments, counters, options and history of a run to <paramref name="path"/>, atomically.</summary>
    public static void Save(string path, ITrainableModel model, TrainingOptions? options, TrainingState? state)
    {
        ArgumentNullException.ThrowIfNull(model);
        Write(path, model.Parameters, model.NamedTensors, model.Config.ToJson(), null, options, state);
    }

    /// <summary>
    /// The file format behind <see cref="Save"/> for any model made of named tensors in one ParameterStore: the tensors
    /// (and Adam's moments when <paramref name="options"/> is given), "config" = <paramref name="configJson"/>, the run's
    /// counters and history, and <paramref name="extraMetadata"/> (e.g. a text model's vocabulary). Written atomically.
    /// </summary>
    public static void Write(string path, ParameterStore store, IReadOnlyList<NamedTensor> namedTensors, string configJson,
        IReadOnlyDictionary<string, string>? extraMetadata, TrainingOptions? options, TrainingState? state)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(namedTensors);
        ArgumentNullException.ThrowIfNull(configJson);
        if ((options is null) != (state is null))
            throw new ArgumentException("Pass both the training options and the state (a resumable checkpoint) or neither (weights only).", nameof(options));
        var p = store;
        var backend = store.Backend;
        var parameters = new float[p.Layout.TotalLength];
        backend.Download<float>(p.Parameters, parameters);
        float[]? m = null, v = null;
        if (options is not null)
        {
            m = new float[parameters.Length];
            v = new float[parameters.Length];
            backend.Download<float>(p.AdamM, m);
            backend.Download<float>(p.AdamV, v);
        }
        var tensors = new List<SafeTensor>();
        foreach (var t in namedTensors) tensors.Add(SafeTensor.FromFloats(t.Name, parameters.AsSpan(t.Offset, t.Length), t.Shape));
        if (m is not null && v is not null)
        {
            foreach (var t in namedTensors) tensors.Add(SafeTensor.FromFloats("optim.m." + t.Name, m.AsSpan(t.Offset, t.Length), t.Shape));
            foreach (var t in namedTensors) tensors.Add(SafeTensor.FromFloats("optim.v." + t.Name, v.AsSpan(t.Offset, t.Length), t.Shape));
        }
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["format"] = Format,
            ["version"] = Version,
            ["config"] = configJson,
        };
        if (extraMetadata is not null)
            foreach (var (key, value) in extraMetadata) metadata.Add(key, value);
        if (options is not null && state is not null)
        {
            metadata["training"] = OptionsToJson(options);
            metadata["seed"] = options.Seed.ToString(CultureInfo.InvariantCulture);
            metadata["step"] = state.Step.ToString(CultureInfo.InvariantCulture);
            metadata["epoch"] = state.Epoch.ToString(CultureInfo.InvariantCulture);
            metadata["rng_offset"] = state.RngOffset.ToString(CultureInfo.InvariantCulture);
            metadata["history"] = HistoryToJson(state.History);
        }
        SafeTensorsFile.Write(path, metadata, tensors);
    }

    /// <summary>Reads and validates a checkpoint file (the model is built from its config with <see cref="LoadInto"/>).</summary>
    public static Checkpoint Read(string path)
    {
        var parts = ReadParts(path);
        var config = ModelConfigs.FromJson(parts.ConfigJson, path);
        return new Checkpoint(path, parts.File, config, parts.Options, parts.State, parts.HasOptimizerState);
    }

    /// <summary>What every checkpoint holds, whatever its model: the file, the config JSON, and the run's options and state.</summary>
    public sealed record Parts(SafeTensorsFile File, string ConfigJson, TrainingOptions? Options, TrainingState State, bool HasOptimizerState);

    /// <summary>Reads a checkpoint file and checks its format; the config JSON is left to the model kind's parser.</summary>
    public static Parts ReadParts(string path)
    {
        var file = SafeTensorsFile.Read(path);
        if (!file.Metadata.TryGetValue("config", out var configJson))
            throw new InvalidDataException($"{path}: this safetensors file has no 'config' metadata, so it is not a Vae checkpoint (format '{Format}').");
        if (file.Metadata.TryGetValue("format", out var format) && format != Format)
            throw new InvalidDataException($"{path}: metadata format is '{format}', expected '{Format}'.");
        if (file.Metadata.TryGetValue("version", out var version) && version != Version)
            throw new InvalidDataException($"{path}: checkpoint version {version} is not supported (this build reads version {Version}).");
        var state = new TrainingState();
        TrainingOptions? options = null;
        if (file.Metadata.TryGetValue("training", out var trainingJson))
        {
            options = OptionsFromJson(trainingJson, path);
            state.Step = ParseLong(file, "step", path);
            long epoch = ParseLong(file, "epoch", path);
            if (epoch > int.MaxValue) throw new InvalidDataException($"{path}: metadata 'epoch' is {epoch}, beyond any real run.");
            state.Epoch = (int)epoch;
            state.RngOffset = (ulong)ParseLong(file, "rng_offset", path);
            if (file.Metadata.TryGetValue("history", out var history)) state.History.AddRange(HistoryFromJson(history, path));
        }
        bool hasOptimizer = file.Tensors.Any(t => t.Name.StartsWith("optim.m.", StringComparison.Ordinal));
        return new Parts(file, configJson, options, state, hasOptimizer);
    }

    /// <summary>
    /// Uploads the weights (and, with <paramref name="withOptimizerState"/>, Adam's moments) into a model of the same
    /// configuration. Every tensor is checked for name, shape and finiteness before anything is uploaded.
    /// </summary>
    public void LoadInto(ITrainableModel model, bool withOptimizerState)
    {
        if (!model.Config.Equals(Config))
            throw new InvalidDataException($"{Path}: the checkpoint is a {Config.Kind} {Config} model but the model is a {model.Config.Kind} {model.Config}; build the model from the checkpoint's config (Checkpoint.Config) or pick the matching checkpoint.");
        LoadTensors(File, Path, model.Parameters, model.NamedTensors, withOptimizerState);
    }

    /// <summary>
    /// Uploads the tensors of <paramref name="file"/> named like <paramref name="namedTensors"/> (and their Adam moments
    /// with <paramref name="withOptimizerState"/>) into <paramref name="store"/> and zeroes its gradients; every tensor is
    /// checked for presence, type, shape and finiteness before anything is uploaded.
    /// </summary>
    public static void LoadTensors(SafeTensorsFile file, string path, ParameterStore store, IReadOnlyList<NamedTensor> namedTensors, bool withOptimizerState)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(namedTensors);
        if (withOptimizerState && !file.Tensors.Any(t => t.Name.StartsWith("optim.m.", StringComparison.Ordinal)))
            throw new InvalidDataException($"{path}: the checkpoint has no optimizer state (optim.m.*), so training cannot resume from it; train without --resume.");
        var p = store;
        int total = p.Layout.TotalLength;
        var parameters = new float[total];
        var m = withOptimizerState ? new float[total] : null;
        var v = withOptimizerState ? new float[total] : null;
        foreach (var t in namedTensors)
        {
            Take(file, path, t.Name, t, parameters);
            if (m is not null && v is not null)
            {
                Take(file, path, "optim.m." + t.Name, t, m);
                Take(file, path, "optim.v." + t.Name, t, v);
            }
        }
        var backend = store.Backend;
        backend.Upload<float>(parameters, p.Parameters);
        if (m is not null && v is not null)
        {
            backend.Upload<float>(m, p.AdamM);
            backend.Upload<float>(v, p.AdamV);
        }
        backend.Fill(p.Gradients, 0f);
    }

    static void Take(SafeTensorsFile file, string path, string name, NamedTensor target, float[] destination)
    {
        var t = file.Get(name, path);
        if (t.Type != SafeTensorType.F32)
            throw new InvalidDataException($"{path}: tensor '{name}' is {t.Type}; checkpoints store F32.");
        if (!t.Shape.AsSpan().SequenceEqual(target.Shape))
            throw new InvalidDataException($"{path}: tensor '{name}' has shape {t.ShapeText}, the model needs ({string.Join(", ", target.Shape)}).");
        var values = t.ToFloats();
        foreach (float x in values)
            if (!float.IsFinite(x)) throw new InvalidDataException($"{path}: tensor '{name}' contains NaN or infinite values; the checkpoint is unusable.");
        values.CopyTo(destination.AsSpan(target.Offset, target.Length));
    }

    static long ParseLong(SafeTensorsFile file, string key, string path)
    {
        if (!file.Metadata.TryGetValue(key, out var text) || !long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long value) || value < 0)
            throw new InvalidDataException($"{path}: metadata '{key}' is missing or not a non-negative integer.");
        return value;
    }

    static string OptionsToJson(TrainingOptions o)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            w.WriteNumber("epochs", o.Epochs);
            w.WriteNumber("batch", o.BatchSize);
            w.WriteNumber("lr", o.Adam.LearningRate);
            w.WriteNumber("beta1", o.Adam.Beta1);
            w.WriteNumber("beta2", o.Adam.Beta2);
            w.WriteNumber("eps", o.Adam.Epsilon);
            w.WriteNumber("weight_decay", o.Adam.WeightDecay);
            w.WriteBoolean("decoupled", o.Adam.Decoupled);
            w.WriteNumber("clip", o.ClipNorm);
            w.WriteNumber("seed", o.Seed);
            if (o.FreeBits > 0) w.WriteNumber("free_bits", o.FreeBits);
            if (o.KlSchedule.VariesPerStep)
            {
                w.WriteStartObject("kl_schedule");
                w.WriteString("kind", o.KlSchedule.Kind.ToString().ToLowerInvariant());
                w.WriteNumber("warmup_steps", o.KlSchedule.WarmupSteps);
                w.WriteNumber("cycle_steps", o.KlSchedule.CycleSteps);
                w.WriteNumber("ramp", o.KlSchedule.RampFraction);
                w.WriteNumber("capacity", o.KlSchedule.CapacityNats);
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(ms.ToArray());
    }

    static KlSchedule ScheduleFromJson(JsonElement k) => k.GetProperty("kind").GetString() switch
    {
        "linear" => KlSchedule.Linear(k.GetProperty("warmup_steps").GetInt64()),
        "cyclical" => KlSchedule.Cyclical(k.GetProperty("cycle_steps").GetInt64(), k.GetProperty("ramp").GetDouble()),
        "capacity" => KlSchedule.Capacity(k.GetProperty("capacity").GetDouble(), k.GetProperty("warmup_steps").GetInt64()),
        var other => throw new FormatException($"unknown KL schedule kind '{other}'"),
    };

    static TrainingOptions OptionsFromJson(string json, string path)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            var r = doc.RootElement;
            var options = new TrainingOptions
            {
                Epochs = r.GetProperty("epochs").GetInt32(),
                BatchSize = r.GetProperty("batch").GetInt32(),
                Adam = new AdamSettings(r.GetProperty("lr").GetSingle(), r.GetProperty("beta1").GetSingle(), r.GetProperty("beta2").GetSingle(),
                    r.GetProperty("eps").GetSingle(), r.GetProperty("weight_decay").GetSingle(), r.GetProperty("decoupled").GetBoolean()),
                ClipNorm = r.GetProperty("clip").GetSingle(),
                Seed = r.GetProperty("seed").GetUInt64(),
                KlSchedule = r.TryGetProperty("kl_schedule", out var k) ? ScheduleFromJson(k) : KlSchedule.Constant,
                FreeBits = r.TryGetProperty("free_bits", out var f) ? f.GetSingle() : 0f,
            };
            options.Validate();
            return options;
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or ArgumentException)
        {
            throw new InvalidDataException($"{path}: the training metadata '{json}' is not valid ({e.Message}).", e);
        }
    }

    static string HistoryToJson(IReadOnlyList<EpochRecord> history)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartArray();
            foreach (var h in history)
            {
                w.WriteStartObject();
                w.WriteNumber("epoch", h.Epoch);
                Number(w, "train_loss", h.TrainLoss);
                Number(w, "train_recon", h.TrainRecon);
                Number(w, "train_kl", h.TrainKl);
                Number(w, "test_loss", h.TestLoss);
                Number(w, "test_recon", h.TestRecon);
                Number(w, "test_kl", h.TestKl);
                Number(w, "seconds", h.Seconds);
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        return System.Text.Encoding.UTF8.GetString(ms.ToArray());
    }

    static void Number(Utf8JsonWriter w, string name, double value)
    {
        if (double.IsFinite(value)) w.WriteNumber(name, value);
        else w.WriteNull(name);
    }

    static IEnumerable<EpochRecord> HistoryFromJson(string json, string path)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            var list = new List<EpochRecord>();
            foreach (var e in doc.RootElement.EnumerateArray())
            {
                double D(string k) => e.TryGetProperty(k, out var x) && x.ValueKind == JsonValueKind.Number ? x.GetDouble() : double.NaN;
                list.Add(new EpochRecord(e.GetProperty("epoch").GetInt32(), D("train_loss"), D("train_recon"), D("train_kl"),
                    D("test_loss"), D("test_recon"), D("test_kl"), D("seconds")));
            }
            return list;
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{path}: the history metadata is not valid ({e.Message}).", e);
        }
    }
}
