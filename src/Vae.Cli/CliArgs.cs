// A small command-line parser: positional words, --flag and --name value options. Unknown or malformed options
// become a UsageException with a message saying what was wrong, which Program turns into exit code 2.
using System.Globalization;

namespace Vae.Cli;

public sealed class UsageException(string message) : Exception(message);

public sealed class CliArgs
{
    readonly List<string> positional = [];
    readonly Dictionary<string, string?> options = new(StringComparer.Ordinal);
    readonly HashSet<string> used = new(StringComparer.Ordinal);

    public CliArgs(IEnumerable<string> args)
    {
        var list = args.ToList();
        for (int i = 0; i < list.Count; i++)
        {
            string a = list[i];
            if (a.StartsWith("--", StringComparison.Ordinal) && a.Length > 2)
            {
                string name = a[2..];
                string? value = null;
                int eq = name.IndexOf('=');
                if (eq >= 0) { value = name[(eq + 1)..]; name = name[..eq]; }
                else if (i + 1 < list.Count && !list[i + 1].StartsWith("--", StringComparison.Ordinal)) value = list[++i];
                options[name] = value;
            }
            else positional.Add(a);
        }
    }

    public IReadOnlyList<string> Positional => positional;

    public bool Flag(string name)
    {
        used.Add(name);
        if (!options.TryGetValue(name, out var v)) return false;
        if (v is not null) throw new UsageException($"--{name} takes no value (got '{v}').");
        return true;
    }

    public int Int(string name, int defaultValue, int min = int.MinValue, int max = int.MaxValue)
    {
        used.Add(name);
        if (!options.TryGetValue(name, out var v)) return defaultValue;
        if (v is null || !int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int x))
            throw new UsageException($"--{name} needs an integer value (got '{v}').");
        if (x < min || x > max) throw new UsageException($"--{name} must be in [{min}, {max}] (got {x}).");
        return x;
    }

    /// <summary>True when the option was given (with or without a value).</summary>
    public bool Has(string name)
    {
        used.Add(name);
        return options.ContainsKey(name);
    }

    public float Float(string name, float defaultValue, float min = float.MinValue, float max = float.MaxValue)
    {
        used.Add(name);
        if (!options.TryGetValue(name, out var v)) return defaultValue;
        if (v is null || !float.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out float x) || !float.IsFinite(x))
            throw new UsageException($"--{name} needs a number (got '{v}').");
        if (x < min || x > max) throw new UsageException($"--{name} must be in [{min.ToString(CultureInfo.InvariantCulture)}, {max.ToString(CultureInfo.InvariantCulture)}] (got {v}).");
        return x;
    }

    /// <summary>A comma-separated list of positive integers, e.g. --hidden 400,400; an empty value or "none" is the empty list.</summary>
    public int[] IntList(string name, int[] defaultValue)
    {
        used.Add(name);
        if (!options.TryGetValue(name, out var v)) return defaultValue;
        if (v is null) throw new UsageException($"--{name} needs a comma-separated list of positive integers, e.g. 400,400.");
        if (v.Length == 0 || v == "none") return [];
        var parts = v.Split(',');
        var result = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out result[i]) || result[i] < 1 || result[i] > 1_000_000)
                throw new UsageException($"--{name} needs a comma-separated list of positive integers, e.g. 400,400 (got '{v}').");
        return result;
    }

    public string? String(string name)
    {
        used.Add(name);
        if (!options.TryGetValue(name, out var v)) return null;
        return v ?? throw new UsageException($"--{name} needs a value.");
    }

    /// <summary>Throws for any option that no command asked about (a typo, or an option of another command).</summary>
    public void RejectUnknown()
    {
        foreach (var name in options.Keys)
            if (!used.Contains(name)) throw new UsageException($"Unknown option --{name}. Run 'vae help' for the list of commands and options.");
    }
}
