// Warmed-up text training steps allocate nothing on the managed heap (after 2 warm-up steps, 8 measured steps of
// TextTrainer.TrainStep on a tiny corpus): the VAE with word dropout, teacher forcing < 1 (fed-back steps), a KL warm-up
// and free bits, on the pooled and the one-thread CPU backend; the plain VAE; the language model. AllocationMeter's
// rules (exactly 0 bytes on the calling thread; the process's count only flags a step above the runner's background
// rate); the class runs in the AllocationCollection, alone, so no other test allocates meanwhile.
using Vae.Tests.Support;
using Vae.Training;
using Xunit;

namespace Vae.Tests.Models.Text;

[Collection(nameof(AllocationCollection))]
public sealed class TextTrainingAllocationTests
{
    public static TheoryData<string, int, float, float> AllocationCases => new()
    {
        { "cpu", 4, 0.25f, 0.5f },
        { "cpu-1", 4, 0.25f, 0.5f },
        { "cpu", 4, 0f, 1f },
        { "cpu", 0, 0.25f, 0.5f },
    };

    [Theory]
    [MemberData(nameof(AllocationCases))]
    public void Warm_training_steps_allocate_nothing(string backendName, int latent, float wordDropout, float teacherForcing)
    {
        var data = TextModelSetup.Dataset(TextTrainerTests.Sentences, TextTrainerTests.MaxLength);
        using var backend = Backends.Create(backendName);
        using var model = TextModelSetup.Model(backend, TextTrainerTests.Config(data, latent), 8, seed: 5);
        using var trainer = new TextTrainer(model, data, null, TextTrainerTests.Options(1, wordDropout, teacherForcing, KlSchedule.Linear(100), freeBits: latent > 0 ? 0.1f : 0f),
            new TrainingState());
        int[] batch = [3, 7, 11, 19, 23, 42, 50, 63];
        trainer.TrainStep(batch);
        trainer.TrainStep(batch);
        backend.Synchronize();
        var measured = AllocationMeter.Measure(() => trainer.TrainStep(batch), 8, backend.Synchronize);
        Assert.True(measured.AllocatesNothing,
            $"TrainStep allocated: {measured.FewestOnThread} bytes on the calling thread, {measured.FewestInProcess} in the process (fewest of {AllocationMeter.Attempts} attempts of 8 steps)");
    }
}
