// A classifier-free check that a conditional model draws the class it is asked for: the nearest-class-mean rule.
// Each class of a reference set (the test set) is summarised by its mean image; an image is assigned to the class
// whose mean is nearest in pixel space (Euclidean distance; ties go to the lower class). The accuracy of that rule on
// the real test images is the yardstick (how separable the classes are by their means at all); the same accuracy on
// samples generated for each class (the intended class as the label) says how consistently the model draws it. A
// model that ignored its label would score about 1 / classes on its samples.
using Vae.Data;
using Vae.Models;

namespace Vae.Analysis;

/// <summary>The nearest-class-mean accuracy of the real test images and of samples drawn per class, in [0, 1].</summary>
public sealed record ClassConsistencyResult(double Real, double Samples, int RealImages, int SamplesPerClass, int Classes);

public sealed class ClassConsistency
{
    readonly double[] means;   // (Classes, Pixels)
    readonly bool[] present;   // classes with at least one reference image: the only candidates

    /// <summary>The per-class mean images of <paramref name="images"/> (count, pixels) with labels in [0, classes).</summary>
    public ClassConsistency(ReadOnlySpan<float> images, ReadOnlySpan<byte> labels, int pixels, int classes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pixels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 1);
        if (images.Length != (long)labels.Length * pixels)
            throw new ArgumentException($"Expected {labels.Length} images of {pixels} pixels ({(long)labels.Length * pixels} floats), got {images.Length}.", nameof(images));
        Pixels = pixels;
        Classes = classes;
        means = new double[classes * pixels];
        present = new bool[classes];
        var counts = new int[classes];
        for (int i = 0; i < labels.Length; i++)
        {
            int label = labels[i];
            if (label >= classes)
                throw new ArgumentException($"Label {label} of image {i} is outside the {classes} classes [0, {classes - 1}].", nameof(labels));
            counts[label]++;
            var image = images.Slice(i * pixels, pixels);
            var sum = means.AsSpan(label * pixels, pixels);
            for (int p = 0; p < pixels; p++) sum[p] += image[p];
        }
        for (int k = 0; k < classes; k++)
        {
            present[k] = counts[k] > 0;
            if (present[k])
                foreach (ref double v in means.AsSpan(k * pixels, pixels)) v /= counts[k];
        }
    }

    public int Pixels { get; }
    public int Classes { get; }

    /// <summary>The mean image of class <paramref name="k"/> (NaN-free; zeros for a class without reference images).</summary>
    public ReadOnlySpan<double> Mean(int k) => means.AsSpan(k * Pixels, Pixels);

    /// <summary>Whether class <paramref name="k"/> has reference images (only those are candidates of <see cref="Nearest"/>).</summary>
    public bool HasClass(int k) => present[k];

    /// <summary>The class whose mean image is nearest to <paramref name="image"/> (Euclidean; the lowest class on a tie).</summary>
    public int Nearest(ReadOnlySpan<float> image)
    {
        if (image.Length != Pixels) throw new ArgumentException($"Expected an image of {Pixels} pixels, got {image.Length}.", nameof(image));
        int best = -1;
        double bestDistance = double.PositiveInfinity;
        for (int k = 0; k < Classes; k++)
        {
            if (!present[k]) continue;
            var mean = Mean(k);
            double distance = 0;
            for (int p = 0; p < Pixels; p++)
            {
                double diff = image[p] - mean[p];
                distance += diff * diff;
            }
            if (distance < bestDistance) { bestDistance = distance; best = k; }
        }
        return best;
    }

    /// <summary>The fraction of <paramref name="images"/> (count, Pixels) whose nearest class mean is their label.</summary>
    public double Accuracy(ReadOnlySpan<float> images, ReadOnlySpan<int> labels)
    {
        if (images.Length != (long)labels.Length * Pixels)
            throw new ArgumentException($"Expected {labels.Length} images of {Pixels} pixels ({(long)labels.Length * Pixels} floats), got {images.Length}.", nameof(images));
        if (labels.Length == 0) throw new ArgumentException("Need at least one image to measure an accuracy.", nameof(labels));
        int correct = 0;
        for (int i = 0; i < labels.Length; i++)
            if (Nearest(images.Slice(i * Pixels, Pixels)) == labels[i]) correct++;
        return correct / (double)labels.Length;
    }

    /// <summary>
    /// Both accuracies for a conditional <paramref name="model"/>: the real images of <paramref name="test"/> (which also
    /// gives the class means), and <paramref name="samplesPerClass"/> samples drawn (stream <paramref name="seed"/>) for
    /// each class that has test images, labelled with the class they were drawn for.
    /// </summary>
    public static ClassConsistencyResult Measure(ITrainableModel model, ImageDataset test, int samplesPerClass, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(test);
        ArgumentOutOfRangeException.ThrowIfLessThan(samplesPerClass, 1);
        if (model.Classes == 0) throw new ArgumentException("Class consistency needs a conditional model (one with class labels).", nameof(model));
        if (test.Pixels != model.Config.Input)
            throw new ArgumentException($"{test.Name}: images have {test.Pixels} pixels but the model draws {model.Config.Input}.", nameof(test));
        if (test.Classes > model.Classes)
            throw new ArgumentException($"{test.Name}: labels go up to {test.Classes - 1} but the model is conditioned on {model.Classes} classes.", nameof(test));
        var rule = new ClassConsistency(test.Images, test.Labels, test.Pixels, model.Classes);
        double real = rule.Accuracy(test.Images, test.Labels.Select(b => (int)b).ToArray());
        var intended = Enumerable.Range(0, model.Classes).Where(rule.HasClass).SelectMany(k => Enumerable.Repeat(k, samplesPerClass)).ToArray();
        double samples = rule.Accuracy(model.Sample(intended.Length, seed, intended), intended);
        return new ClassConsistencyResult(real, samples, test.Count, samplesPerClass, intended.Length / samplesPerClass);
    }
}
