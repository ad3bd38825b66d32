// PTX that does not assemble (ptxas rejects each of these too) fails in PtxModule.Parse with a PtxParseException
// that points at the offending line: an unknown instruction, an undeclared register, a missing ';'.
using Xunit;

namespace Vae.PtxInterpreter.Tests.Faults;

public class ParseErrorTests
{
    /// <summary>A one-kernel module whose body ends with <paramref name="bodyLines"/>; returns its text and the
    /// 1-based line of the body line <paramref name="marked"/>.</summary>
    private static (string Text, int Line) Kernel(int marked, params string[] bodyLines)
    {
        var lines = new List<string>
        {
            ".version 7.8",
            ".target sm_80",
            ".address_size 64",
            "",
            ".visible .entry k(",
            "    .param .u64 p_out",
            ")",
            "{",
            "    .reg .b32 %r<4>;",
            "    .reg .b64 %rd<4>;",
            "",
            "    ld.param.u64 %rd1, [p_out];",
            "    cvta.to.global.u64 %rd1, %rd1;",
            "    mov.u32 %r1, %tid.x;",
        };
        int line = lines.Count + 1 + marked;
        lines.AddRange(bodyLines);
        lines.Add("    st.global.u32 [%rd1], %r2;");
        lines.Add("    ret;");
        lines.Add("}");
        return (string.Join("\n", lines) + "\n", line);
    }

    [Fact]
    public void Unknown_instruction_is_reported_at_its_line()
    {
        (string text, int line) = Kernel(1, "    add.u32 %r2, %r1, 1;", "    frobnicate.u32 %r2, %r1, 1;");

        PtxParseException ex = Assert.Throws<PtxParseException>(() => PtxModule.Parse(text, "unknown.ptx"));

        Assert.Equal(line, ex.Line);
        Assert.Contains("frobnicate", ex.Message, StringComparison.Ordinal);
        Assert.Contains("unknown.ptx", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Undeclared_register_is_reported_at_its_line()
    {
        (string text, int line) = Kernel(0, "    add.u32 %r2, %r9, 1;");

        PtxParseException ex = Assert.Throws<PtxParseException>(() => PtxModule.Parse(text, "undeclared.ptx"));

        Assert.Equal(line, ex.Line);
        Assert.Contains("%r9", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_semicolon_is_reported_at_the_statement_or_where_the_next_one_starts()
    {
        (string text, int line) = Kernel(0, "    add.u32 %r2, %r1, 1");

        PtxParseException ex = Assert.Throws<PtxParseException>(() => PtxModule.Parse(text, "semicolon.ptx"));

        // ptxas itself names the next line ("syntax error near 'st'"); the unterminated statement's line is as good.
        Assert.InRange(ex.Line, line, line + 1);
    }

    [Fact]
    public void The_same_kernel_with_the_error_fixed_parses_and_runs()
    {
        (string text, _) = Kernel(0, "    add.u32 %r2, %r1, 1;");
        var gpu = new PtxMachine();
        DevicePointer output = gpu.Allocate(4);

        gpu.Launch(PtxModule.Parse(text, "fixed.ptx"), "k", new Dim3(1), new Dim3(1), 0, output);

        Assert.Equal(1u, gpu.Read<uint>(output, 1)[0]);
    }
}
