// IEEE arithmetic with PTX's rounding modifiers (.rn .rz .rm .rp), flush-to-zero and saturation. Results are exact:
// an operation is computed in double (exact for f32 products, and correctly rounded once for sums, quotients and
// square roots, which is innocuous because 53 >= 2*24+2), and the sign of the remaining error, found with an exact
// error term (TwoSum, fma residuals), decides directed rounding and ties.
namespace Vae.PtxInterpreter;

internal static class FloatMath
{
    public const uint CanonicalNaN32 = 0x7fffffff;
    public const ulong CanonicalNaN64 = 0x7fffffffffffffff;

    public static float F(ulong bits) => BitConverter.UInt32BitsToSingle((uint)bits);
    public static double D(ulong bits) => BitConverter.UInt64BitsToDouble(bits);
    public static ulong Bits(float f) => float.IsNaN(f) ? CanonicalNaN32 : BitConverter.SingleToUInt32Bits(f);
    public static ulong Bits(double d) => double.IsNaN(d) ? CanonicalNaN64 : BitConverter.DoubleToUInt64Bits(d);
    public static ulong RawBits(float f) => BitConverter.SingleToUInt32Bits(f);

    public static float FlushSubnormal(float f) => float.IsSubnormal(f) ? (float.IsNegative(f) ? -0f : 0f) : f;
    public static double FlushSubnormal(double d) => double.IsSubnormal(d) ? (double.IsNegative(d) ? -0.0 : 0.0) : d;

    public static float Saturate(float f) => float.IsNaN(f) ? 0f : f < 0f ? 0f : f > 1f ? 1f : f;
    public static double Saturate(double f) => double.IsNaN(f) ? 0.0 : f < 0 ? 0.0 : f > 1 ? 1.0 : f;

    static (double sum, double err) TwoSum(double a, double b)
    {
        double s = a + b;
        double bb = s - a;
        double err = (a - (s - bb)) + (b - bb);
        return (s, err);
    }

    /// <summary>Rounds the exact value hi + lo (|lo| at most half an ulp of hi in double) to float.</summary>
    public static float RoundToFloat(double hi, double lo, Rounding mode)
    {
        if (!double.IsFinite(hi)) return (float)hi;
        float f = (float)hi; // round to nearest even
        if (float.IsInfinity(f))
        {
            // Overflow: the directed modes stop at the largest finite value on their side.
            bool positive = hi > 0;
            return mode switch
            {
                Rounding.Rz or Rounding.Rzi => positive ? float.MaxValue : float.MinValue,
                Rounding.Rm or Rounding.Rmi => positive ? float.MaxValue : f,
                Rounding.Rp or Rounding.Rpi => positive ? f : float.MinValue,
                _ => f,
            };
        }
        double d = hi - f; // exact
        int sign = d > 0 ? 1 : d < 0 ? -1 : (lo > 0 ? 1 : lo < 0 ? -1 : 0); // sign of (exact - f)
        if (sign == 0) return f;
        switch (mode)
        {
            case Rounding.Rz:
            case Rounding.Rzi:
                if (f > 0 && sign < 0) return MathF.BitDecrement(f);
                if (f < 0 && sign > 0) return MathF.BitIncrement(f);
                if (f == 0) return f;
                return f;
            case Rounding.Rm:
            case Rounding.Rmi:
                return sign < 0 ? MathF.BitDecrement(f) : f;
            case Rounding.Rp:
            case Rounding.Rpi:
                return sign > 0 ? MathF.BitIncrement(f) : f;
            default:
                // Nearest even: hi sits exactly on a midpoint between two floats only if (float) rounded a tie; lo
                // then decides which side the exact value is on.
                if (lo != 0 && d != 0)
                {
                    float other = d > 0 ? MathF.BitIncrement(f) : MathF.BitDecrement(f);
                    double half = Math.Abs((double)other - f) / 2;
                    if (Math.Abs(d) == half && Math.Sign(lo) == Math.Sign(d)) return other;
                }
                return f;
        }
    }

    /// <summary>Rounds the exact value hi + err to double under a directed mode (hi is the nearest double).</summary>
    public static double RoundDirected(double hi, double err, Rounding mode)
    {
        if (!double.IsFinite(hi) || err == 0 || double.IsNaN(err)) return hi;
        return mode switch
        {
            Rounding.Rz => hi > 0 && err < 0 ? Math.BitDecrement(hi) : hi < 0 && err > 0 ? Math.BitIncrement(hi) : hi,
            Rounding.Rm => err < 0 ? Math.BitDecrement(hi) : hi,
            Rounding.Rp => err > 0 ? Math.BitIncrement(hi) : hi,
            _ => hi,
        };
    }

