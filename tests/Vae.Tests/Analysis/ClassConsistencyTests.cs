// The nearest-class-mean rule behind the class-consistency metric, on hand-made images whose answers are known:
// class means, nearest means (ties to the lower class, classes without reference images never chosen), accuracies of
// hand-labelled sets, and the argument checks.
using Vae.Analysis;
using Xunit;

namespace Vae.Tests.Analysis;

public sealed class ClassConsistencyTests
{
    // Three 2-pixel classes (dyadic values, so distances and ties are exact); class 3 has no images.
    static readonly float[] Reference =
    [
        0f, 0f,      0.5f, 0f,     // class 0: mean (0.25, 0)
        1f, 0f,      1f, 0.5f,     // class 1: mean (1, 0.25)
        0f, 1f,                    // class 2: mean (0, 1)
    ];
    static readonly byte[] ReferenceLabels = [0, 0, 1, 1, 2];

    static ClassConsistency Rule() => new(Reference, ReferenceLabels, pixels: 2, classes: 4);

    [Fact]
    public void Class_means_are_the_averages_of_each_class_images()
    {
        var rule = Rule();
        Assert.Equal([0.25, 0.0], rule.Mean(0).ToArray());
        Assert.Equal([1.0, 0.25], rule.Mean(1).ToArray());
        Assert.Equal([0.0, 1.0], rule.Mean(2).ToArray());
        Assert.True(rule.HasClass(2));
        Assert.False(rule.HasClass(3));
    }

    [Theory]
    [InlineData(0.05f, 0.1f, 0)]
    [InlineData(0.9f, 0.3f, 1)]
    [InlineData(0.1f, 0.8f, 2)]
    [InlineData(5f, 5f, 1)]              // far from all: squared distances 47.6, 38.6 and 41
    [InlineData(0.625f, 0.125f, 0)]      // exactly equidistant from (0.25, 0) and (1, 0.25): the lower class
    public void Each_image_goes_to_the_nearest_class_mean(float a, float b, int expected)
    {
        Assert.Equal(expected, Rule().Nearest([a, b]));
    }

    [Fact]
    public void Accuracy_counts_the_images_whose_nearest_mean_is_their_label()
    {
        var rule = Rule();
        float[] images = [0f, 0.1f, 0.9f, 0.1f, 0.1f, 0.9f, 0.95f, 0.05f];
        Assert.Equal(1.0, rule.Accuracy(images, [0, 1, 2, 1]));
        Assert.Equal(0.5, rule.Accuracy(images, [0, 1, 1, 2]));   // the last two are labelled wrong
        Assert.Equal(0.25, rule.Accuracy(images, [3, 3, 3, 1]));  // class 3 has no mean: never the answer
        // The reference set itself: every image is nearest its own class mean.
        Assert.Equal(1.0, rule.Accuracy(Reference, ReferenceLabels.Select(l => (int)l).ToArray()));
    }

    [Fact]
    public void A_class_mean_halfway_between_two_others_is_nearest_only_around_itself()
    {
        // 1-pixel images: classes at 0, 0.5 and 1; 0.3 goes to 0.5, 0.2 to 0, and 0.75 (a tie of 0.5 and 1) to the lower class.
        var rule = new ClassConsistency([0f, 0.5f, 1f], [0, 1, 2], pixels: 1, classes: 3);
        Assert.Equal(1, rule.Nearest([0.3f]));
        Assert.Equal(0, rule.Nearest([0.2f]));
        Assert.Equal(1, rule.Nearest([0.75f]));
        Assert.Equal(2, rule.Nearest([0.76f]));
    }

    [Fact]
    public void Bad_arguments_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => new ClassConsistency([0f, 0f, 0f], [0, 1], pixels: 2, classes: 2));
        Assert.Contains("Label 2", Assert.Throws<ArgumentException>(() => new ClassConsistency([0f, 0f], [2], pixels: 2, classes: 2)).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ClassConsistency([], [], pixels: 2, classes: 0));
        var rule = Rule();
        Assert.Throws<ArgumentException>(() => rule.Nearest([0f]));
        Assert.Throws<ArgumentException>(() => rule.Accuracy([0f, 0f, 0f], [0]));
        Assert.Throws<ArgumentException>(() => rule.Accuracy([], []));
    }
}
