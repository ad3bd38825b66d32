// Helpers for the fault tests: find the line of a kernel's marked faulting instruction ("// @fault <name>" in the
// .ptx file), run a launch that must fault, and check the fault's kind, kernel, line, thread, block and message.
using Vae.PtxInterpreter.Tests.Support;
using Xunit;

namespace Vae.PtxInterpreter.Tests.Faults;

internal static class FaultAssert
{
    /// <summary>The 1-based line of Kernels/<paramref name="relativePath"/> carrying "// @fault <paramref name="marker"/>".</summary>
    public static int LineOf(string relativePath, string marker)
    {
        string[] lines = TestKernels.Text(relativePath).Split('\n');
        int found = -1;
        for (int i = 0; i < lines.Length; i++)
        {
            int at = lines[i].IndexOf("// @fault ", StringComparison.Ordinal);
            if (at < 0)
                continue;
            string rest = lines[i][(at + "// @fault ".Length)..].Trim();
            if (rest == marker)
            {
                Assert.True(found < 0, $"marker '{marker}' appears twice in {relativePath}");
                found = i + 1;
            }
        }
        Assert.True(found > 0, $"no '// @fault {marker}' in {relativePath}");
        return found;
    }

    /// <summary>Runs <paramref name="launch"/>, which must throw a <see cref="PtxFaultException"/>, and returns it.</summary>
    public static PtxFaultException Throws(Action launch) => Assert.Throws<PtxFaultException>(launch);

    /// <summary>
    /// Checks the fault: its kind, kernel, line, block and thread exactly; the instruction text holds
    /// <paramref name="opcode"/>; and the message names the kernel, the line, the thread and the block.
    /// </summary>
    public static void Matches(PtxFaultException ex, PtxFaultKind kind, string kernel, int line, string opcode,
        Dim3 block, Dim3 thread)
    {
        Common(ex, kind, kernel, new[] { line }, opcode, block);
        Assert.True(ex.Thread == thread, $"expected thread {thread}, got {ex.Thread}: {ex.Message}");
    }

    /// <summary>
    /// As <see cref="Matches"/> where the faulting thread may be any of several: its linear index within the block
    /// must lie in [<paramref name="firstThread"/>, <paramref name="lastThread"/>]; the line may be any of
    /// <paramref name="lines"/>.
    /// </summary>
    public static void MatchesAnyThread(PtxFaultException ex, PtxFaultKind kind, string kernel, int[] lines, string opcode,
        Dim3 block, Dim3 blockDim, int firstThread, int lastThread)
    {
        Common(ex, kind, kernel, lines, opcode, block);
        Dim3 t = ex.Thread;
        Assert.True(t.X >= 0 && t.X < blockDim.X && t.Y >= 0 && t.Y < blockDim.Y && t.Z >= 0 && t.Z < blockDim.Z,
            $"thread {t} lies outside the block {blockDim}: {ex.Message}");
        long linear = ((long)t.Z * blockDim.Y + t.Y) * blockDim.X + t.X;
        Assert.True(linear >= firstThread && linear <= lastThread,
            $"expected one of threads {firstThread}..{lastThread}, got {t}: {ex.Message}");
    }

    /// <summary>One of the two accesses of a racing pair: its line, opcode, and the linear thread indices that make it.</summary>
    public readonly record struct Access(int Line, string Opcode, int FirstThread, int LastThread);

    /// <summary>
    /// A shared-memory race between <paramref name="a"/> and <paramref name="b"/>: the fault is reported at one of
    /// them (line, opcode and thread must all fit the same access), and the message also names the other's line.
    /// </summary>
    public static void MatchesRace(PtxFaultException ex, string kernel, Dim3 block, Dim3 blockDim, Access a, Access b)
    {
        Assert.True(ex.Kind == PtxFaultKind.SharedRace, $"expected a SharedRace fault, got {ex.Kind}: {ex.Message}");
        Access reported = ex.Line == a.Line ? a : ex.Line == b.Line ? b
            : throw new Xunit.Sdk.XunitException($"expected the race at line {a.Line} or {b.Line}, got line {ex.Line}: {ex.Message}");
        Access other = reported == a ? b : a;
        MatchesAnyThread(ex, PtxFaultKind.SharedRace, kernel, new[] { reported.Line }, reported.Opcode, block, blockDim,
            reported.FirstThread, reported.LastThread);
        Assert.True(ex.Message.Contains($"line {other.Line}", StringComparison.Ordinal)
                    || ex.Message.Contains($":{other.Line}", StringComparison.Ordinal),
            $"the message does not name the other access (line {other.Line}): {ex.Message}");
    }

    private static void Common(PtxFaultException ex, PtxFaultKind kind, string kernel, int[] lines, string opcode, Dim3 block)
    {
        Assert.True(ex.Kind == kind, $"expected a {kind} fault, got {ex.Kind}: {ex.Message}");
        Assert.Equal(kernel, ex.Kernel);
        Assert.True(lines.Contains(ex.Line), $"expected the fault at line {string.Join(" or ", lines)}, got line {ex.Line}: {ex.Message}");
        Assert.True(ex.Instruction.Contains(opcode, StringComparison.Ordinal),
            $"expected the instruction to be a '{opcode}', got '{ex.Instruction}'");
        Assert.True(ex.Block == block, $"expected block {block}, got {ex.Block}: {ex.Message}");
        MessageNamesLocation(ex, kernel, ex.Line);
    }

    /// <summary>The message must name the kernel, the line, and the fault's thread and block as (x,y,z).</summary>
    public static void MessageNamesLocation(PtxFaultException ex, string kernel, int line)
    {
        string m = ex.Message;
        Assert.Contains(kernel, m, StringComparison.Ordinal);
        Assert.Contains($":{line}", m, StringComparison.Ordinal);
        Assert.True(NamesTriple(m, ex.Thread), $"the message does not name thread {ex.Thread}: {m}");
        Assert.True(NamesTriple(m, ex.Block), $"the message does not name block {ex.Block}: {m}");
        Assert.Contains("thread", m, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("block", m, StringComparison.OrdinalIgnoreCase);
    }

    private static bool NamesTriple(string message, Dim3 d) =>
        message.Contains($"({d.X},{d.Y},{d.Z})", StringComparison.Ordinal)
        || message.Contains($"({d.X}, {d.Y}, {d.Z})", StringComparison.Ordinal);
}
