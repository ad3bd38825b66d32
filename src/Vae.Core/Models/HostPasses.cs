// The host-side passes of the models (Sample, EncodeMeans, DecodeLatents, Reconstruct, Interpolate and the like) over
// any number of rows: chunks of at most the model's capacity, each uploaded from a host array into the model's input
// view, run, and downloaded from its output view into the host result; and the straight line between two codes that
// interpolations decode. They allocate their results: for pictures and tests, not for hot loops.
namespace Vae.Models;

public static class HostPasses
{
    /// <summary>
    /// (count, outputWidth): for each chunk of rows [start, start + rows), rows &lt;= <paramref name="capacity"/>, calls
    /// run(start, rows) and downloads the first rows of <paramref name="output"/> into the result.
    /// </summary>
    public static float[] InChunks(IComputeBackend backend, int capacity, int count, Action<int, int> run, DeviceSpan<float> output, int outputWidth) =>
        InChunks<float>(backend, capacity, count, [], default, run, output, outputWidth);

    /// <summary>
    /// As <see cref="InChunks(IComputeBackend, int, int, Action{int, int}, DeviceSpan{float}, int)"/>, uploading each
    /// chunk's rows of <paramref name="source"/> (count rows of equal width) into <paramref name="sourceView"/> first.
    /// </summary>
    public static float[] InChunks<T>(IComputeBackend backend, int capacity, int count, ReadOnlySpan<T> source, DeviceSpan<T> sourceView,
        Action<int, int> run, DeviceSpan<float> output, int outputWidth) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(run);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        int sourceWidth = count == 0 ? 0 : source.Length / count;
        var result = new float[count * outputWidth];
        for (int start = 0; start < count; start += capacity)
        {
            int rows = Math.Min(capacity, count - start);
            if (sourceWidth > 0) backend.Upload(source.Slice(start * sourceWidth, rows * sourceWidth), sourceView.Slice(0, rows * sourceWidth));
            run(start, rows);
            backend.Download<float>(output.Slice(0, rows * outputWidth), result.AsSpan(start * outputWidth, rows * outputWidth));
        }
        return result;
    }

    /// <summary>
    /// <paramref name="steps"/> images along the straight line between the codes of images a and b (both ends included):
    /// <paramref name="encodePair"/> turns the two images (2, input) into their codes (2, width), <paramref name="decode"/>
    /// turns the codes of the line (steps, width) into images.
    /// </summary>
    public static float[] Interpolate(ReadOnlySpan<float> a, ReadOnlySpan<float> b, int steps, int input, int width,
        Func<float[], float[]> encodePair, Func<float[], int, float[]> decode)
    {
        ArgumentNullException.ThrowIfNull(encodePair);
        ArgumentNullException.ThrowIfNull(decode);
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 2);
        var ends = encodePair(Pair(a, b, input));
        return decode(Line(ends, width, steps), steps);
    }

    /// <summary>Images a and b (one of <paramref name="input"/> pixels each, checked) as one array (2, input).</summary>
    public static float[] Pair(ReadOnlySpan<float> a, ReadOnlySpan<float> b, int input)
    {
        ModelChecks.Images(a, 1, input);
        ModelChecks.Images(b, 1, input);
        var pair = new float[2 * input];
        a.CopyTo(pair);
        b.CopyTo(pair.AsSpan(input));
        return pair;
    }

    /// <summary>(steps, width): point s = (1 - t) ends[0] + t ends[1], t = s / (steps - 1), of the two rows of <paramref name="ends"/> (2, width).</summary>
    public static float[] Line(ReadOnlySpan<float> ends, int width, int steps)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 2);
        if (ends.Length != 2 * width) throw new ArgumentException($"Expected the two ends of width {width} ({2 * width} floats), got {ends.Length}.", nameof(ends));
        var path = new float[steps * width];
        for (int s = 0; s < steps; s++)
        {
            float t = s / (float)(steps - 1);
            for (int j = 0; j < width; j++) path[s * width + j] = (1 - t) * ends[j] + t * ends[width + j];
        }
        return path;
    }
}
