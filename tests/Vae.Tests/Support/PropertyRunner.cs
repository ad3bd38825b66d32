// Runs an FsCheck 3 property from a plain xunit [Fact] (FsCheck.Xunit is not used): a fixed replay seed makes every
// run draw the same cases, and a failure throws with the failing case and the inner assertion's message.
// Setting the environment variable VAE_PROPERTY_SEED (an integer) draws different cases, to explore beyond the fixed set.
using System.Globalization;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.FSharp.Core;

namespace Vae.Tests.Support;

public static class PropertyRunner
{
    static readonly ulong? SeedOverride =
        ulong.TryParse(Environment.GetEnvironmentVariable("VAE_PROPERTY_SEED"), NumberStyles.Integer, CultureInfo.InvariantCulture, out ulong seed) ? seed : null;

    /// <summary>Checks <paramref name="body"/> (which asserts by throwing) on <paramref name="cases"/> values drawn from <paramref name="generator"/>.</summary>
    public static void Check<T>(Gen<T> generator, Action<T> body, int cases, ulong seed = 0x5EED_2024)
    {
        var replay = new Replay(new Rnd(SeedOverride ?? seed), FSharpOption<int>.None);
        var config = Config.QuickThrowOnFailure
            .WithMaxTest(cases)
            .WithQuietOnSuccess(true)
            .WithReplay(FSharpOption<Replay>.Some(replay));
        Prop.ForAll(Arb.From(generator), body).Check(config);
    }
}
