// Reference model for IEEE 754 rounding: values are held exactly as m * 2^e (BigInteger m) and rounded once to a
// binary format (f16, f32, f64) with one of the four PTX rounding modes (.rn .rz .rm .rp). The expected values of
// add/sub/mul/fma with directed rounding, int -> float and f64 -> f32/f16 conversions come from here.
using System.Numerics;

namespace Vae.PtxInterpreter.Tests.Instructions;

internal enum Rounding
{
    /// <summary>.rn: to nearest, ties to even.</summary>
    Nearest,
    /// <summary>.rz: toward zero.</summary>
    TowardZero,
    /// <summary>.rm: toward negative infinity.</summary>
    Down,
    /// <summary>.rp: toward positive infinity.</summary>
    Up,
}

/// <summary>A binary floating-point format: significand bits (with the hidden bit) and the normal exponent range.</summary>
internal readonly record struct BinaryFormat(int Precision, int MinExponent, int MaxExponent)
{
    public static readonly BinaryFormat Half = new(11, -14, 15);
    public static readonly BinaryFormat Single = new(24, -126, 127);
    public static readonly BinaryFormat Double = new(53, -1022, 1023);

    /// <summary>The largest finite value, as a double.</summary>
    public double MaxFinite => Math.ScaleB((double)((1L << Precision) - 1), MaxExponent - Precision + 1);
}

/// <summary>An exact binary rational Mantissa * 2^Exponent.</summary>
internal readonly record struct Dyadic(BigInteger Mantissa, int Exponent)
{
    public bool IsZero => Mantissa.IsZero;

    public int Sign => Mantissa.Sign;

    /// <summary>The exact value of a finite double (a float converts to double exactly, so this covers f32 too).</summary>
    public static Dyadic FromDouble(double value)
    {
        if (!double.IsFinite(value))
            throw new ArgumentOutOfRangeException(nameof(value), value, "only finite values have an exact dyadic value");
        long bits = BitConverter.DoubleToInt64Bits(value);
        int biased = (int)((bits >> 52) & 0x7FF);
        long fraction = bits & 0xF_FFFF_FFFF_FFFFL;
        BigInteger mantissa = biased == 0 ? fraction : fraction | (1L << 52);
        int exponent = biased == 0 ? -1074 : biased - 1075;
        return new Dyadic(bits < 0 ? -mantissa : mantissa, exponent);
    }

    public static Dyadic FromInteger(BigInteger value) => new(value, 0);

    public static Dyadic operator +(Dyadic x, Dyadic y)
    {
        int e = Math.Min(x.Exponent, y.Exponent);
        return new Dyadic((x.Mantissa << (x.Exponent - e)) + (y.Mantissa << (y.Exponent - e)), e);
    }

    public static Dyadic operator -(Dyadic x) => new(-x.Mantissa, x.Exponent);

    public static Dyadic operator -(Dyadic x, Dyadic y) => x + -y;

    public static Dyadic operator *(Dyadic x, Dyadic y) => new(x.Mantissa * y.Mantissa, x.Exponent + y.Exponent);

    /// <summary>Rounds this (non-zero) value to <paramref name="format"/>; the result is returned as the double holding that value.</summary>
    public double Round(BinaryFormat format, Rounding mode)
    {
        if (IsZero)
            throw new InvalidOperationException("the sign of an exact zero depends on the operation; the caller decides it");
        bool negative = Mantissa.Sign < 0;
        BigInteger magnitude = BigInteger.Abs(Mantissa);
        int leading = Exponent + (int)magnitude.GetBitLength() - 1;
        // Quantum (weight of the last kept bit): precision bits below the leading bit, but never below the subnormal quantum.
        int quantum = Math.Max(leading, format.MinExponent) - (format.Precision - 1);
        BigInteger kept;
        if (Exponent >= quantum)
        {
            kept = magnitude << (Exponent - quantum);
        }
        else
        {
            int dropped = quantum - Exponent;
            kept = magnitude >> dropped;
            BigInteger remainder = magnitude - (kept << dropped);
            BigInteger half = BigInteger.One << (dropped - 1);
            bool up = mode switch
            {
                Rounding.Nearest => remainder > half || (remainder == half && !kept.IsEven),
                Rounding.TowardZero => false,
                Rounding.Up => !negative && !remainder.IsZero,
                Rounding.Down => negative && !remainder.IsZero,
                _ => throw new ArgumentOutOfRangeException(nameof(mode)),
            };
            if (up)
                kept += 1;
        }
        if (kept.IsZero)
            return negative ? -0.0 : 0.0;
        if (quantum + (int)kept.GetBitLength() - 1 > format.MaxExponent)
        {
            bool toInfinity = mode switch
            {
                Rounding.Nearest => true,
                Rounding.TowardZero => false,
                Rounding.Up => !negative,
                Rounding.Down => negative,
                _ => throw new ArgumentOutOfRangeException(nameof(mode)),
            };
            double overflow = toInfinity ? double.PositiveInfinity : format.MaxFinite;
            return negative ? -overflow : overflow;
        }
        double result = Math.ScaleB((double)kept, quantum);
        return negative ? -result : result;
    }
}

