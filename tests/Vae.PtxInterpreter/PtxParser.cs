// Recursive-descent parser for the PTX ISA 7.8 subset our kernels use: module directives, .entry kernels with
// .param lists, .reg/.shared/.local/.global/.const declarations, labels, guarded instructions. It resolves names
// (registers, labels, symbols) and converts immediates to each operand's type, so execution does no lookups.
using System.Globalization;

namespace Vae.PtxInterpreter;

internal sealed class PtxParser
{
    readonly string _source;
    readonly List<Token> _tokens;
    int _pos;
    readonly PtxModule _module;
    readonly Dictionary<string, int> _moduleSymbols = new(StringComparer.Ordinal);

    // Per-kernel state.
    List<Dictionary<string, int>> _regScopes = [];
    Dictionary<string, int> _kernelSymbols = new(StringComparer.Ordinal);
    List<string> _regNames = [];
    List<PtxType> _regTypes = [];
    int _dynamicAlign;
    long _localBytes;
    string _kernelName = "";

    public PtxParser(string text, string sourceName)
    {
        _source = sourceName;
        _tokens = PtxLexer.Tokenize(text, sourceName);
        _module = new PtxModule(sourceName);
    }

    Token Peek(int k = 0) => _tokens[Math.Min(_pos + k, _tokens.Count - 1)];
    Token Next() => _tokens[Math.Min(_pos++, _tokens.Count - 1)];

    PtxParseException Error(Token at, string message) => new(_source, at.Line, at.Column, message);

    Token Expect(string text)
    {
        var t = Next();
        if (!t.Is(text)) throw Error(t, $"expected '{text}' but found {t}");
        return t;
    }

    bool Accept(string text)
    {
        if (!Peek().Is(text)) return false;
        _pos++;
        return true;
    }

    public PtxModule ParseModule()
    {
        while (Peek().Kind != TokenKind.End)
        {
            var t = Peek();
            if (t.Kind != TokenKind.Identifier) throw Error(t, $"expected a directive at module level but found {t}");
            switch (t.Text)
            {
                case ".version":
                    Next();
                    _module.Version = Next().Text;
                    break;
                case ".target":
                    Next();
                    _module.Target = Next().Text;
                    while (Accept(",")) Next();
                    break;
                case ".address_size":
                    Next();
                    var size = Next();
                    if (size.Text != "64") throw Error(size, $".address_size {size.Text} is not supported; use 64");
                    _module.AddressSize = 64;
                    break;
                case ".file":
                case ".loc":
                case ".section":
                    SkipLine(t.Line);
                    break;
                case ".visible":
                case ".extern":
                case ".weak":
                case ".common":
                    if (t.Text == ".extern" && Peek(1).Is(".shared")) { ParseVariable(moduleLevel: true); break; }
                    Next();
                    break;
                case ".entry":
                    ParseEntry();
                    break;
                case ".func":
                    throw Error(t, ".func (device functions and call) is not supported by the interpreter; inline the function into the kernel");
                case ".global":
                case ".const":
                case ".shared":
                    ParseVariable(moduleLevel: true);
                    break;
                default:
                    throw Error(t, $"unexpected {t} at module level");
            }
        }
        if (_module.Version.Length == 0) throw new PtxParseException(_source, 1, 1, "missing .version directive");
        return _module;
    }

    void SkipLine(int line)
    {
        while (Peek().Kind != TokenKind.End && Peek().Line == line) Next();
    }

    // ---- declarations ----------------------------------------------------------------------------------------

    void ParseVariable(bool moduleLevel)
    {
        var first = Peek();
        bool isExtern = Accept(".extern");
        var spaceTok = Next();
        StateSpace space = spaceTok.Text switch
        {
            ".global" => StateSpace.Global, ".const" => StateSpace.Const, ".shared" => StateSpace.Shared,
            ".local" => StateSpace.Local,
            _ => throw Error(spaceTok, $"expected a state space but found {spaceTok}"),
        };
        int align = 0, vector = 1;
        PtxType type = PtxType.None;
        while (Peek().Kind == TokenKind.Identifier && Peek().Text.StartsWith('.'))
        {
            var m = Next();
            if (m.Text == ".align") align = (int)ParseIntegerToken(Next());
            else if (m.Text == ".v2") vector = 2;
            else if (m.Text == ".v4") vector = 4;
            else if (PtxTypes.TryParse(m.Text[1..], out var ty)) type = ty;
            else throw Error(m, $"unsupported variable attribute {m.Text}");
        }
        if (type == PtxType.None || type == PtxType.Pred) throw Error(Peek(), "expected the variable's type (.b8, .u32, .f32, ...)");
        var nameTok = Next();
        if (nameTok.Kind != TokenKind.Identifier) throw Error(nameTok, $"expected a variable name but found {nameTok}");
        long count = 1;
        bool unsized = false;
        while (Accept("["))
        {
            if (Peek().Is("]")) { unsized = true; Next(); continue; }
            count *= ParseIntegerToken(Next());
            Expect("]");
        }
        int elementSize = type.SizeBytes() * vector;
        if (align == 0) align = elementSize;
        long size = unsized ? 0 : count * elementSize;
        byte[]? init = null;
        if (Accept("="))
        {
            if (space is not (StateSpace.Global or StateSpace.Const))
                throw Error(nameTok, $"only .global and .const variables can have initialisers ({nameTok.Text})");
            init = new byte[size];
            var values = new List<Token>();
            if (Accept("{"))
            {
                do
                {
                    bool neg = Accept("-");
                    var v = Next();
                    values.Add(neg ? v with { Text = "-" + v.Text } : v);
                } while (Accept(","));
                Expect("}");
            }
            else
            {
                bool neg = Accept("-");
                var v = Next();
                values.Add(neg ? v with { Text = "-" + v.Text } : v);
            }
            if (values.Count > count * vector) throw Error(nameTok, $"{nameTok.Text} has {count * vector} elements but {values.Count} initialisers");
            for (int i = 0; i < values.Count; i++)
            {
                var op = ParseLiteral(values[i]);
                ulong bits = ConvertLiteral(op, type, values[i]);
                var span = init.AsSpan(i * type.SizeBytes(), type.SizeBytes());
                for (int b = 0; b < span.Length; b++) span[b] = (byte)(bits >> (8 * b));
            }
        }
        Expect(";");
        if (unsized && !(space == StateSpace.Shared && isExtern))
            throw Error(nameTok, $"{nameTok.Text}[] has no size; only .extern .shared arrays may be unsized");
        var symbol = new PtxSymbol
        {
            Name = nameTok.Text, Space = space, ElementType = type, SizeBytes = size, Align = align,
            IsExternShared = isExtern && space == StateSpace.Shared,
            Initializer = space is StateSpace.Global or StateSpace.Const ? (init ?? new byte[size]) : null,
            Kernel = moduleLevel ? null : _kernelName,
        };
        // Static .shared variables are laid out per kernel at the end of its .entry (only those it references).
        if (symbol.IsExternShared && !moduleLevel)
        {
            _dynamicAlign = Math.Max(_dynamicAlign, align);
        }
        else if (space == StateSpace.Local)
        {
            if (moduleLevel) throw Error(first, ".local variables must be declared inside a kernel");
            _localBytes = AlignUp(_localBytes, align);
            symbol.Offset = _localBytes;
            _localBytes += size;
        }
        int index = _module._symbols.Count;
        _module._symbols.Add(symbol);
        var table = moduleLevel ? _moduleSymbols : _kernelSymbols;
        if (!table.TryAdd(nameTok.Text, index)) throw Error(nameTok, $"'{nameTok.Text}' is declared twice");
    }

