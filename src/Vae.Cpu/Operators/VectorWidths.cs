// Vector width adapters: loads, stores, tail masks and double accumulation for Vector512, Vector256, Vector128 and
// plain float, so that each loop in VectorLoops is written once and the JIT specializes it per width.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Vae.Cpu.Operators;

/// <summary>One vector width: TV holds Count floats, TD holds the doubles that accumulate them.</summary>
internal unsafe interface IVectorWidth<TV, TD> where TV : unmanaged where TD : unmanaged
{
    /// <summary>Floats per vector.</summary>
    static abstract int Count { get; }

    static abstract TV Load(float* source);

    static abstract void Store(float* destination, TV value);

    static abstract TV Broadcast(float value);

    /// <summary>value with every lane but the last <paramref name="lanes"/> set to +0.</summary>
    static abstract TV KeepLast(TV value, int lanes);

    /// <summary>The last <paramref name="lanes"/> lanes from <paramref name="value"/>, the others from <paramref name="old"/>.</summary>
    static abstract TV BlendLast(TV old, TV value, int lanes);

    static abstract TD Zero { get; }

    static abstract TD Add(TD left, TD right);

    /// <summary>accumulator + (lower half + upper half) of value widened to double.</summary>
    static abstract TD AddWidened(TD accumulator, TV value);

    /// <summary>accumulator + the squares of value's lanes, squared in double.</summary>
    static abstract TD AddSquaresWidened(TD accumulator, TV value);

    /// <summary>accumulator + (a - b)^2 per lane, subtracted and squared in double.</summary>
    static abstract TD AddSquaredDifferencesWidened(TD accumulator, TV a, TV b);

    static abstract TD WidenLower(TV value);

    static abstract TD WidenUpper(TV value);

    /// <summary>The float vector whose lower lanes come from <paramref name="lower"/> and upper lanes from <paramref name="upper"/>.</summary>
    static abstract TV Narrow(TD lower, TD upper);

    /// <summary>Sum of the lanes, in a fixed order.</summary>
    static abstract double Sum(TD accumulator);

    /// <summary>True when a lane of value is infinite or NaN.</summary>
    static abstract bool AnyNonFinite(TV value);
}