    static bool Directed(Rounding r) => r is Rounding.Rz or Rounding.Rm or Rounding.Rp;

    public static float Add(float a, float b, Rounding r)
    {
        double s = (double)a + b;
        if (!Directed(r)) return (float)s;
        var (hi, lo) = TwoSum(a, b);
        return hi == 0 && lo == 0 ? (float)ZeroSign(0, a, b, r) : RoundToFloat(hi, lo, r);
    }

    /// <summary>IEEE's sign of an EXACTLY zero sum x + y: the operands' sign when both are zeros of one sign, else +0,
    /// except -0 when rounding toward minus infinity. (A nonzero sum that rounds to zero keeps its own sign.)</summary>
    public static double ZeroSign(double result, double x, double y, Rounding r)
    {
        if (result != 0) return result;
        if (x == 0 && y == 0 && double.IsNegative(x) == double.IsNegative(y)) return x;
        return r is Rounding.Rm ? -0.0 : 0.0;
    }

    public static float Mul(float a, float b, Rounding r) => RoundToFloat((double)a * b, 0, r); // exact product

    public static float Fma(float a, float b, float c, Rounding r)
    {
        double p = (double)a * b; // exact
        var (hi, lo) = TwoSum(p, c); // exact as hi + lo
        return hi == 0 && lo == 0 ? (float)ZeroSign(0, p, c, r) : RoundToFloat(hi, lo, r);
    }

    public static float Div(float a, float b, Rounding r)
    {
        double q = (double)a / b;
        if (!Directed(r) || !double.IsFinite(q) || q == 0) return (float)q;
        double rem = Math.FusedMultiplyAdd(-q, b, a); // exact residual a - q*b
        return RoundToFloat(q, rem / b, r);
    }

    public static float Sqrt(float a, Rounding r)
    {
        double q = Math.Sqrt(a);
        if (!Directed(r) || !double.IsFinite(q) || q == 0) return (float)q;
        double rem = Math.FusedMultiplyAdd(-q, q, a);
        return RoundToFloat(q, rem / (2 * q), r);
    }

    public static double Add(double a, double b, Rounding r)
    {
        if (!Directed(r)) return a + b;
        if (!double.IsFinite(a) || !double.IsFinite(b)) return a + b;
        var (ma, ea) = Decompose(a);
        var (mb, eb) = Decompose(b);
        int e = Math.Min(ea, eb);
        var sum = (ma << (ea - e)) + (mb << (eb - e));
        return sum.IsZero ? ZeroSign(0, a, b, r) : RoundExact(sum, e, r);
    }

    public static double Mul(double a, double b, Rounding r)
    {
        if (!Directed(r) || !double.IsFinite(a) || !double.IsFinite(b)) return a * b;
        var (ma, ea) = Decompose(a);
        var (mb, eb) = Decompose(b);
        var product = ma * mb;
        if (product.IsZero) return double.IsNegative(a) != double.IsNegative(b) ? -0.0 : 0.0;
        return RoundExact(product, ea + eb, r);
    }

    public static double Fma(double a, double b, double c, Rounding r)
    {
        if (!Directed(r) || !double.IsFinite(a) || !double.IsFinite(b) || !double.IsFinite(c)) return Math.FusedMultiplyAdd(a, b, c);
        var (ma, ea) = Decompose(a);
        var (mb, eb) = Decompose(b);
        var (mc, ec) = Decompose(c);
        var product = ma * mb;
        int ep = ea + eb, e = Math.Min(ep, ec);
        var sum = (product << (ep - e)) + (mc << (ec - e));
        double productSign = double.IsNegative(a) != double.IsNegative(b) ? -0.0 : 0.0;
        return sum.IsZero ? ZeroSign(0, product.IsZero ? productSign : product.Sign, c, r) : RoundExact(sum, e, r);
    }

    /// <summary>A finite double as an exact integer times a power of two.</summary>
    static (System.Numerics.BigInteger m, int e) Decompose(double d)
    {
        long bits = BitConverter.DoubleToInt64Bits(d);
        int exp = (int)((bits >> 52) & 0x7ff);
        long frac = bits & 0xfffffffffffffL;
        long m = exp == 0 ? frac : frac | (1L << 52);
        int e = exp == 0 ? -1074 : exp - 1075;
        return (bits < 0 ? -m : m, e);
    }