    static long AlignUp(long v, long a) => a <= 1 ? v : (v + a - 1) / a * a;

    void ParseEntry()
    {
        var entryTok = Expect(".entry");
        var nameTok = Next();
        if (nameTok.Kind != TokenKind.Identifier) throw Error(nameTok, $"expected the kernel name but found {nameTok}");
        _kernelName = nameTok.Text;
        _regScopes = [new Dictionary<string, int>(StringComparer.Ordinal)];
        _kernelSymbols = new Dictionary<string, int>(StringComparer.Ordinal);
        _regNames = [];
        _regTypes = [];
        _dynamicAlign = 16;
        _localBytes = 0;
        foreach (var (name, idx) in _moduleSymbols)
            if (_module._symbols[idx].IsExternShared) _dynamicAlign = Math.Max(_dynamicAlign, _module._symbols[idx].Align);

        var parameters = new List<PtxParameter>();
        int paramBytes = 0;
        if (Accept("("))
        {
            if (!Peek().Is(")"))
            {
                do
                {
                    Expect(".param");
                    PtxType type = PtxType.None;
                    int align = 0;
                    while (Peek().Kind == TokenKind.Identifier && Peek().Text.StartsWith('.'))
                    {
                        var m = Next();
                        if (m.Text == ".align") align = (int)ParseIntegerToken(Next());
                        else if (m.Text is ".ptr" or ".global" or ".shared" or ".local" or ".const") { }
                        else if (PtxTypes.TryParse(m.Text[1..], out var ty)) type = ty;
                        else throw Error(m, $"unsupported parameter attribute {m.Text}");
                    }
                    if (type is PtxType.None or PtxType.Pred) throw Error(Peek(), "expected the parameter's type");
                    var pname = Next();
                    if (pname.Kind != TokenKind.Identifier) throw Error(pname, $"expected a parameter name but found {pname}");
                    long count = 1;
                    while (Accept("[")) { count *= ParseIntegerToken(Next()); Expect("]"); }
                    int size = (int)(count * type.SizeBytes());
                    if (align == 0) align = type.SizeBytes();
                    paramBytes = (int)AlignUp(paramBytes, align);
                    int symIndex = _module._symbols.Count;
                    _module._symbols.Add(new PtxSymbol
                    {
                        Name = pname.Text, Space = StateSpace.Param, ElementType = type, SizeBytes = size, Align = align,
                        Offset = paramBytes, Kernel = _kernelName,
                    });
                    if (!_kernelSymbols.TryAdd(pname.Text, symIndex)) throw Error(pname, $"parameter '{pname.Text}' is declared twice");
                    parameters.Add(new PtxParameter
                    {
                        Name = pname.Text, Type = type, SizeBytes = size, Offset = paramBytes, Align = align, SymbolIndex = symIndex,
                    });
                    paramBytes += size;
                } while (Accept(","));
            }
            Expect(")");
        }
        // Performance directives: .maxntid 256, 1, 1 / .reqntid / .minnctapersm / .maxnreg / .pragma.
        while (Peek().Kind == TokenKind.Identifier && Peek().Text.StartsWith('.'))
        {
            var d = Next();
            if (d.Text is ".maxntid" or ".reqntid" or ".minnctapersm" or ".maxnreg" or ".maxclusterrank" or ".reqnctapercluster")
            {
                Next();
                while (Accept(",")) Next();
            }
            else if (d.Text == ".pragma") { Next(); Accept(";"); }
            else throw Error(d, $"unsupported kernel directive {d.Text}");
        }
        Expect("{");
        var code = new List<Instruction>();
        var labels = new Dictionary<string, int>(StringComparer.Ordinal);
        var pendingBranches = new List<(Operand op, Token at)>();
        ParseBlock(code, labels, pendingBranches);
        code.Add(new Instruction { Op = Opcode.Exit, Line = Peek(-1 + 0).Line, Text = "(end of kernel)" });
        foreach (var (op, at) in pendingBranches)
        {
            if (!labels.TryGetValue(op.LabelName, out int target)) throw Error(at, $"undefined label '{op.LabelName}'");
            op.Target = target;
        }
        var masks = _regTypes.Select(t => t == PtxType.Pred ? 1UL : t.Mask()).ToArray();
        // Static shared layout: the referenced .shared variables (module-level first, then the kernel's), in order.
        var referenced = new HashSet<int>();
        foreach (var ins in code)
            foreach (var op in ins.Operands)
                if (op.Symbol >= 0) referenced.Add(op.Symbol);
        var sharedSymbols = _moduleSymbols.Values.Concat(_kernelSymbols.Values).Distinct().Order()
            .Where(i => _module._symbols[i].Space == StateSpace.Shared && referenced.Contains(i)).ToArray();
        var sharedOffsets = new Dictionary<int, long>();
        long sharedBytes = 0;
        foreach (int i in sharedSymbols)
        {
            var sym = _module._symbols[i];
            if (sym.IsExternShared) continue;
            sharedBytes = AlignUp(sharedBytes, sym.Align);
            sharedOffsets[i] = sharedBytes;
            sharedBytes += sym.SizeBytes;
        }
        _module._kernels.Add(new PtxKernel
        {
            Name = _kernelName, Parameters = parameters, Code = [.. code], RegisterCount = _regNames.Count,
            RegisterNames = [.. _regNames], RegisterMasks = masks, RegisterTypes = [.. _regTypes],
            StaticSharedBytes = (int)sharedBytes, SharedOffsets = sharedOffsets, DynamicSharedAlign = _dynamicAlign, LocalBytes = (int)_localBytes,
            ParameterBytes = paramBytes, Module = _module, Line = entryTok.Line,
        });
    }

