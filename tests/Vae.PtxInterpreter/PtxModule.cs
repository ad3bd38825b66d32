// A parsed PTX module: its kernels (entries) and its symbols (module-level .global/.const/.shared variables, and each
// kernel's parameters, .shared and .local variables). Parse once, launch many times on a PtxMachine.
namespace Vae.PtxInterpreter;

/// <summary>A named variable or parameter in one of the state spaces.</summary>
public sealed class PtxSymbol
{
    public required string Name { get; init; }
    public required StateSpace Space { get; init; }
    public required PtxType ElementType { get; init; }
    /// <summary>Size in bytes (0 for an <c>.extern .shared</c> array, which takes the launch's dynamic size).</summary>
    public long SizeBytes { get; init; }
    public int Align { get; init; }
    public bool IsExternShared { get; init; }
    /// <summary>Initial contents of a .global/.const variable (zeros when it has no initialiser).</summary>
    public byte[]? Initializer { get; init; }
    /// <summary>Offset inside the kernel's .param buffer or .local frame; set by the parser (shared: see PtxKernel.SharedOffsets).</summary>
    public long Offset { get; internal set; }
    /// <summary>The kernel that declares it, or null for a module-level variable.</summary>
    public string? Kernel { get; init; }
}

/// <summary>One kernel parameter, in declaration order.</summary>
public sealed class PtxParameter
{
    public required string Name { get; init; }
    public required PtxType Type { get; init; }
    public required int SizeBytes { get; init; }
    public required int Offset { get; init; }
    public int Align { get; init; }
    internal int SymbolIndex { get; init; }
}

/// <summary>A kernel (<c>.entry</c>): its parameters, code and register file layout.</summary>
public sealed class PtxKernel
{
    public required string Name { get; init; }
    public required IReadOnlyList<PtxParameter> Parameters { get; init; }
    public required Instruction[] Code { get; init; }
    public required int RegisterCount { get; init; }
    public required string[] RegisterNames { get; init; }
    /// <summary>Mask of the bits each register holds (its declared width).</summary>
    public required ulong[] RegisterMasks { get; init; }
    public required PtxType[] RegisterTypes { get; init; }
    /// <summary>Bytes of static .shared memory (module-level and the kernel's own); dynamic shared memory follows it.</summary>
    public required int StaticSharedBytes { get; init; }
    /// <summary>Alignment of the dynamic shared memory that follows the static part.</summary>
    public required int DynamicSharedAlign { get; init; }
    public required int LocalBytes { get; init; }
    public required int ParameterBytes { get; init; }
    /// <summary>Offset of each referenced static .shared variable (by symbol index) in this kernel's shared memory.</summary>
    public required IReadOnlyDictionary<int, long> SharedOffsets { get; init; }
    public required PtxModule Module { get; init; }
    public int Line { get; init; }

    public override string ToString() => Name;
}

/// <summary>A parsed PTX module.</summary>
public sealed class PtxModule
{
    public string SourceName { get; }
    public string Version { get; internal set; } = "";
    public string Target { get; internal set; } = "";
    public int AddressSize { get; internal set; } = 64;
    public IReadOnlyList<PtxKernel> Kernels => _kernels;
    public IReadOnlyList<PtxSymbol> Symbols => _symbols;

    internal readonly List<PtxKernel> _kernels = [];
    internal readonly List<PtxSymbol> _symbols = [];

    internal PtxModule(string sourceName) => SourceName = sourceName;

    /// <summary>Parses PTX text; throws <see cref="PtxParseException"/> with the line and column of the first error.</summary>
    public static PtxModule Parse(string text, string sourceName = "<ptx>")
    {
        ArgumentNullException.ThrowIfNull(text);
        return new PtxParser(text, sourceName).ParseModule();
    }

    public PtxKernel GetKernel(string name)
    {
        foreach (var k in _kernels) if (k.Name == name) return k;
        throw new ArgumentException(
            $"{SourceName} has no kernel named '{name}'; it has: {string.Join(", ", _kernels.Select(k => k.Name))}", nameof(name));
    }
}

/// <summary>A syntax or semantic error in PTX text, with its position.</summary>
public sealed class PtxParseException : FormatException
{
    public string SourceName { get; }
    public int Line { get; }
    public int Column { get; }

    public PtxParseException(string sourceName, int line, int column, string message)
        : base($"{sourceName}({line},{column}): {message}")
    {
        SourceName = sourceName;
        Line = line;
        Column = column;
    }
}
