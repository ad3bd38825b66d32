// Faults raised by instructions themselves: integer division and remainder by zero, trap, a runaway loop stopped by
// the step limit, and cvta.to.shared of an address that is not in shared memory.
using Vae.PtxInterpreter.Tests.Support;
using Xunit;
using static Vae.PtxInterpreter.Tests.Faults.FaultAssert;

namespace Vae.PtxInterpreter.Tests.Faults;

public class ControlFaultTests
{
    private const string File = "faults/misc.ptx";

    [Theory]
    [InlineData("divide_u32", "div.u32", 4)]
    [InlineData("remainder_s32", "rem.s32", 4)]
    [InlineData("divide_s64", "div.s64", 8)]
    public void Integer_division_by_zero_faults_in_the_thread_that_divides_by_zero(string kernel, string opcode, int size)
    {
        var gpu = new PtxMachine();

        PtxFaultException ex = Throws(() => gpu.Launch(TestKernels.Load(File), kernel, new Dim3(1), new Dim3(32), 0,
            gpu.Allocate(32 * size)));

        Matches(ex, PtxFaultKind.IntegerDivideByZero, kernel, LineOf(File, kernel), opcode,
            block: new Dim3(0, 0, 0), thread: new Dim3(3, 0, 0));
    }

    [Fact]
    public void Integer_division_without_a_zero_divisor_runs()
    {
        var gpu = new PtxMachine();
        DevicePointer output = gpu.Allocate(3 * 4);

        gpu.Launch(TestKernels.Load(File), "remainder_s32", new Dim3(1), new Dim3(3), 0, output);

        // rem.s32 truncates toward zero: -1000 % -3, -1000 % -2, -1000 % -1.
        Assert.Equal(new[] { -1000 % -3, -1000 % -2, -1000 % -1 }, gpu.Read<int>(output, 3));
    }

    [Fact]
    public void Trap_faults_in_the_thread_that_executes_it()
    {
        var gpu = new PtxMachine();

        PtxFaultException ex = Throws(() => gpu.Launch(TestKernels.Load(File), "trap_in_one_thread", new Dim3(2),
            new Dim3(32), 0, gpu.Allocate(32 * 4)));

        Matches(ex, PtxFaultKind.Trap, "trap_in_one_thread", LineOf(File, "trap_in_one_thread"), "trap",
            block: new Dim3(0, 0, 0), thread: new Dim3(7, 0, 0));
    }

    [Fact]
    public void Runaway_loop_stops_at_the_warp_instruction_limit()
    {
        var gpu = new PtxMachine();
        gpu.Options.MaxWarpInstructionsPerLaunch = 10_000;
        string text = TestKernels.Text(File);
        int first = LineInRunawayLoop(text, "add.u32 %r1, %r1, 1;"), second = LineInRunawayLoop(text, "bra.uni SPIN;");

        PtxFaultException ex = Throws(() => gpu.Launch(TestKernels.Load(File), "runaway_loop", new Dim3(1),
            new Dim3(32), 0, gpu.Allocate(4)));

        // Any instruction of the loop may be the one over the limit.
        MatchesAnyThread(ex, PtxFaultKind.StepLimit, "runaway_loop", new[] { first, second }, "",
            new Dim3(0, 0, 0), new Dim3(32), 0, 31);
    }

    /// <summary>The 1-based line of the only line of the runaway_loop kernel that holds <paramref name="code"/>.</summary>
    private static int LineInRunawayLoop(string text, string code)
    {
        string[] lines = text.Split('\n');
        int start = Array.FindIndex(lines, l => l.Contains(".entry runaway_loop(", StringComparison.Ordinal));
        int found = Array.FindIndex(lines, start, l => l.Contains(code, StringComparison.Ordinal));
        Assert.True(start >= 0 && found >= 0, $"'{code}' not found in runaway_loop");
        return found + 1;
    }

    [Fact]
    public void Cvta_to_shared_of_a_global_address_is_an_invalid_address()
    {
        var gpu = new PtxMachine();

        PtxFaultException ex = Throws(() => gpu.Launch(TestKernels.Load(File), "shared_view_of_global", new Dim3(1),
            new Dim3(32), 0, gpu.Allocate(32 * 4)));

        MatchesAnyThread(ex, PtxFaultKind.InvalidAddress, "shared_view_of_global",
            new[] { LineOf(File, "shared_view_of_global") }, "cvta.to.shared", new Dim3(0, 0, 0), new Dim3(32), 0, 31);
    }
}