    void ParseBlock(List<Instruction> code, Dictionary<string, int> labels, List<(Operand, Token)> branches)
    {
        while (true)
        {
            var t = Peek();
            if (t.Kind == TokenKind.End) throw Error(t, $"missing '}}' at the end of kernel {_kernelName}");
            if (t.Is("}")) { Next(); return; }
            if (t.Is("{"))
            {
                Next();
                _regScopes.Add(new Dictionary<string, int>(StringComparer.Ordinal));
                ParseBlock(code, labels, branches);
                _regScopes.RemoveAt(_regScopes.Count - 1);
                continue;
            }
            if (t.Kind == TokenKind.Identifier && Peek(1).Is(":"))
            {
                Next(); Next();
                if (!labels.TryAdd(t.Text, code.Count)) throw Error(t, $"label '{t.Text}' is defined twice");
                continue;
            }
            if (t.Kind == TokenKind.Identifier && t.Text.StartsWith('.'))
            {
                switch (t.Text)
                {
                    case ".reg": ParseRegisters(); continue;
                    case ".shared": case ".local": case ".extern": ParseVariable(moduleLevel: false); continue;
                    case ".pragma": Next(); Next(); Expect(";"); continue;
                    case ".loc": case ".file": SkipLine(t.Line); continue;
                    default: throw Error(t, $"unsupported directive {t.Text} inside kernel {_kernelName}");
                }
            }
            code.Add(ParseInstruction(branches));
        }
    }

    void ParseRegisters()
    {
        Expect(".reg");
        var typeTok = Next();
        if (typeTok.Text is ".v2" or ".v4") throw Error(typeTok, "vector registers (.reg .v4) are not supported; declare scalars");
        if (!typeTok.Text.StartsWith('.') || !PtxTypes.TryParse(typeTok.Text[1..], out var type))
            throw Error(typeTok, $"expected a register type but found {typeTok}");
        do
        {
            var name = Next();
            if (name.Kind != TokenKind.Identifier) throw Error(name, $"expected a register name but found {name}");
            if (Accept("<"))
            {
                long n = ParseIntegerToken(Next());
                Expect(">");
                for (int i = 0; i < n; i++) DeclareRegister(name.Text + i.ToString(CultureInfo.InvariantCulture), type, name);
            }
            else DeclareRegister(name.Text, type, name);
        } while (Accept(","));
        Expect(";");
    }

    void DeclareRegister(string name, PtxType type, Token at)
    {
        var scope = _regScopes[^1];
        if (!scope.TryAdd(name, _regNames.Count)) throw Error(at, $"register {name} is declared twice");
        _regNames.Add(name);
        _regTypes.Add(type);
    }

    bool TryRegister(string name, out int index)
    {
        for (int s = _regScopes.Count - 1; s >= 0; s--)
            if (_regScopes[s].TryGetValue(name, out index)) return true;
        index = -1;
        return false;
    }

    bool TrySymbol(string name, out int index) =>
        _kernelSymbols.TryGetValue(name, out index) || _moduleSymbols.TryGetValue(name, out index);

    // ---- instructions ----------------------------------------------------------------------------------------

    Instruction ParseInstruction(List<(Operand, Token)> branches)
    {
        var start = Peek();
        int guard = -1;
        bool guardNeg = false;
        if (Accept("@"))
        {
            guardNeg = Accept("!");
            var g = Next();
            if (!TryRegister(g.Text, out guard)) throw Error(g, $"undeclared predicate register {g.Text}");
            if (_regTypes[guard] != PtxType.Pred) throw Error(g, $"guard {g.Text} is not a .pred register");
        }
        var opTok = Next();
        if (opTok.Kind != TokenKind.Identifier) throw Error(opTok, $"expected an instruction but found {opTok}");
        var operandTokens = new List<(Operand op, Token at)>();
        if (!Peek().Is(";"))
        {
            do operandTokens.Add(ParseOperand(opTok));
            while (Accept(","));
        }
        var semi = Peek();
        if (!semi.Is(";")) throw Error(semi, $"expected ';' after the operands of {opTok.Text} but found {semi}");
        Next();
        var ins = Decode(opTok, operandTokens);
        ins.GuardReg = guard;
        ins.GuardNegated = guardNeg;
        ins.Line = start.Line;
        ins.Text = RenderText(start, semi);
        if (ins.Op == Opcode.Bra) branches.Add((ins.Operands[0], operandTokens[0].at));
        return ins;
    }

