// Runs an FsCheck 3 property from a plain xunit [Fact] (FsCheck.Xunit is not used): a fixed replay seed makes every
// run draw the same cases, and a failure throws with the failing case and the inner assertion's message.
using FsCheck;
using FsCheck.Fluent;
using Microsoft.FSharp.Core;

namespace Vae.Tests.Support;

public static class PropertyRunner
{
    /// <summary>Checks <paramref name="body"/> (which asserts by throwing) on <paramref name="cases"/> values drawn from <paramref name="generator"/>.</summary>
    public static void Check<T>(Gen<T> generator, Action<T> body, int cases, ulong seed = 0x5EED_2024)
    {
        var replay = new Replay(new Rnd(seed), FSharpOption<int>.None);
        var config = Config.QuickThrowOnFailure
            .WithMaxTest(cases)
            .WithQuietOnSuccess(true)
            .WithReplay(FSharpOption<Replay>.Some(replay));
        Prop.ForAll(Arb.From(generator), body).Check(config);
    }
}