internal readonly unsafe struct Width512 : IVectorWidth<Vector512<float>, Vector512<double>>
{
    public static int Count => Vector512<float>.Count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load(float* source) => Vector512.Load(source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(float* destination, Vector512<float> value) => value.Store(destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Broadcast(float value) => Vector512.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> KeepLast(Vector512<float> value, int lanes) =>
        value & Vector512.GreaterThanOrEqual(Vector512<int>.Indices, Vector512.Create(Count - lanes)).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> BlendLast(Vector512<float> old, Vector512<float> value, int lanes) =>
        Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(Vector512<int>.Indices, Vector512.Create(Count - lanes)).AsSingle(), value, old);

    public static Vector512<double> Zero => Vector512<double>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> Add(Vector512<double> left, Vector512<double> right) => left + right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> AddWidened(Vector512<double> accumulator, Vector512<float> value) =>
        accumulator + (Vector512.WidenLower(value) + Vector512.WidenUpper(value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> AddSquaresWidened(Vector512<double> accumulator, Vector512<float> value)
    {
        var lower = Vector512.WidenLower(value);
        var upper = Vector512.WidenUpper(value);
        return accumulator + Vector512.FusedMultiplyAdd(lower, lower, upper * upper);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> AddSquaredDifferencesWidened(Vector512<double> accumulator, Vector512<float> a, Vector512<float> b)
    {
        var lower = Vector512.WidenLower(a) - Vector512.WidenLower(b);
        var upper = Vector512.WidenUpper(a) - Vector512.WidenUpper(b);
        return accumulator + Vector512.FusedMultiplyAdd(lower, lower, upper * upper);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> WidenLower(Vector512<float> value) => Vector512.WidenLower(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> WidenUpper(Vector512<float> value) => Vector512.WidenUpper(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Narrow(Vector512<double> lower, Vector512<double> upper) => Vector512.Narrow(lower, upper);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Sum(Vector512<double> accumulator) => Vector512.Sum(accumulator);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool AnyNonFinite(Vector512<float> value)
    {
        var exponent = Vector512.Create(0x7F800000);
        return Vector512.EqualsAny(value.AsInt32() & exponent, exponent);
    }
}

internal readonly unsafe struct Width256 : IVectorWidth<Vector256<float>, Vector256<double>>
{
    public static int Count => Vector256<float>.Count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load(float* source) => Vector256.Load(source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(float* destination, Vector256<float> value) => value.Store(destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Broadcast(float value) => Vector256.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> KeepLast(Vector256<float> value, int lanes) =>
        value & Vector256.GreaterThanOrEqual(Vector256<int>.Indices, Vector256.Create(Count - lanes)).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> BlendLast(Vector256<float> old, Vector256<float> value, int lanes) =>
        Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(Vector256<int>.Indices, Vector256.Create(Count - lanes)).AsSingle(), value, old);

    public static Vector256<double> Zero => Vector256<double>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Add(Vector256<double> left, Vector256<double> right) => left + right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> AddWidened(Vector256<double> accumulator, Vector256<float> value) =>
        accumulator + (Vector256.WidenLower(value) + Vector256.WidenUpper(value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> AddSquaresWidened(Vector256<double> accumulator, Vector256<float> value)
    {
        var lower = Vector256.WidenLower(value);
        var upper = Vector256.WidenUpper(value);
        return accumulator + Vector256.FusedMultiplyAdd(lower, lower, upper * upper);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> AddSquaredDifferencesWidened(Vector256<double> accumulator, Vector256<float> a, Vector256<float> b)
    {
        var lower = Vector256.WidenLower(a) - Vector256.WidenLower(b);
        var upper = Vector256.WidenUpper(a) - Vector256.WidenUpper(b);
        return accumulator + Vector256.FusedMultiplyAdd(lower, lower, upper * upper);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> WidenLower(Vector256<float> value) => Vector256.WidenLower(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> WidenUpper(Vector256<float> value) => Vector256.WidenUpper(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Narrow(Vector256<double> lower, Vector256<double> upper) => Vector256.Narrow(lower, upper);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Sum(Vector256<double> accumulator) => Vector256.Sum(accumulator);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool AnyNonFinite(Vector256<float> value)
    {
        var exponent = Vector256.Create(0x7F800000);
        return Vector256.EqualsAny(value.AsInt32() & exponent, exponent);
    }
}

internal readonly unsafe struct Width128 : IVectorWidth<Vector128<float>, Vector128<double>>
{
    public static int Count => Vector128<float>.Count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Load(float* source) => Vector128.Load(source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(float* destination, Vector128<float> value) => value.Store(destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Broadcast(float value) => Vector128.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> KeepLast(Vector128<float> value, int lanes) =>
        value & Vector128.GreaterThanOrEqual(Vector128<int>.Indices, Vector128.Create(Count - lanes)).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> BlendLast(Vector128<float> old, Vector128<float> value, int lanes) =>
        Vector128.ConditionalSelect(Vector128.GreaterThanOrEqual(Vector128<int>.Indices, Vector128.Create(Count - lanes)).AsSingle(), value, old);

    public static Vector128<double> Zero => Vector128<double>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<double> Add(Vector128<double> left, Vector128<double> right) => left + right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<double> AddWidened(Vector128<double> accumulator, Vector128<float> value) =>
        accumulator + (Vector128.WidenLower(value) + Vector128.WidenUpper(value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<double> AddSquaresWidened(Vector128<double> accumulator, Vector128<float> value)
    {
        var lower = Vector128.WidenLower(value);
        var upper = Vector128.WidenUpper(value);
        return accumulator + Vector128.FusedMultiplyAdd(lower, lower, upper * upper);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<double> AddSquaredDifferencesWidened(Vector128<double> accumulator, Vector128<float> a, Vector128<float> b)
    {
        var lower = Vector128.WidenLower(a) - Vector128.WidenLower(b);
        var upper = Vector128.WidenUpper(a) - Vector128.WidenUpper(b);
        return accumulator + Vector128.FusedMultiplyAdd(lower, lower, upper * upper);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<double> WidenLower(Vector128<float> value) => Vector128.WidenLower(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<double> WidenUpper(Vector128<float> value) => Vector128.WidenUpper(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Narrow(Vector128<double> lower, Vector128<double> upper) => Vector128.Narrow(lower, upper);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Sum(Vector128<double> accumulator) => Vector128.Sum(accumulator);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool AnyNonFinite(Vector128<float> value)
    {
        var exponent = Vector128.Create(0x7F800000);
        return Vector128.EqualsAny(value.AsInt32() & exponent, exponent);
    }
}

/// <summary>One float at a time: lengths below four and machines without SIMD.</summary>
internal readonly unsafe struct Width1 : IVectorWidth<float, double>
{
    public static int Count => 1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Load(float* source) => *source;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(float* destination, float value) => *destination = value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Broadcast(float value) => value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float KeepLast(float value, int lanes) => lanes > 0 ? value : 0f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float BlendLast(float old, float value, int lanes) => lanes > 0 ? value : old;

    public static double Zero => 0d;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Add(double left, double right) => left + right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double AddWidened(double accumulator, float value) => accumulator + value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double AddSquaresWidened(double accumulator, float value) => accumulator + (double)value * value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double AddSquaredDifferencesWidened(double accumulator, float a, float b)
    {
        double difference = (double)a - b;
        return accumulator + difference * difference;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double WidenLower(float value) => value;

    /// <summary>A single float has no upper half.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double WidenUpper(float value) => 0d;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Narrow(double lower, double upper) => (float)lower;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Sum(double accumulator) => accumulator;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool AnyNonFinite(float value) => !float.IsFinite(value);
}