    string RenderText(Token from, Token semi)
    {
        var sb = new System.Text.StringBuilder();
        int i = _tokens.IndexOf(from, Math.Max(0, _pos - 64));
        for (; i >= 0 && i < _tokens.Count && !_tokens[i].Equals(semi); i++)
        {
            var t = _tokens[i];
            if (sb.Length > 0 && t.Text is not ("," or "]" or "}" or "|" or ">") && sb[^1] is not ('[' or '{' or '!' or '@' or '|' or '<' or '-' or '+'))
                sb.Append(' ');
            if (t.Text == "+" || t.Text == "-") { if (sb.Length > 0 && sb[^1] == ' ') sb.Length--; }
            sb.Append(t.Text);
        }
        return sb.Append(';').ToString();
    }

    (Operand, Token) ParseOperand(Token opTok)
    {
        var t = Peek();
        if (Accept("["))
        {
            var op = new Operand { Kind = OperandKind.Address };
            bool first = true;
            while (!Peek().Is("]"))
            {
                bool negative = false;
                if (!first)
                {
                    if (Accept("+")) { negative = Accept("-"); }
                    else if (Accept("-")) negative = true;
                    else throw Error(Peek(), $"expected '+', '-' or ']' in an address but found {Peek()}");
                }
                else negative = Accept("-");
                var part = Next();
                if (part.Kind == TokenKind.Number)
                {
                    long v = (long)ParseIntegerToken(part);
                    op.Offset += negative ? -v : v;
                }
                else if (part.Kind == TokenKind.Identifier && TryRegister(part.Text, out int r))
                {
                    if (op.BaseReg >= 0 || negative) throw Error(part, "an address can hold one register, added");
                    op.BaseReg = r;
                }
                else if (part.Kind == TokenKind.Identifier && TrySymbol(part.Text, out int s))
                {
                    if (op.Symbol >= 0 || negative) throw Error(part, "an address can hold one symbol, added");
                    op.Symbol = s;
                }
                else throw Error(part, $"undeclared name {part} in an address");
                first = false;
            }
            Next();
            return (op, t);
        }
        if (Accept("{"))
        {
            var regs = new List<int>();
            var imms = new List<ulong>();
            bool anyImm = false;
            do
            {
                var e = Next();
                if (e.Is("_")) { regs.Add(-1); imms.Add(0); continue; }
                if (e.Kind == TokenKind.Identifier && TryRegister(e.Text, out int r)) { regs.Add(r); imms.Add(0); continue; }
                bool neg = e.Is("-");
                if (neg) e = Next();
                if (e.Kind == TokenKind.Number)
                {
                    var lit = ParseLiteral(neg ? e with { Text = "-" + e.Text } : e);
                    regs.Add(-2);
                    imms.Add(lit.LiteralBits);
                    anyImm = true;
                    continue;
                }
                throw Error(e, $"undeclared register {e} in a vector operand");
            } while (Accept(","));
            Expect("}");
            return (new Operand { Kind = OperandKind.Vector, Elements = [.. regs], VectorImm = anyImm ? [.. imms] : null }, t);
        }
        if (t.Is("-") || t.Kind == TokenKind.Number)
        {
            bool neg = Accept("-");
            var n = Next();
            if (n.Kind != TokenKind.Number) throw Error(n, $"expected a number after '-' but found {n}");
            return (ParseLiteral(neg ? n with { Text = "-" + n.Text } : n), t);
        }
        bool negated = Accept("!");
        var id = Next();
        if (id.Kind != TokenKind.Identifier) throw Error(id, $"expected an operand but found {id}");
        if (id.Text == "_") return (new Operand { Kind = OperandKind.Sink }, t);
        if (TryRegister(id.Text, out int reg))
        {
            var op = new Operand { Kind = OperandKind.Register, Reg = reg, Negated = negated };
            if (Accept("|"))
            {
                var second = Next();
                if (second.Is("_")) op.Reg2 = -1;
                else if (!TryRegister(second.Text, out op.Reg2)) throw Error(second, $"undeclared register {second.Text}");
            }
            return (op, t);
        }
        if (id.Text.StartsWith('%') && TrySpecial(id.Text, out var sr)) return (new Operand { Kind = OperandKind.Special, Special = sr }, t);
        if (TrySymbol(id.Text, out int sym))
        {
            var op = new Operand { Kind = OperandKind.Symbol, Symbol = sym };
            if (Peek().Is("+") && Peek(1).Kind == TokenKind.Number) { Next(); op.Offset = (long)ParseIntegerToken(Next()); }
            return (op, t);
        }
        string baseName = opTok.Text.Split('.')[0];
        if (baseName == "bra") return (new Operand { Kind = OperandKind.Label, LabelName = id.Text }, t);
        if (id.Text.StartsWith('%')) throw Error(id, $"undeclared register {id.Text} (declare it with .reg)");
        throw Error(id, $"undeclared name {id.Text}");
    }

    static bool TrySpecial(string name, out SpecialRegister sr)
    {
        switch (name)
        {
            case "%tid.x": sr = SpecialRegister.TidX; return true;
            case "%tid.y": sr = SpecialRegister.TidY; return true;
            case "%tid.z": sr = SpecialRegister.TidZ; return true;
            case "%ntid.x": sr = SpecialRegister.NtidX; return true;
            case "%ntid.y": sr = SpecialRegister.NtidY; return true;
            case "%ntid.z": sr = SpecialRegister.NtidZ; return true;
            case "%ctaid.x": sr = SpecialRegister.CtaidX; return true;
            case "%ctaid.y": sr = SpecialRegister.CtaidY; return true;
            case "%ctaid.z": sr = SpecialRegister.CtaidZ; return true;
            case "%nctaid.x": sr = SpecialRegister.NctaidX; return true;
            case "%nctaid.y": sr = SpecialRegister.NctaidY; return true;
            case "%nctaid.z": sr = SpecialRegister.NctaidZ; return true;
            case "%laneid": sr = SpecialRegister.LaneId; return true;
            case "%warpid": sr = SpecialRegister.WarpId; return true;
            case "%nwarpid": sr = SpecialRegister.NWarpId; return true;
            case "%smid": sr = SpecialRegister.SmId; return true;
            case "%nsmid": sr = SpecialRegister.NSmId; return true;
            case "%gridid": sr = SpecialRegister.GridId; return true;
            case "%lanemask_eq": sr = SpecialRegister.LaneMaskEq; return true;
            case "%lanemask_le": sr = SpecialRegister.LaneMaskLe; return true;
            case "%lanemask_lt": sr = SpecialRegister.LaneMaskLt; return true;
            case "%lanemask_ge": sr = SpecialRegister.LaneMaskGe; return true;
            case "%lanemask_gt": sr = SpecialRegister.LaneMaskGt; return true;
            case "%clock": sr = SpecialRegister.Clock; return true;
            case "%clock64": sr = SpecialRegister.Clock64; return true;
            case "%globaltimer": sr = SpecialRegister.GlobalTimer; return true;
            case "%dynamic_smem_size": sr = SpecialRegister.DynamicSmemSize; return true;
            case "%total_smem_size": sr = SpecialRegister.TotalSmemSize; return true;
            default: sr = default; return false;
        }
    }

