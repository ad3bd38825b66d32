// KL annealing schedules: their factors step by step, their validation, that the model's KL weight enters the
// gradient exactly like a beta, that the trainer applies the factor of each step (a warm-up step equals a step of a
// model whose beta is that step's weight, bit for bit), that a schedule survives a checkpoint, and that continuing a
// run in a new trainer continues the schedule exactly.
using Vae.Checkpoints;
using Vae.Cpu;
using Vae.Models;
using Vae.Tests.Support;
using Vae.Training;
using Xunit;

namespace Vae.Tests.Training;

public sealed class KlScheduleTests
{
    [Fact]
    public void Linear_warmup_rises_to_one_and_stays()
    {
        var s = KlSchedule.Linear(4);
        Assert.Equal([0.25f, 0.5f, 0.75f, 1f, 1f, 1f], Enumerable.Range(1, 6).Select(t => s.Factor(t)));
        Assert.Equal(1f, KlSchedule.Linear(0).Factor(1));
        Assert.Equal(1f, KlSchedule.Constant.Factor(12345));
    }

    [Fact]
    public void Cyclical_annealing_repeats_its_ramp_every_cycle()
    {
        var s = KlSchedule.Cyclical(6, 0.5);   // ramp over 3 steps, then 3 steps at 1
        float[] one = [1f / 3, 2f / 3, 1f, 1f, 1f, 1f];
        Assert.Equal(one.Concat(one), Enumerable.Range(1, 12).Select(t => s.Factor(t)));
        Assert.True(s.VariesPerStep);
        Assert.False(KlSchedule.Constant.VariesPerStep);
    }

