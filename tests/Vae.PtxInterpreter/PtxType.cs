// The PTX fundamental types (.pred, .b8-.b64, .u8-.u64, .s8-.s64, .f16, .f32, .f64) and their sizes and kinds.
namespace Vae.PtxInterpreter;

public enum PtxType : byte
{
    None, Pred, B8, B16, B32, B64, U8, U16, U32, U64, S8, S16, S32, S64, F16, F32, F64,
}

public static class PtxTypes
{
    public static int SizeBytes(this PtxType t) => t switch
    {
        PtxType.Pred => 1,
        PtxType.B8 or PtxType.U8 or PtxType.S8 => 1,
        PtxType.B16 or PtxType.U16 or PtxType.S16 or PtxType.F16 => 2,
        PtxType.B32 or PtxType.U32 or PtxType.S32 or PtxType.F32 => 4,
        PtxType.B64 or PtxType.U64 or PtxType.S64 or PtxType.F64 => 8,
        _ => 0,
    };

    public static int Bits(this PtxType t) => t == PtxType.Pred ? 1 : SizeBytes(t) * 8;
    public static bool IsSigned(this PtxType t) => t is PtxType.S8 or PtxType.S16 or PtxType.S32 or PtxType.S64;
    public static bool IsFloat(this PtxType t) => t is PtxType.F16 or PtxType.F32 or PtxType.F64;
    public static bool IsInteger(this PtxType t) => !IsFloat(t) && t != PtxType.Pred && t != PtxType.None;

    /// <summary>Mask of the low <see cref="Bits"/> bits.</summary>
    public static ulong Mask(this PtxType t) => Bits(t) >= 64 ? ulong.MaxValue : (1UL << Bits(t)) - 1;

    /// <summary>Sign- or zero-extends the low bits of <paramref name="v"/> to 64 bits according to the type.</summary>
    public static ulong Extend(this PtxType t, ulong v) => t switch
    {
        PtxType.S8 => (ulong)(long)(sbyte)v,
        PtxType.S16 => (ulong)(long)(short)v,
        PtxType.S32 => (ulong)(long)(int)v,
        _ => v & Mask(t),
    };

    public static bool TryParse(string suffix, out PtxType type)
    {
        type = suffix switch
        {
            "pred" => PtxType.Pred,
            "b8" => PtxType.B8, "b16" => PtxType.B16, "b32" => PtxType.B32, "b64" => PtxType.B64,
            "u8" => PtxType.U8, "u16" => PtxType.U16, "u32" => PtxType.U32, "u64" => PtxType.U64,
            "s8" => PtxType.S8, "s16" => PtxType.S16, "s32" => PtxType.S32, "s64" => PtxType.S64,
            "f16" => PtxType.F16, "f32" => PtxType.F32, "f64" => PtxType.F64,
            _ => PtxType.None,
        };
        return type != PtxType.None;
    }

    public static string Name(this PtxType t) => "." + t.ToString().ToLowerInvariant();
}