    // ---- literals --------------------------------------------------------------------------------------------

    long ParseIntegerToken(Token t)
    {
        var op = ParseLiteral(t);
        if (op.LiteralIsFloat) throw Error(t, $"expected an integer but found {t}");
        return (long)op.LiteralBits;
    }

    Operand ParseLiteral(Token t)
    {
        string s = t.Text;
        bool neg = s.StartsWith('-');
        if (neg) s = s[1..];
        var op = new Operand { Kind = OperandKind.Immediate };
        try
        {
            if (s.Length == 10 && (s.StartsWith("0f") || s.StartsWith("0F")))
            {
                uint bits = uint.Parse(s.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                op.LiteralIsFloat = true;
                op.LiteralIsF32Bits = true;
                op.LiteralDouble = BitConverter.UInt32BitsToSingle(bits) * (neg ? -1.0 : 1.0);
                return op;
            }
            if (s.Length == 18 && (s.StartsWith("0d") || s.StartsWith("0D")))
            {
                ulong bits = ulong.Parse(s.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                op.LiteralIsFloat = true;
                op.LiteralDouble = BitConverter.UInt64BitsToDouble(bits) * (neg ? -1.0 : 1.0);
                return op;
            }
            if (s.EndsWith('U') || s.EndsWith('u')) s = s[..^1];
            ulong v;
            if (s.StartsWith("0x") || s.StartsWith("0X")) v = ulong.Parse(s.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            else if (s.StartsWith("0b") || s.StartsWith("0B")) v = Convert.ToUInt64(s[2..], 2);
            else if (s.Contains('.') || s.Contains('e') || s.Contains('E'))
            {
                op.LiteralIsFloat = true;
                op.LiteralDouble = double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture) * (neg ? -1.0 : 1.0);
                return op;
            }
            else if (s.Length > 1 && s[0] == '0') v = Convert.ToUInt64(s[1..], 8);
            else v = ulong.Parse(s, NumberStyles.None, CultureInfo.InvariantCulture);
            op.LiteralBits = neg ? (ulong)(-(long)v) : v;
            return op;
        }
        catch (Exception e) when (e is FormatException or OverflowException or ArgumentException)
        {
            throw Error(t, $"malformed number {t.Text}");
        }
    }

    ulong ConvertLiteral(Operand lit, PtxType type, Token at)
    {
        if (type == PtxType.F32)
        {
            if (lit.LiteralIsF32Bits) return (ulong)BitConverter.SingleToUInt32Bits((float)lit.LiteralDouble);
            double d = lit.LiteralIsFloat ? lit.LiteralDouble : (long)lit.LiteralBits;
            return BitConverter.SingleToUInt32Bits((float)d);
        }
        if (type == PtxType.F64)
            return BitConverter.DoubleToUInt64Bits(lit.LiteralIsFloat ? lit.LiteralDouble : (long)lit.LiteralBits);
        if (type == PtxType.F16)
            return BitConverter.HalfToUInt16Bits((Half)(lit.LiteralIsFloat ? lit.LiteralDouble : (long)lit.LiteralBits));
        if (lit.LiteralIsFloat)
        {
            // A float literal in a bit-typed slot (mov.b32 %r, 0f3F800000) keeps its bits.
            if (type is PtxType.B32 && lit.LiteralIsF32Bits) return BitConverter.SingleToUInt32Bits((float)lit.LiteralDouble);
            if (type is PtxType.B64) return BitConverter.DoubleToUInt64Bits(lit.LiteralDouble);
            if (type is PtxType.B32) return BitConverter.SingleToUInt32Bits((float)lit.LiteralDouble);
            throw Error(at, $"a floating-point literal cannot be used as a {type.Name()} operand");
        }
        if (type == PtxType.Pred) return lit.LiteralBits != 0 ? 1UL : 0UL;
        return lit.LiteralBits & type.Mask();
    }

    // ---- decoding --------------------------------------------------------------------------------------------

    Instruction Decode(Token opTok, List<(Operand op, Token at)> operands)
    {
        string[] parts = opTok.Text.Split('.');
        string name = parts[0];
        var ins = new Instruction();
        var types = new List<PtxType>();
        int modStart = 1;
        switch (name)
        {
            case "add": ins.Op = Opcode.Add; break;
            case "sub": ins.Op = Opcode.Sub; break;
            case "mul": ins.Op = Opcode.Mul; break;
            case "mad": ins.Op = Opcode.Mad; break;
            case "fma": ins.Op = Opcode.Fma; break;
            case "div": ins.Op = Opcode.Div; break;
            case "rem": ins.Op = Opcode.Rem; break;
            case "abs": ins.Op = Opcode.Abs; break;
            case "neg": ins.Op = Opcode.Neg; break;
            case "min": ins.Op = Opcode.Min; break;
            case "max": ins.Op = Opcode.Max; break;
            case "popc": ins.Op = Opcode.Popc; break;
            case "clz": ins.Op = Opcode.Clz; break;
            case "brev": ins.Op = Opcode.Brev; break;
            case "bfe": ins.Op = Opcode.Bfe; break;
            case "bfi": ins.Op = Opcode.Bfi; break;
            case "bfind": ins.Op = Opcode.Bfind; break;
            case "prmt": ins.Op = Opcode.Prmt; break;
            case "and": ins.Op = Opcode.And; break;
            case "or": ins.Op = Opcode.Or; break;
            case "xor": ins.Op = Opcode.Xor; break;
            case "not": ins.Op = Opcode.Not; break;
            case "cnot": ins.Op = Opcode.Cnot; break;
            case "shl": ins.Op = Opcode.Shl; break;
            case "shr": ins.Op = Opcode.Shr; break;
            case "lop3": ins.Op = Opcode.Lop3; break;
            case "copysign": ins.Op = Opcode.Copysign; break;
            case "rcp": ins.Op = Opcode.Rcp; break;
            case "sqrt": ins.Op = Opcode.Sqrt; break;
            case "rsqrt": ins.Op = Opcode.Rsqrt; break;
            case "sin": ins.Op = Opcode.Sin; break;
            case "cos": ins.Op = Opcode.Cos; break;
            case "lg2": ins.Op = Opcode.Lg2; break;
            case "ex2": ins.Op = Opcode.Ex2; break;
            case "tanh": ins.Op = Opcode.Tanh; break;
            case "testp": ins.Op = Opcode.Testp; break;
            case "setp": ins.Op = Opcode.Setp; break;
            case "selp": ins.Op = Opcode.Selp; break;
            case "set": ins.Op = Opcode.Set; break;
            case "mov": ins.Op = Opcode.Mov; break;
            case "ld": case "ldu": ins.Op = Opcode.Ld; break;
            case "st": ins.Op = Opcode.St; break;
            case "cvt": ins.Op = Opcode.Cvt; break;
            case "cvta": ins.Op = Opcode.Cvta; ins.ToGeneric = true; break;
            case "bra": ins.Op = Opcode.Bra; break;
            case "ret": case "exit": ins.Op = Opcode.Exit; break;
            case "bar":
            case "barrier":
                if (parts.Length > 1 && parts[1] == "warp") { ins.Op = Opcode.BarWarpSync; modStart = 2; }
                else ins.Op = Opcode.Bar;
                ins.Aligned = name == "bar" || parts.Contains("aligned"); // bar{.cta}.sync is barrier.sync.aligned
                break;
            case "membar": case "fence": ins.Op = Opcode.Membar; break;
            case "shfl": ins.Op = Opcode.Shfl; break;
            case "vote": ins.Op = Opcode.Vote; break;
            case "redux": ins.Op = Opcode.Redux; break;
            case "activemask": ins.Op = Opcode.Activemask; break;
            case "atom": ins.Op = Opcode.Atom; break;
            case "red": ins.Op = Opcode.Red; break;
            case "trap": ins.Op = Opcode.Trap; break;
            case "nanosleep": case "prefetch": case "prefetchu": case "pmevent": ins.Op = Opcode.Nop; break;
            case "call": throw Error(opTok, "call is not supported by the interpreter; inline the function into the kernel");
            default: throw Error(opTok, $"unknown or unsupported instruction '{name}'");
        }

        bool isCompare = ins.Op is Opcode.Setp or Opcode.Set;
        bool isAtomic = ins.Op is Opcode.Atom or Opcode.Red or Opcode.Redux;
        for (int i = modStart; i < parts.Length; i++)
        {
            string m = parts[i];
            if (ins.Op == Opcode.Membar || ins.Op == Opcode.Nop) continue; // scopes and orderings: no effect sequentially
            if (m.Contains("::")) continue; // cache eviction hints (.L1::no_allocate, .L2::128B)
            if (PtxTypes.TryParse(m, out var ty)) { types.Add(ty); continue; }
            switch (m)
            {
                case "rn": ins.Rounding = Rounding.Rn; continue;
                case "rz": ins.Rounding = Rounding.Rz; continue;
                case "rm": ins.Rounding = Rounding.Rm; continue;
                case "rp": ins.Rounding = Rounding.Rp; continue;
                case "rni": ins.Rounding = Rounding.Rni; continue;
                case "rzi": ins.Rounding = Rounding.Rzi; continue;
                case "rmi": ins.Rounding = Rounding.Rmi; continue;
                case "rpi": ins.Rounding = Rounding.Rpi; continue;
                case "ftz": ins.Ftz = true; continue;
                case "sat": ins.Sat = true; continue;
                case "approx": ins.Approx = true; continue;
                case "full": ins.Approx = true; continue;
                case "uni" when ins.Op != Opcode.Vote: ins.Uni = true; continue;
                case "NaN": ins.NaNPropagating = true; continue;
                case "shiftamt": ins.ShiftAmount = true; continue;
                case "noftz": continue;
                case "wide" when ins.Op is Opcode.Mul or Opcode.Mad: ins.Mul = MulMode.Wide; continue;
                case "lo" when ins.Op is Opcode.Mul or Opcode.Mad: ins.Mul = MulMode.Lo; continue;
                case "hi" when ins.Op is Opcode.Mul or Opcode.Mad: ins.Mul = MulMode.Hi; continue;
                case "v2": ins.Vector = 2; continue;
                case "v4": ins.Vector = 4; continue;
                case "global": ins.Space = StateSpace.Global; continue;
                case "shared": ins.Space = StateSpace.Shared; continue;
                case "local": ins.Space = StateSpace.Local; continue;
                case "param": ins.Space = StateSpace.Param; continue;
                case "const": ins.Space = StateSpace.Const; continue;
                case "to" when ins.Op == Opcode.Cvta: ins.ToGeneric = false; continue;
                case "ca" or "cg" or "cs" or "lu" or "cv" or "wb" or "wt" or "nc" or "volatile" or "relaxed" or "acquire"
                    or "release" or "weak" or "cta" or "gpu" or "sys" or "aligned" or "sync" or "mmio": continue;
                case "and" or "or" or "xor" when isCompare: ins.Bool = m switch { "and" => BoolOp.And, "or" => BoolOp.Or, _ => BoolOp.Xor }; continue;
            }
            if (isCompare && TryCompare(m, out var cmp)) { ins.Compare = cmp; continue; }
            if (isAtomic && TryAtomic(m, out var aop)) { ins.Atomic = aop; continue; }
            if (ins.Op == Opcode.Shfl && m is "up" or "down" or "bfly" or "idx")
            {
                ins.Shuffle = m switch { "up" => ShuffleMode.Up, "down" => ShuffleMode.Down, "bfly" => ShuffleMode.Bfly, _ => ShuffleMode.Idx };
                continue;
            }
            if (ins.Op == Opcode.Vote && m is "all" or "any" or "uni" or "ballot")
            {
                ins.Vote = m switch { "all" => VoteMode.All, "any" => VoteMode.Any, "uni" => VoteMode.Uni, _ => VoteMode.Ballot };
                continue;
            }
            if (ins.Op == Opcode.Testp && m is "finite" or "infinite" or "number" or "notanumber" or "normal" or "subnormal")
            {
                ins.Testp = m switch
                {
                    "finite" => TestpOp.Finite, "infinite" => TestpOp.Infinite, "number" => TestpOp.Number,
                    "notanumber" => TestpOp.NotANumber, "normal" => TestpOp.Normal, _ => TestpOp.Subnormal,
                };
                continue;
            }
            if (ins.Op == Opcode.Bar && m is "arrive") { ins.Barrier = BarrierMode.Arrive; continue; }
            if (ins.Op == Opcode.Bar && m is "red") throw Error(opTok, "bar.red is not supported by the interpreter");
            throw Error(opTok, $"unsupported modifier .{m} on {name}");
        }
        if (ins.Op == Opcode.Bar && parts.Length == 1)
            throw Error(opTok, "bar needs .sync or .arrive");

        // Types: cvt.dst.src, set.cmp.dst.src, everything else one type.
        if (types.Count > 0) ins.Type = types[0];
        if (types.Count > 1) ins.Type2 = types[1];
        if (ins.Op == Opcode.Set && types.Count == 2) { ins.Type = types[0]; ins.Type2 = types[1]; }
        if (ins.Op is Opcode.Vote && ins.Vote == VoteMode.Ballot) ins.Type = PtxType.B32;
        if (ins.Op is Opcode.Vote && ins.Vote != VoteMode.Ballot) ins.Type = PtxType.Pred;
        if (ins.Op is Opcode.Activemask or Opcode.Bar or Opcode.BarWarpSync) ins.Type = PtxType.B32;
        bool needsType = ins.Op is not (Opcode.Bra or Opcode.Exit or Opcode.Bar or Opcode.BarWarpSync or Opcode.Membar
            or Opcode.Trap or Opcode.Nop or Opcode.Vote or Opcode.Activemask);
        if (needsType && ins.Type == PtxType.None) throw Error(opTok, $"{opTok.Text} needs a type suffix");
        if (ins.Op == Opcode.Cvt && ins.Type2 == PtxType.None) throw Error(opTok, "cvt needs a destination and a source type");
        if (ins.Op == Opcode.Set && ins.Type2 == PtxType.None) throw Error(opTok, "set needs a destination and a source type");
        if (ins.Op == Opcode.Fma && ins.Type.IsFloat() && ins.Rounding == Rounding.Default) throw Error(opTok, "fma needs a rounding modifier (.rn, .rz, .rm, .rp)");
        if (ins.Op == Opcode.Mad && ins.Type.IsFloat()) ins.Op = Opcode.Fma;
        if (ins.Type == PtxType.F16 && ins.Op is not (Opcode.Ld or Opcode.St or Opcode.Mov or Opcode.Cvt))
            throw Error(opTok, $"{opTok.Text}: half-precision arithmetic is not supported by the interpreter (convert to .f32)");


        // Operand counts and destinations.
        int expected = ins.Op switch
        {
            Opcode.Add or Opcode.Sub or Opcode.Mul or Opcode.Div or Opcode.Rem or Opcode.Min or Opcode.Max or Opcode.And
                or Opcode.Or or Opcode.Xor or Opcode.Shl or Opcode.Shr or Opcode.Copysign => 3,
            Opcode.Mad or Opcode.Fma or Opcode.Bfe or Opcode.Prmt or Opcode.Selp => 4,
            Opcode.Bfi or Opcode.Lop3 or Opcode.Shfl => 5,
            Opcode.Setp or Opcode.Set => ins.Bool == BoolOp.None ? 3 : 4,
            Opcode.Atom => ins.Atomic == AtomicOp.Cas ? 4 : 3,
            Opcode.Red => 2,
            Opcode.Ld or Opcode.St => 2,
            Opcode.Vote => 3,
            Opcode.Redux => 3,
            Opcode.Bra or Opcode.Activemask or Opcode.BarWarpSync => 1,
            Opcode.Exit or Opcode.Trap or Opcode.Membar => 0,
            Opcode.Bar => operands.Count is 1 or 2 ? operands.Count : 1,
            Opcode.Nop => operands.Count,
            _ => 2,
        };
        if (operands.Count != expected)
            throw Error(opTok, $"{opTok.Text} takes {expected} operands but has {operands.Count}");
        if (ins.Op == Opcode.Bar && ins.Barrier == BarrierMode.Arrive && operands.Count != 2)
            throw Error(opTok, "bar.arrive needs a thread count (bar.arrive a, b)");
        ins.DestinationCount = ins.Op is Opcode.St or Opcode.Red or Opcode.Bra or Opcode.Bar or Opcode.BarWarpSync
            or Opcode.Membar or Opcode.Trap or Opcode.Nop or Opcode.Exit ? 0 : 1;

        for (int i = 0; i < operands.Count; i++)
        {
            var (op, at) = operands[i];
            var t = OperandType(ins, i);
            if (op.Kind == OperandKind.Immediate)
            {
                if (i < ins.DestinationCount) throw Error(at, "a destination cannot be an immediate");
                op.Imm = ConvertLiteral(op, t, at);
            }
            else if (op.Kind == OperandKind.Vector && op.VectorImm is not null)
            {
                for (int k = 0; k < op.Elements.Length; k++)
                    if (op.Elements[k] == -2)
                    {
                        var lit = new Operand { LiteralBits = op.VectorImm[k] };
                        op.VectorImm[k] = ConvertLiteral(lit, t, at);
                    }
            }
            else if (op.Kind == OperandKind.Label && ins.Op != Opcode.Bra) throw Error(at, $"undeclared name {op.LabelName}");
            if (i < ins.DestinationCount && op.Kind is OperandKind.Special or OperandKind.Symbol or OperandKind.Address)
                throw Error(at, "a destination must be a register");
        }
        if (ins.Op is Opcode.Ld or Opcode.St or Opcode.Atom or Opcode.Red)
        {
            int addrIndex = ins.Op is Opcode.Ld or Opcode.Atom ? 1 : 0;
            if (operands[addrIndex].op.Kind != OperandKind.Address) throw Error(operands[addrIndex].at, $"{name} needs an address operand [..]");
            int dataIndex = ins.Op == Opcode.Ld ? 0 : 1;
            var data = operands[dataIndex].op;
            if (ins.Vector > 1 && (data.Kind != OperandKind.Vector || data.Elements.Length != ins.Vector))
                throw Error(operands[dataIndex].at, $"{opTok.Text} needs a vector of {ins.Vector} registers");
        }
        if (ins.Op == Opcode.Setp && operands[0].op.Kind == OperandKind.Register && _regTypes[operands[0].op.Reg] != PtxType.Pred)
            throw Error(operands[0].at, "setp writes a .pred register");
        ins.Operands = [.. operands.Select(o => o.op)];
        var sources = new List<int>();
        for (int i = ins.DestinationCount; i < ins.Operands.Length; i++)
        {
            if (ins.Op == Opcode.Shfl && i == 1) continue; // read from the source lane, checked there
            var op = ins.Operands[i];
            if (op.Kind == OperandKind.Register) sources.Add(op.Reg);
            else if (op.Kind == OperandKind.Address && op.BaseReg >= 0) sources.Add(op.BaseReg);
            else if (op.Kind == OperandKind.Vector) sources.AddRange(op.Elements.Where(e => e >= 0));
        }
        if (ins.DestinationCount > 0 && ins.Operands[0].Kind == OperandKind.Address && ins.Operands[0].BaseReg >= 0)
            sources.Add(ins.Operands[0].BaseReg);
        ins.SourceRegisters = [.. sources.Distinct()];
        return ins;
    }

    /// <summary>The type an operand is read or written as, for converting immediates.</summary>
    static PtxType OperandType(Instruction ins, int index)
    {
        switch (ins.Op)
        {
            case Opcode.Shl or Opcode.Shr when index == 2: return PtxType.U32;
            case Opcode.Bfe when index >= 2: return PtxType.U32;
            case Opcode.Bfi when index >= 3: return PtxType.U32;
            case Opcode.Setp when index == 3: return PtxType.Pred;
            case Opcode.Set when index == 3: return PtxType.Pred;
            case Opcode.Set when index is 1 or 2: return ins.Type2;
            case Opcode.Selp when index == 3: return PtxType.Pred;
            case Opcode.Cvt when index == 1: return ins.Type2;
            case Opcode.Shfl or Opcode.Vote or Opcode.Redux or Opcode.BarWarpSync or Opcode.Bar or Opcode.Lop3 when index >= 1 || ins.Op is Opcode.BarWarpSync or Opcode.Bar:
                if (ins.Op == Opcode.Vote && index == 1) return PtxType.Pred;
                if (ins.Op == Opcode.Redux && index == 1) return ins.Type;
                if (ins.Op == Opcode.Shfl && index == 1) return PtxType.B32;
                if (ins.Op == Opcode.Lop3 && index < 4) return ins.Type;
                return PtxType.U32;
            case Opcode.Mad when ins.Mul == MulMode.Wide && index == 3: return Widen(ins.Type);
            default: return ins.Type;
        }
    }

    internal static PtxType Widen(PtxType t) => t switch
    {
        PtxType.U16 => PtxType.U32, PtxType.S16 => PtxType.S32, PtxType.U32 => PtxType.U64, PtxType.S32 => PtxType.S64,
        _ => t,
    };

    static bool TryCompare(string m, out CompareOp op)
    {
        op = m switch
        {
            "eq" => CompareOp.Eq, "ne" => CompareOp.Ne, "lt" => CompareOp.Lt, "le" => CompareOp.Le, "gt" => CompareOp.Gt,
            "ge" => CompareOp.Ge, "lo" => CompareOp.Lo, "ls" => CompareOp.Ls, "hi" => CompareOp.Hi, "hs" => CompareOp.Hs,
            "equ" => CompareOp.Equ, "neu" => CompareOp.Neu, "ltu" => CompareOp.Ltu, "leu" => CompareOp.Leu,
            "gtu" => CompareOp.Gtu, "geu" => CompareOp.Geu, "num" => CompareOp.Num, "nan" => CompareOp.Nan,
            _ => (CompareOp)255,
        };
        return op != (CompareOp)255;
    }

    static bool TryAtomic(string m, out AtomicOp op)
    {
        op = m switch
        {
            "add" => AtomicOp.Add, "min" => AtomicOp.Min, "max" => AtomicOp.Max, "exch" => AtomicOp.Exch,
            "cas" => AtomicOp.Cas, "and" => AtomicOp.And, "or" => AtomicOp.Or, "xor" => AtomicOp.Xor,
            "inc" => AtomicOp.Inc, "dec" => AtomicOp.Dec, _ => (AtomicOp)255,
        };
        return op != (AtomicOp)255;
    }
}
