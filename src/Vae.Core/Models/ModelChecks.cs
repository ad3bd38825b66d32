// The argument checks every member of the VAE family makes the same way: rows within the batch capacity, host images
// and codes of the expected size, no labels for an unconditional model, and Backward's KL weight and free bits. Each
// throws with a message that says what was expected and what was found.
using System.Runtime.CompilerServices;

namespace Vae.Models;

public static class ModelChecks
{
    /// <summary>rows in [1, capacity].</summary>
    public static void Rows(int rows, int capacity)
    {
        if (rows < 1 || rows > capacity) throw new ArgumentOutOfRangeException(nameof(rows), rows, $"Rows must be in [1, {capacity}] (the model's batch capacity).");
    }

    /// <summary><paramref name="images"/> holds <paramref name="count"/> images of <paramref name="input"/> pixels.</summary>
    public static void Images(ReadOnlySpan<float> images, int count, int input, [CallerArgumentExpression(nameof(images))] string? paramName = null)
    {
        if (count < 0 || images.Length != count * input)
            throw new ArgumentException($"Expected {count} images of {input} pixels ({count * input} floats), got {images.Length}. Is the data the size the model was trained on?", paramName);
    }

    /// <summary><paramref name="values"/> holds <paramref name="count"/> rows of <paramref name="width"/>, described as <paramref name="what"/> (e.g. "latent codes of size 20").</summary>
    public static void RowsOf<T>(ReadOnlySpan<T> values, int count, int width, string what, [CallerArgumentExpression(nameof(values))] string? paramName = null)
    {
        if (count < 0 || values.Length != count * width)
            throw new ArgumentException($"Expected {count} {what} ({count * width} values), got {values.Length}.", paramName);
    }

    /// <summary>An unconditional model (<paramref name="model"/>, e.g. "The hierarchical VAE") was given <paramref name="given"/> labels: throws unless none.</summary>
    public static void NoLabels(int given, string model)
    {
        if (given > 0) throw new ArgumentException($"{model} is unconditional: it takes no class labels (train --model cvae for a conditional model).");
    }

    /// <summary>The argument checks of Backward(rows, klWeight, freeBits).</summary>
    public static void KlArguments(float klWeight, float freeBits)
    {
        if (!float.IsFinite(klWeight)) throw new ArgumentOutOfRangeException(nameof(klWeight), klWeight, "The KL weight must be finite.");
        if (!(freeBits >= 0 && float.IsFinite(freeBits)))
            throw new ArgumentOutOfRangeException(nameof(freeBits), freeBits, "Free bits must be finite and >= 0 nats per latent dimension (0 = off).");
    }
}