    [Fact]
    public void Invalid_schedules_and_steps_are_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => KlSchedule.Cyclical(0).Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => KlSchedule.Cyclical(10, 0).Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => KlSchedule.Linear(-1).Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => KlSchedule.Linear(5).Factor(0));
    }

    static float[] Gradients(VaeConfig config, Action<VaeModel> backward)
    {
        using var backend = new CpuBackend(threads: 1);
        using var model = new VaeModel(backend, config, 5);
        model.InitializeParameters(4);
        backend.Upload<float>(SyntheticImages.Uniform(2, 5, config.Input), model.Input.Slice(0, 5 * config.Input));
        backend.RandomNormal(model.Eps.Slice(0, 5 * config.Latent), 8, 0);
        model.Forward(5);
        backward(model);
        var g = new float[model.Parameters.Layout.TotalLength];
        backend.Download<float>(model.Parameters.Gradients, g);
        return g;
    }

    [Fact]
    public void A_kl_weight_acts_exactly_like_beta()
    {
        var config = new VaeConfig(10, [6], 3, ReconstructionLoss.Bce, 1f);
        var weighted = Gradients(config, m => m.Backward(5, 0.3f));
        var beta = Gradients(new VaeConfig(10, [6], 3, ReconstructionLoss.Bce, 0.3f), m => m.Backward(5));
        Tolerance.AssertBitwiseEqual("gradients", weighted, beta);
        Assert.NotEqual(weighted, Gradients(config, m => m.Backward(5)));
    }

    static float[] TrainSteps(VaeConfig config, KlSchedule schedule, int steps, out TrainingState state)
    {
        var options = new TrainingOptions { Epochs = 1, BatchSize = 4, Seed = 6, KlSchedule = schedule };
        state = new TrainingState();
        using var run = new TrainingSetup(new CpuBackend(threads: 1), config, options, state, SyntheticImages.Uniform(3, 16, config.Input), null);
        int[] indices = [0, 5, 9, 12];
        for (int i = 0; i < steps; i++)
        {
            run.Trainer.LoadBatch(run.Train, indices);
            run.Trainer.TrainStep(4);
        }
        var p = new float[run.Model.Parameters.Layout.TotalLength];
        run.Backend.Download<float>(run.Model.Parameters.Parameters, p);
        return p;
    }

    [Fact]
    public void The_trainer_weights_each_step_by_its_factor()
    {
        var config = new VaeConfig(10, [6], 3, ReconstructionLoss.Bce, 2f);
        // Step 1 of a 4-step warm-up has KL weight 2 * 1/4 = 0.5: the same update as a model with beta 0.5.
        var warm = TrainSteps(config, KlSchedule.Linear(4), 1, out _);
        var half = TrainSteps(new VaeConfig(10, [6], 3, ReconstructionLoss.Bce, 0.5f), KlSchedule.Constant, 1, out _);
        Tolerance.AssertBitwiseEqual("parameters after one warm-up step", warm, half);
        Assert.NotEqual(warm, TrainSteps(config, KlSchedule.Constant, 1, out _));
    }

    [Fact]
    public void A_schedule_survives_a_checkpoint()
    {
        using var folder = new ScratchDirectory();
        var config = new VaeConfig(10, [6], 3);
        var options = new TrainingOptions { Epochs = 2, BatchSize = 4, KlSchedule = KlSchedule.Cyclical(7, 0.25) };
        using var backend = new CpuBackend(threads: 1);
        using var model = new VaeModel(backend, config, 4);
        string path = Path.Combine(folder.Path, "c.safetensors");
        Checkpoint.Save(path, model, options, new TrainingState());
        Assert.Equal(options.KlSchedule, Checkpoint.Read(path).Options!.KlSchedule);
        Checkpoint.Save(path, model, options with { KlSchedule = KlSchedule.Constant }, new TrainingState());
        Assert.Equal(KlSchedule.Constant, Checkpoint.Read(path).Options!.KlSchedule);
    }

    [Fact]
    public void Continuing_in_a_new_trainer_continues_the_schedule()
    {
        var config = new VaeConfig(10, [6], 3);
        var options = new TrainingOptions { Epochs = 2, BatchSize = 4, Seed = 2, KlSchedule = KlSchedule.Linear(6) };
        var images = SyntheticImages.Uniform(3, 12, config.Input);
        float[] straight;
        {
            var state = new TrainingState();
            using var run = new TrainingSetup(new CpuBackend(threads: 1), config, options, state, images, null);
            run.Trainer.Run(null);
            straight = new float[run.Model.Parameters.Layout.TotalLength];
            run.Backend.Download<float>(run.Model.Parameters.Parameters, straight);
        }
        var split = new TrainingState();
        using var first = new TrainingSetup(new CpuBackend(threads: 1), config, options with { Epochs = 1 }, split, images, null);
        first.Trainer.Run(null);
        using var second = new Trainer(first.Model, first.Train, null, options, split);
        second.Run(null);
        var continued = new float[first.Model.Parameters.Layout.TotalLength];
        first.Backend.Download<float>(first.Model.Parameters.Parameters, continued);
        Tolerance.AssertBitwiseEqual("parameters after 2 epochs", continued, straight);
    }

    [Fact]
    public void Capacity_rises_linearly_to_its_target()
    {
        var s = KlSchedule.Capacity(10, 4);
        Assert.Equal([2.5, 5, 7.5, 10, 10], Enumerable.Range(1, 5).Select(t => s.CapacityAt(t)));
        Assert.True(s.VariesPerStep);
        Assert.Throws<ArgumentOutOfRangeException>(() => KlSchedule.Capacity(-1, 4).Validate());
    }

    static (float[] parameters, float kl) TrainCapacity(KlSchedule schedule, int steps)
    {
        var config = new VaeConfig(10, [6], 3, ReconstructionLoss.Bce, 4f);
        var options = new TrainingOptions { Epochs = 1, BatchSize = 4, Seed = 6, KlSchedule = schedule, Adam = new AdamSettings(1e-2f) };
        using var run = new TrainingSetup(new CpuBackend(threads: 1), config, options, new TrainingState(), SyntheticImages.Uniform(3, 16, config.Input), null);
        int[] indices = [0, 5, 9, 12];
        for (int i = 0; i < steps; i++)
        {
            run.Trainer.LoadBatch(run.Train, indices);
            run.Trainer.TrainStep(4);
        }
        var p = new float[run.Model.Parameters.Layout.TotalLength];
        run.Backend.Download<float>(run.Model.Parameters.Parameters, p);
        return (p, run.Trainer.LastTotals[1] / 4);
    }

    [Fact]
    public void Capacity_annealing_weights_the_kl_by_the_sign_of_its_excess()
    {
        // C = 0: the batch KL is above it, so the weight is +beta: exactly the constant schedule's step.
        Tolerance.AssertBitwiseEqual("one step with C = 0", TrainCapacity(KlSchedule.Capacity(0, 1), 1).parameters,
            TrainCapacity(KlSchedule.Constant, 1).parameters);
        // C = 40 nats, far above: the weight is -beta, which drives the KL up toward C.
        float klConstant = TrainCapacity(KlSchedule.Constant, 40).kl;
        float klCapacity = TrainCapacity(KlSchedule.Capacity(40, 1), 40).kl;
        Assert.True(klCapacity > 5 * klConstant + 1, $"KL per image after 40 steps: {klCapacity} with capacity 40, {klConstant} without");
    }

    [Fact]
    public void A_capacity_schedule_survives_a_checkpoint()
    {
        using var folder = new ScratchDirectory();
        using var backend = new CpuBackend(threads: 1);
        using var model = new VaeModel(backend, new VaeConfig(10, [6], 3), 4);
        string path = Path.Combine(folder.Path, "c.safetensors");
        var options = new TrainingOptions { BatchSize = 4, KlSchedule = KlSchedule.Capacity(25, 900) };
        Checkpoint.Save(path, model, options, new TrainingState());
        Assert.Equal(options.KlSchedule, Checkpoint.Read(path).Options!.KlSchedule);
    }
}