/// <summary>Correctly rounded IEEE operations in any of the four rounding modes, including signed zeros and special values.</summary>
internal static class Ieee
{
    public static float Add(float a, float b, Rounding mode) => (float)Add(a, b, BinaryFormat.Single, mode);

    public static float Sub(float a, float b, Rounding mode) => (float)Add(a, -b, BinaryFormat.Single, mode);

    public static float Mul(float a, float b, Rounding mode) => (float)Mul(a, b, BinaryFormat.Single, mode);

    public static float Fma(float a, float b, float c, Rounding mode) => (float)Fma(a, b, c, BinaryFormat.Single, mode);

    public static double Add(double a, double b, BinaryFormat format, Rounding mode)
    {
        if (!double.IsFinite(a) || !double.IsFinite(b))
            return a + b; // NaN, inf + x, inf - inf: the same in every rounding mode
        Dyadic sum = Dyadic.FromDouble(a) + Dyadic.FromDouble(b);
        if (sum.IsZero)
            return ExactZeroSum(a, b, mode);
        return sum.Round(format, mode);
    }

    public static double Mul(double a, double b, BinaryFormat format, Rounding mode)
    {
        if (!double.IsFinite(a) || !double.IsFinite(b) || a == 0 || b == 0)
            return a * b; // special values and exact zeros: sign is the XOR of the signs in every mode
        return (Dyadic.FromDouble(a) * Dyadic.FromDouble(b)).Round(format, mode);
    }

    public static double Fma(double a, double b, double c, BinaryFormat format, Rounding mode)
    {
        if (!double.IsFinite(a) || !double.IsFinite(b) || !double.IsFinite(c))
            return Math.FusedMultiplyAdd(a, b, c); // NaN/inf rules do not depend on rounding
        Dyadic product = Dyadic.FromDouble(a) * Dyadic.FromDouble(b);
        Dyadic sum = product + Dyadic.FromDouble(c);
        if (sum.IsZero)
        {
            // The product is an exact zero only if a or b is zero; its sign is then the XOR of their signs.
            double productSign = product.IsZero ? (double.IsNegative(a) != double.IsNegative(b) ? -0.0 : 0.0) : 1.0;
            return product.IsZero ? ExactZeroSum(productSign, c, mode) : (mode == Rounding.Down ? -0.0 : 0.0);
        }
        return sum.Round(format, mode);
    }

    /// <summary>Rounds a finite double (or an exact integer) to <paramref name="format"/>; zeros keep their sign.</summary>
    public static double Convert(double value, BinaryFormat format, Rounding mode)
    {
        if (!double.IsFinite(value) || value == 0)
            return value;
        return Dyadic.FromDouble(value).Round(format, mode);
    }

    public static double Convert(BigInteger value, BinaryFormat format, Rounding mode)
        => value.IsZero ? 0.0 : Dyadic.FromInteger(value).Round(format, mode);

    /// <summary>IEEE 754 6.3: an exact zero sum is +0 (-0 when rounding down) unless both operands are zeros of the same sign.</summary>
    private static double ExactZeroSum(double a, double b, Rounding mode)
    {
        if (a == 0 && b == 0 && double.IsNegative(a) == double.IsNegative(b))
            return a;
        return mode == Rounding.Down ? -0.0 : 0.0;
    }
}
