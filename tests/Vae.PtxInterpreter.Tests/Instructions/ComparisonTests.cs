// Comparison and selection instructions (Kernels/instructions/compare.ptx) against the PTX ISA rules (9.7.6):
// setp with every integer and float operator (ordered operators are false on NaN, the u-forms true), setp with
// .and/.or/.xor and a (possibly negated) predicate, the p|q form (q uses the complement of the comparison), selp and
// set with integer (0xFFFFFFFF) and float (1.0f) destinations.
using Xunit;

namespace Vae.PtxInterpreter.Tests.Instructions;

public sealed class ComparisonTests
{
    private const string File = "compare.ptx";

    /// <summary>Words that matter both as integers and as f32 bit patterns (zeros, NaNs, infinities, subnormals).</summary>
    private static readonly uint[] EdgeWords =
    [
        0, 1, 2, 0x7FFFFFFF, 0x80000000, 0x80000001, 0xFFFFFFFF, 0xFFFFFFFE, 5, 0x3F800000, 0xBF800000,
        0x7F800000, 0xFF800000, 0x7FC00000, 0xFFC00000, 0x00000001, 0x40000000, 0x3F800001,
    ];

    private static (uint[] A, uint[] B, uint[] C) Words(int seed)
    {
        var random = new Random(seed);
        (uint[] a, uint[] b) = Inputs.Pairs(EdgeWords, 300, () => random.Next(3) == 0 ? EdgeWords[random.Next(EdgeWords.Length)] : Inputs.Word(random));
        for (int i = a.Length - 60; i < a.Length; i++)
            b[i] = a[i]; // equal pairs
        uint[] c = Inputs.Many(a.Length, () => (uint)random.Next());
        return (a, b, c);
    }

    private static string Args(uint[] a, uint[] b, uint[] c, int i)
        => $"a={Show.U32(a[i])}/{Show.F32(BitConverter.UInt32BitsToSingle(a[i]))} b={Show.U32(b[i])}/{Show.F32(BitConverter.UInt32BitsToSingle(b[i]))} q={c[i] & 1}";

    private static uint Bit(bool value) => value ? 1u : 0u;

    [Fact]
    public void SetpInteger_EverySignedUnsignedAndBitOperator()
    {
        (uint[] a, uint[] b, uint[] c) = Words(601);
        uint[][] d = InstructionRunner.RunVariants<uint, uint, uint, uint>(File, "setp_int", 14, a, b, c);

        var check = new Mismatches();
        void Expect(int v, string name, Func<uint, uint, bool> model)
            => check.Each(name, d[v], i => Bit(model(a[i], b[i])), (x, y) => x == y, i => Args(a, b, c, i), Show.U32);
        Expect(0, "setp.eq.s32", (x, y) => (int)x == (int)y);
        Expect(1, "setp.ne.s32", (x, y) => (int)x != (int)y);
        Expect(2, "setp.lt.s32", (x, y) => (int)x < (int)y);
        Expect(3, "setp.le.s32", (x, y) => (int)x <= (int)y);
        Expect(4, "setp.gt.s32", (x, y) => (int)x > (int)y);
        Expect(5, "setp.ge.s32", (x, y) => (int)x >= (int)y);
        Expect(6, "setp.lo.u32", (x, y) => x < y);
        Expect(7, "setp.ls.u32", (x, y) => x <= y);
        Expect(8, "setp.hi.u32", (x, y) => x > y);
        Expect(9, "setp.hs.u32", (x, y) => x >= y);
        Expect(10, "setp.lt.u32", (x, y) => x < y);
        Expect(11, "setp.ge.u32", (x, y) => x >= y);
        Expect(12, "setp.eq.b32", (x, y) => x == y);
        Expect(13, "setp.ne.u64", (x, y) => x != y);
        check.AssertNone();
    }

    [Fact]
    public void SetpFloat_OrderedOperatorsAreFalseOnNaN_UnorderedOperatorsTrue()
    {
        (uint[] a, uint[] b, uint[] c) = Words(602);
        uint[][] d = InstructionRunner.RunVariants<uint, uint, uint, uint>(File, "setp_f32", 14, a, b, c);

        var check = new Mismatches();
        void Expect(int v, string name, Func<float, float, bool> model)
            => check.Each(name, d[v], i => Bit(model(BitConverter.UInt32BitsToSingle(a[i]), BitConverter.UInt32BitsToSingle(b[i]))),
                (x, y) => x == y, i => Args(a, b, c, i), Show.U32);
        static bool Unordered(float x, float y) => float.IsNaN(x) || float.IsNaN(y);
        Expect(0, "setp.eq.f32", (x, y) => x == y);
        Expect(1, "setp.ne.f32", (x, y) => !Unordered(x, y) && x != y);
        Expect(2, "setp.lt.f32", (x, y) => x < y);
        Expect(3, "setp.le.f32", (x, y) => x <= y);
        Expect(4, "setp.gt.f32", (x, y) => x > y);
        Expect(5, "setp.ge.f32", (x, y) => x >= y);
        Expect(6, "setp.equ.f32", (x, y) => Unordered(x, y) || x == y);
        Expect(7, "setp.neu.f32", (x, y) => Unordered(x, y) || x != y);
        Expect(8, "setp.ltu.f32", (x, y) => Unordered(x, y) || x < y);
        Expect(9, "setp.leu.f32", (x, y) => Unordered(x, y) || x <= y);
        Expect(10, "setp.gtu.f32", (x, y) => Unordered(x, y) || x > y);
        Expect(11, "setp.geu.f32", (x, y) => Unordered(x, y) || x >= y);
        Expect(12, "setp.num.f32", (x, y) => !Unordered(x, y));
        Expect(13, "setp.nan.f32", Unordered);
        check.AssertNone();
    }

