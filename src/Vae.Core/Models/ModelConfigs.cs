// The family's configurations by name: reads the "model" field of a checkpoint's config JSON and hands the JSON to
// that model's parser. A new member of the family adds one line here.
using System.Text.Json;

namespace Vae.Models;

public static class ModelConfigs
{
    /// <summary>The model kinds this build knows, as written in checkpoints and taken by `vae train --model`.</summary>
    public static IReadOnlyList<string> Kinds { get; } = ["vae", "cvae", "hvae", "vqvae"];

    /// <summary>Parses a config JSON of any kind ("model" missing means "vae", as in the first checkpoints); throws InvalidDataException naming <paramref name="source"/>.</summary>
    public static IModelConfig FromJson(string json, string source)
    {
        string kind;
        try
        {
            using var doc = JsonDocument.Parse(json);
            kind = doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("model", out var m) && m.ValueKind == JsonValueKind.String
                ? m.GetString()! : "vae";
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: the model configuration '{json}' is not valid JSON ({e.Message}).", e);
        }
        return kind switch
        {
            "vae" => VaeConfig.FromJson(json, source),
            "cvae" => CvaeConfig.FromJson(json, source),
            "vqvae" => VqVaeConfig.FromJson(json, source),
            "hvae" => HvaeConfig.FromJson(json, source),
            Text.TextVaeConfig.KindName => throw new InvalidDataException(
                $"{source}: holds a text VAE (model 'text'), which works on sentences, not images; use it with the text commands (vae eval, sample, reconstruct, interpolate with --checkpoint)."),
            _ => throw new InvalidDataException($"{source}: the checkpoint holds a '{kind}' model, which this build does not know (it knows {string.Join(", ", Kinds)})."),
        };
    }
}
