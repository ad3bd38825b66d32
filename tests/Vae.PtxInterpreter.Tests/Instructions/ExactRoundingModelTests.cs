// Checks the reference rounding model itself (no interpreter involved): in round-to-nearest it must agree bit for bit
// with .NET's IEEE float/double arithmetic, and the directed modes must bracket the exact value on known cases.
using System.Numerics;
using Xunit;

namespace Vae.PtxInterpreter.Tests.Instructions;

public sealed class ExactRoundingModelTests
{
    [Fact]
    public void NearestAgreesWithHardwareIeeeArithmetic()
    {
        var random = new Random(901);
        for (int i = 0; i < 20000; i++)
        {
            float a = i % 3 == 0 ? Inputs.Subnormal(random) : Inputs.Float(random, -140, 127);
            float b = Inputs.Float(random, -140, 127);
            float c = Inputs.Float(random, -140, 127);
            Assert.Equal(BitConverter.SingleToUInt32Bits(a + b), BitConverter.SingleToUInt32Bits(Ieee.Add(a, b, Rounding.Nearest)));
            Assert.Equal(BitConverter.SingleToUInt32Bits(a * b), BitConverter.SingleToUInt32Bits(Ieee.Mul(a, b, Rounding.Nearest)));
            Assert.Equal(BitConverter.SingleToUInt32Bits(MathF.FusedMultiplyAdd(a, b, c)), BitConverter.SingleToUInt32Bits(Ieee.Fma(a, b, c, Rounding.Nearest)));

            double x = Inputs.Double(random, -1074 + 60, 1023);
            double y = Inputs.Double(random, -1000, 1000);
            double z = Inputs.Double(random, -1074 + 60, 1023);
            Assert.Equal(BitConverter.DoubleToUInt64Bits(x + y), BitConverter.DoubleToUInt64Bits(Ieee.Add(x, y, BinaryFormat.Double, Rounding.Nearest)));
            Assert.Equal(BitConverter.DoubleToUInt64Bits(x * y), BitConverter.DoubleToUInt64Bits(Ieee.Mul(x, y, BinaryFormat.Double, Rounding.Nearest)));
            Assert.Equal(BitConverter.DoubleToUInt64Bits(Math.FusedMultiplyAdd(x, y, z)), BitConverter.DoubleToUInt64Bits(Ieee.Fma(x, y, z, BinaryFormat.Double, Rounding.Nearest)));
            Assert.Equal(BitConverter.SingleToUInt32Bits((float)x), BitConverter.SingleToUInt32Bits((float)Ieee.Convert(x, BinaryFormat.Single, Rounding.Nearest)));
            Assert.Equal(BitConverter.HalfToUInt16Bits((Half)a), BitConverter.HalfToUInt16Bits((Half)Ieee.Convert(a, BinaryFormat.Half, Rounding.Nearest)));
        }
    }

    [Fact]
    public void DirectedModesBracketTheExactValue()
    {
        float one = 1f;
        float tiny = (float)Math.ScaleB(1.0, -30);
        Assert.Equal(one, Ieee.Add(one, tiny, Rounding.Down));
        Assert.Equal(one, Ieee.Add(one, tiny, Rounding.TowardZero));
        Assert.Equal(MathF.BitIncrement(one), Ieee.Add(one, tiny, Rounding.Up));
        Assert.Equal(MathF.BitDecrement(-one), Ieee.Add(-one, -tiny, Rounding.Down));
        Assert.Equal(-one, Ieee.Add(-one, -tiny, Rounding.Up));
        // Exact cancellation is +0 except when rounding down.
        Assert.True(float.IsNegative(Ieee.Add(one, -one, Rounding.Down)));
        Assert.False(float.IsNegative(Ieee.Add(one, -one, Rounding.Up)));
        // Overflow: to infinity or to the largest finite value depending on the direction.
        Assert.Equal(float.PositiveInfinity, Ieee.Add(float.MaxValue, float.MaxValue, Rounding.Nearest));
        Assert.Equal(float.MaxValue, Ieee.Add(float.MaxValue, float.MaxValue, Rounding.TowardZero));
        Assert.Equal(-float.MaxValue, Ieee.Add(-float.MaxValue, -float.MaxValue, Rounding.Up));
        // Underflow below the smallest subnormal.
        float small = (float)Math.ScaleB(1.0, -100);
        float smaller = (float)Math.ScaleB(1.0, -60);
        Assert.Equal(float.Epsilon, Ieee.Mul(small, smaller, Rounding.Up));
        Assert.Equal(0f, Ieee.Mul(small, smaller, Rounding.Nearest));
        Assert.Equal(-float.Epsilon, Ieee.Mul(-small, smaller, Rounding.Down));
        Assert.True(float.IsNegative(Ieee.Mul(-small, smaller, Rounding.Up)));
        // 2^24 + 1 is the first integer a float cannot hold.
        Assert.Equal(16777216.0, Ieee.Convert(new BigInteger(16777217), BinaryFormat.Single, Rounding.Nearest));
        Assert.Equal(16777218.0, Ieee.Convert(new BigInteger(16777217), BinaryFormat.Single, Rounding.Up));
    }
}