    /// <summary>Rounds the exact value m * 2^e to a binary format with <paramref name="precision"/> significand bits,
    /// smallest exponent <paramref name="minLsbExponent"/> (subnormal step) and largest finite value below
    /// 2^(maxExponent+1), under a rounding mode. Returns it as a double (exact for double, half and float).</summary>
    public static double RoundExact(System.Numerics.BigInteger m, int e, Rounding r, int precision = 53, int minLsbExponent = -1074, int maxExponent = 1023)
    {
        if (m.IsZero) return 0.0;
        bool negative = m.Sign < 0;
        var a = System.Numerics.BigInteger.Abs(m);
        int msb = e + (int)a.GetBitLength() - 1;
        int lsb = Math.Max(msb - (precision - 1), minLsbExponent);
        int shift = lsb - e;
        System.Numerics.BigInteger q;
        if (shift <= 0) q = a << -shift;
        else
        {
            q = a >> shift;
            var rem = a - (q << shift);
            var half = System.Numerics.BigInteger.One << (shift - 1);
            bool up = r switch
            {
                Rounding.Rz => false,
                Rounding.Rp => !negative && !rem.IsZero,
                Rounding.Rm => negative && !rem.IsZero,
                _ => rem > half || (rem == half && !q.IsEven),
            };
            if (up) q += 1;
        }
        double maxFinite = Math.ScaleB((double)((System.Numerics.BigInteger.One << precision) - 1), maxExponent - (precision - 1));
        double v = Math.ScaleB((double)q, lsb);
        if (v > maxFinite)
        {
            bool toInfinity = r switch { Rounding.Rz => false, Rounding.Rp => !negative, Rounding.Rm => negative, _ => true };
            v = toInfinity ? double.PositiveInfinity : maxFinite;
        }
        return negative ? -v : v;
    }

    public static double Div(double a, double b, Rounding r)
    {
        double q = a / b;
        if (!Directed(r) || !double.IsFinite(q) || q == 0) return q;
        double rem = Math.FusedMultiplyAdd(-q, b, a);
        return RoundDirected(q, rem * Math.Sign(b), r);
    }

    public static double Sqrt(double a, Rounding r)
    {
        double q = Math.Sqrt(a);
        if (!Directed(r) || !double.IsFinite(q) || q == 0) return q;
        return RoundDirected(q, Math.FusedMultiplyAdd(-q, q, a), r);
    }

    /// <summary>Rounds to an integral value (.rni/.rzi/.rmi/.rpi).</summary>
    public static double RoundIntegral(double v, Rounding r) => r switch
    {
        Rounding.Rni => Math.Round(v, MidpointRounding.ToEven),
        Rounding.Rzi => Math.Truncate(v),
        Rounding.Rmi => Math.Floor(v),
        Rounding.Rpi => Math.Ceiling(v),
        _ => v,
    };

    /// <summary>PTX min/max: a NaN operand is ignored unless both are NaN (or .NaN is given); -0 is below +0.</summary>
    public static double MinMax(double a, double b, bool max, bool propagateNaN)
    {
        if (double.IsNaN(a) || double.IsNaN(b))
        {
            if (propagateNaN || (double.IsNaN(a) && double.IsNaN(b))) return double.NaN;
            return double.IsNaN(a) ? b : a;
        }
        if (a == b && a == 0)
        {
            bool aNeg = double.IsNegative(a);
            return max ? (aNeg ? b : a) : (aNeg ? a : b);
        }
        return max ? Math.Max(a, b) : Math.Min(a, b);
    }

    /// <summary>Converts a 64-bit integer (given exactly as a 128-bit value) to float with rounding.</summary>
    public static float IntToFloat(Int128 v, Rounding r)
    {
        double hi = (double)v;
        Int128 rest = v - (Int128)hi; // exact: hi is an integer within 2^11 of v's magnitude scale
        return RoundToFloat(hi, (double)rest, r);
    }

    public static double IntToDouble(Int128 v, Rounding r)
    {
        double hi = (double)v;
        Int128 rest = v - (Int128)hi;
        return Directed(r) ? RoundDirected(hi, (double)rest, r) : hi;
    }

    public static float DoubleToFloat(double v, Rounding r)
    {
        if (!Directed(r)) return (float)v;
        return RoundToFloat(v, 0, r);
    }
}
