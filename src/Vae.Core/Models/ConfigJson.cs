// The JSON of the model configurations (what every checkpoint stores as its "config"), written and read the same way
// for every kind: {"model": KIND, "input": D, "hidden": [...], then the kind's own fields}. Reading checks the kind (a
// JSON without "model" is a 'vae', as in the first checkpoints) and turns a malformed, missing or out-of-range field
// into an InvalidDataException that names the source, the JSON and the problem.
using System.Text;
using System.Text.Json;

namespace Vae.Models;

public static class ConfigJson
{
    /// <summary>{"model": kind, "input": input, "hidden": [...], then what <paramref name="fields"/> writes}.</summary>
    public static string Write(string kind, int input, int[] hidden, Action<Utf8JsonWriter> fields)
    {
        ArgumentNullException.ThrowIfNull(fields);
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            w.WriteString("model", kind);
            w.WriteNumber("input", input);
            WriteSizes(w, "hidden", hidden);
            fields(w);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    /// <summary>"name": [sizes...].</summary>
    public static void WriteSizes(Utf8JsonWriter w, string name, int[] sizes)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(sizes);
        w.WriteStartArray(name);
        foreach (int s in sizes) w.WriteNumberValue(s);
        w.WriteEndArray();
    }

    /// <summary>"recon": "bce" or "mse".</summary>
    public static void WriteReconstruction(Utf8JsonWriter w, ReconstructionLoss loss)
    {
        ArgumentNullException.ThrowIfNull(w);
        w.WriteString("recon", loss == ReconstructionLoss.Bce ? "bce" : "mse");
    }

    /// <summary>
    /// <paramref name="read"/> of the JSON object, which must hold a <paramref name="kind"/> model; any error (bad JSON,
    /// another kind, a missing or mistyped field, a value the configuration refuses) is an InvalidDataException naming
    /// <paramref name="source"/>.
    /// </summary>
    public static T Read<T>(string json, string source, string kind, Func<JsonElement, T> read)
    {
        ArgumentNullException.ThrowIfNull(read);
        try
        {
            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            string found = root.TryGetProperty("model", out var model) ? model.GetString() ?? "vae" : "vae";
            if (found != kind)
                throw new InvalidDataException($"{source}: the checkpoint holds a '{found}' model, not a '{kind}' one; this needs a '{kind}' checkpoint.");
            return read(root);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or ArgumentException)
        {
            throw new InvalidDataException($"{source}: the '{kind}' model configuration '{json}' is not valid ({e.Message}).", e);
        }
    }

    /// <summary>The field <paramref name="key"/>; KeyNotFoundException ("key" is missing) without it.</summary>
    public static JsonElement Required(JsonElement root, string key) =>
        root.TryGetProperty(key, out var e) ? e : throw new KeyNotFoundException($"\"{key}\" is missing");

    /// <summary>The required array of layer sizes <paramref name="key"/>.</summary>
    public static int[] Sizes(JsonElement root, string key) => Required(root, key).EnumerateArray().Select(v => v.GetInt32()).ToArray();

    /// <summary>The number <paramref name="key"/>, or <paramref name="fallback"/> without it.</summary>
    public static float Optional(JsonElement root, string key, float fallback) => root.TryGetProperty(key, out var e) ? e.GetSingle() : fallback;

    /// <summary>"recon" ("bce" without it).</summary>
    public static ReconstructionLoss Reconstruction(JsonElement root) =>
        VaeConfig.ParseReconstruction(root.TryGetProperty("recon", out var r) ? r.GetString() ?? "bce" : "bce");
}