    [Fact]
    public void SetpBoolOps_CombineWithPredicate_TwoDestinationFormUsesTheComplement()
    {
        (uint[] a, uint[] b, uint[] c) = Words(603);
        uint[][] d = InstructionRunner.RunVariants<uint, uint, uint, uint>(File, "setp_boolop", 12, a, b, c);

        // t = a CmpOp b; p = BoolOp(t, c); q = BoolOp(!t, c).
        var check = new Mismatches();
        void Expect(int v, string name, Func<int, bool> model)
            => check.Each(name, d[v], i => Bit(model(i)), (x, y) => x == y, i => Args(a, b, c, i), Show.U32);
        bool Lt(int i) => (int)a[i] < (int)b[i];
        bool Gt(int i) => (int)a[i] > (int)b[i];
        bool Ge(int i) => (int)a[i] >= (int)b[i];
        bool Ltu(int i)
        {
            float x = BitConverter.UInt32BitsToSingle(a[i]);
            float y = BitConverter.UInt32BitsToSingle(b[i]);
            return float.IsNaN(x) || float.IsNaN(y) || x < y;
        }
        bool Q(int i) => (c[i] & 1) != 0;
        Expect(0, "setp.lt.and.s32 p", i => Lt(i) && Q(i));
        Expect(1, "setp.lt.or.s32 p", i => Lt(i) || Q(i));
        Expect(2, "setp.lt.xor.s32 p", i => Lt(i) ^ Q(i));
        Expect(3, "setp.lt.and.s32 p (!q)", i => Lt(i) && !Q(i));
        Expect(4, "setp.lt.s32 p|r -> p", Lt);
        Expect(5, "setp.lt.s32 p|r -> r", i => !Lt(i));
        Expect(6, "setp.gt.and.s32 p|r -> p", i => Gt(i) && Q(i));
        Expect(7, "setp.gt.and.s32 p|r -> r", i => !Gt(i) && Q(i));
        Expect(8, "setp.ge.or.s32 p|r (!q) -> p", i => Ge(i) || !Q(i));
        Expect(9, "setp.ge.or.s32 p|r (!q) -> r", i => !Ge(i) || !Q(i));
        Expect(10, "setp.ltu.xor.f32 p|r -> p", i => Ltu(i) ^ Q(i));
        Expect(11, "setp.ltu.xor.f32 p|r -> r", i => !Ltu(i) ^ Q(i));
        check.AssertNone();
    }

    [Fact]
    public void SelpAndSet_SelectBits_WriteAllOnesOrOnePointZero()
    {
        (uint[] a, uint[] b, uint[] c) = Words(604);
        uint[][] d = InstructionRunner.RunVariants<uint, uint, uint, uint>(File, "selp_set", 9, a, b, c);

        const uint OneF = 0x3F800000;
        var check = new Mismatches();
        void Expect(int v, string name, Func<int, uint> model, Func<uint, uint, bool>? equal = null)
            => check.Each(name, d[v], model, equal ?? ((x, y) => x == y), i => Args(a, b, c, i), Show.U32);
        float Fa(int i) => BitConverter.UInt32BitsToSingle(a[i]);
        float Fb(int i) => BitConverter.UInt32BitsToSingle(b[i]);
        bool Q(int i) => (c[i] & 1) != 0;
        Expect(0, "selp.u32", i => Q(i) ? a[i] : b[i]);
        // selp.f32 selects an operand; it performs no arithmetic, so the bits (NaN payloads included) are kept.
        Expect(1, "selp.f32", i => Q(i) ? a[i] : b[i]);
        Expect(2, "set.lt.u32.s32", i => (int)a[i] < (int)b[i] ? 0xFFFFFFFF : 0);
        Expect(3, "set.hi.u32.u32", i => a[i] > b[i] ? 0xFFFFFFFF : 0);
        Expect(4, "set.lt.f32.s32", i => (int)a[i] < (int)b[i] ? OneF : 0);
        Expect(5, "set.eq.and.u32.s32", i => a[i] == b[i] && Q(i) ? 0xFFFFFFFF : 0);
        Expect(6, "set.gtu.u32.f32", i => float.IsNaN(Fa(i)) || float.IsNaN(Fb(i)) || Fa(i) > Fb(i) ? 0xFFFFFFFF : 0);
        Expect(7, "set.nan.f32.f32", i => float.IsNaN(Fa(i)) || float.IsNaN(Fb(i)) ? OneF : 0);
        Expect(8, "set.ne.or.s32.f32 (!q)", i => (!float.IsNaN(Fa(i)) && !float.IsNaN(Fb(i)) && Fa(i) != Fb(i)) || !Q(i) ? 0xFFFFFFFF : 0);
        check.AssertNone();
    }
}
