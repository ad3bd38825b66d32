// Runs one thread block (CTA) of a launch: its warps in lockstep over their active lanes (divergent lanes reconverge by
// running the lowest program counter first), block barriers, shared and local memory, and the fault checks.
// Warps run one after another until each blocks at a barrier or exits; barriers release when every non-exited thread
// of the block has arrived.
using System.Buffers.Binary;
using System.Numerics;

namespace Vae.PtxInterpreter;

internal sealed partial class BlockExecutor
{
    internal const ulong SharedWindow = 0x1000_0000_0000;
    internal const ulong LocalWindow = 0x2000_0000_0000;
    const ulong WindowSize = 0x1_0000_0000;

    sealed class Warp
    {
        public int Index;
        public uint Exists, Exited, Blocked;
        public bool Diverged;
        public int Pc;
        public readonly int[] Pcs = new int[32];
        public ulong[] R = [];
        public uint[] Init = [];
        public int WarpSync;
        public readonly int[] TidX = new int[32], TidY = new int[32], TidZ = new int[32];
        public uint Live => Exists & ~Exited;
    }

    struct BarrierState
    {
        public int Arrived;
        public int Count; // 0: all non-exited threads
        public int Pc;
        public uint[] Waiting; // per warp: the lanes blocked at this barrier
    }

    // Race-detection shadow of one shared byte.
    struct Shadow
    {
        public int Writer, WriterEpoch, WriterWarpSync, WriterPc; // Writer/Reader: linear thread id + 1, 0 for none
        public int Reader, ReaderEpoch, ReaderWarpSync, ReaderPc;
        public byte Flags;
    }

    const byte Initialized = 1, ManyReaders = 2, WriterAtomic = 4, ReadersMixedWarps = 8;

    readonly PtxKernel _kernel;
    readonly Instruction[] _code;
    readonly Dim3 _grid, _blockDim;
    readonly int _threads;
    readonly Warp[] _warps;
    readonly byte[] _shared;
    readonly Shadow[] _shadow;
    int _sharedTouched;
    readonly int _dynamicShared;
    readonly byte[] _params;
    readonly ulong[] _symbols;
    readonly byte[] _local;
    readonly bool[] _localInit;
    readonly LaunchStatistics _stats;
    readonly BarrierState[] _barriers = new BarrierState[16];
    readonly GlobalMemory _memory;
    readonly bool _checkGlobalInit, _checkRaces;
    readonly long _maxWarpInstructions;
    Dim3 _blockIdx;
    int _epoch;
    int _exitedThreads;
    readonly ulong[] _scratch = new ulong[32 * 4];

    public BlockExecutor(PtxMachine machine, PtxKernel kernel, Dim3 grid, Dim3 block, int sharedBytes, int dynamicShared,
        byte[] parameters, ulong[] symbols, LaunchStatistics stats)
    {
        _memory = machine.Memory;
        _kernel = kernel;
        _code = kernel.Code;
        _grid = grid;
        _blockDim = block;
        _threads = (int)block.Volume;
        _shared = new byte[sharedBytes];
        _shadow = new Shadow[sharedBytes];
        _dynamicShared = dynamicShared;
        _params = parameters;
        _symbols = symbols;
        _local = new byte[(long)kernel.LocalBytes * _threads];
        _localInit = new bool[_local.Length];
        _stats = stats;
        _checkGlobalInit = machine.Options.CheckUninitializedGlobal;
        _checkRaces = machine.Options.DetectSharedRaces;
        _maxWarpInstructions = machine.Options.MaxWarpInstructionsPerLaunch;
        int warps = (_threads + 31) / 32;
        _warps = new Warp[warps];
        for (int w = 0; w < warps; w++)
        {
            var warp = new Warp { Index = w, R = new ulong[kernel.RegisterCount * 32], Init = new uint[kernel.RegisterCount] };
            for (int l = 0; l < 32; l++)
            {
                int t = w * 32 + l;
                if (t >= _threads) break;
                warp.Exists |= 1u << l;
                warp.TidX[l] = t % block.X;
                warp.TidY[l] = t / block.X % block.Y;
                warp.TidZ[l] = t / (block.X * block.Y);
            }
            _warps[w] = warp;
        }
        for (int i = 0; i < _barriers.Length; i++) _barriers[i].Waiting = new uint[warps];
    }

    public void Run(Dim3 blockIdx)
    {
        _blockIdx = blockIdx;
        _epoch = 1;
        _exitedThreads = 0;
        for (int i = 0; i < _barriers.Length; i++)
        {
            _barriers[i].Arrived = 0;
            _barriers[i].Count = 0;
            Array.Clear(_barriers[i].Waiting);
        }
        Array.Clear(_shadow, 0, _sharedTouched);
        _sharedTouched = 0;
        Array.Clear(_localInit);
        foreach (var w in _warps)
        {
            w.Exited = 0;
            w.Blocked = 0;
            w.Diverged = false;
            w.Pc = 0;
            w.WarpSync = 1;
            Array.Clear(w.Init);
        }
        while (true)
        {
            bool ran = false;
            foreach (var w in _warps)
            {
                if ((w.Live & ~w.Blocked) == 0) continue;
                RunWarp(w);
                ran = true;
            }
            if (ran) continue;
            if (_exitedThreads == _threads) return;
            if (!TryCompleteBarriers()) ThrowDeadlock();
        }
    }

    // ---- scheduling ------------------------------------------------------------------------------------------

    void RunWarp(Warp w)
    {
        var stats = _stats;
        while (true)
        {
            uint runnable = w.Live & ~w.Blocked;
            if (runnable == 0) return;
            int pc;
            uint group;
            if (!w.Diverged)
            {
                pc = w.Pc;
                group = runnable;
            }
            else
            {
                pc = int.MaxValue;
                for (uint m = runnable; m != 0; m &= m - 1)
                {
                    int l = BitOperations.TrailingZeroCount(m);
                    if (w.Pcs[l] < pc) pc = w.Pcs[l];
                }
                group = 0;
                for (uint m = runnable; m != 0; m &= m - 1)
                {
                    int l = BitOperations.TrailingZeroCount(m);
                    if (w.Pcs[l] == pc) group |= 1u << l;
                }
                if (group == runnable && w.Blocked == 0)
                {
                    w.Diverged = false;
                    w.Pc = pc;
                }
            }
            var ins = _code[pc];
            if (++stats.WarpInstructions > _maxWarpInstructions)
                throw Fault(PtxFaultKind.StepLimit, ins, w, BitOperations.TrailingZeroCount(group),
                    $"the launch executed more than {_maxWarpInstructions} warp instructions (runaway loop?); raise PtxMachineOptions.MaxWarpInstructionsPerLaunch if this is expected");
            uint exec = group;
            if (ins.GuardReg >= 0)
            {
                CheckInit(w, ins, ins.GuardReg, group);
                uint truth = 0;
                var r = w.R;
                int baseIndex = ins.GuardReg * 32;
                for (uint m = group; m != 0; m &= m - 1)
                {
                    int l = BitOperations.TrailingZeroCount(m);
                    if ((r[baseIndex + l] & 1) != 0) truth |= 1u << l;
                }
                exec = ins.GuardNegated ? group & ~truth : truth;
            }
            stats.ThreadInstructions += BitOperations.PopCount(exec);
            foreach (int reg in ins.SourceRegisters) CheckInit(w, ins, reg, exec);
            Execute(w, ins, pc, group, exec);
        }
    }

    void Advance(Warp w, uint group, int pc)
    {
        if (!w.Diverged) { w.Pc = pc + 1; return; }
        for (uint m = group; m != 0; m &= m - 1) w.Pcs[BitOperations.TrailingZeroCount(m)] = pc + 1;
    }

    void Branch(Warp w, uint group, uint taken, int pc, int target)
    {
        if (!w.Diverged)
        {
            if (taken == group) { w.Pc = target; return; }
            if (taken == 0) { w.Pc = pc + 1; return; }
            for (uint m = w.Live; m != 0; m &= m - 1) w.Pcs[BitOperations.TrailingZeroCount(m)] = w.Pc;
            w.Diverged = true;
        }
        for (uint m = group; m != 0; m &= m - 1)
        {
            int l = BitOperations.TrailingZeroCount(m);
            w.Pcs[l] = (taken >> l & 1) != 0 ? target : pc + 1;
        }
    }

    void ExitLanes(Warp w, uint group, uint exec, int pc)
    {
        Advance(w, group & ~exec, pc);
        if (exec == 0) return;
        if (!w.Diverged && exec != group)
        {
            for (uint m = w.Live; m != 0; m &= m - 1) w.Pcs[BitOperations.TrailingZeroCount(m)] = w.Pc;
            w.Diverged = true;
        }
        w.Exited |= exec;
        _exitedThreads += BitOperations.PopCount(exec);
        TryCompleteBarriers();
    }

    // ---- barriers --------------------------------------------------------------------------------------------

    void EnsureDiverged(Warp w)
    {
        if (w.Diverged) return;
        for (uint m = w.Live; m != 0; m &= m - 1) w.Pcs[BitOperations.TrailingZeroCount(m)] = w.Pc;
        w.Diverged = true;
    }

    void ExecuteBarrier(Warp w, Instruction ins, int pc, uint group, uint exec)
    {
        if (ins.Aligned && exec != w.Live)
        {
            uint missing = w.Live & ~exec;
            throw Fault(PtxFaultKind.DivergentBarrier, ins, w, BitOperations.TrailingZeroCount(exec == 0 ? group : exec),
                $"{(ins.Barrier == BarrierMode.Arrive ? "bar.arrive" : "bar.sync")} is executed by lanes {Lanes(exec)} of warp {w.Index} while its lanes {Lanes(missing)} " +
                "(not exited) are elsewhere or predicated off: every non-exited thread of a warp must execute an .aligned barrier together " +
                "(barrier.sync without .aligned allows divergence)");
        }
        if (exec == 0) { Advance(w, group, pc); return; }
        int lane0 = BitOperations.TrailingZeroCount(exec);
        int id = (int)Src(w, ins.Operands[0], lane0);
        int count = ins.Operands.Length > 1 ? (int)Src(w, ins.Operands[1], lane0) : 0;
        for (uint m = exec; m != 0; m &= m - 1)
        {
            int l = BitOperations.TrailingZeroCount(m);
            if ((int)Src(w, ins.Operands[0], l) != id || (ins.Operands.Length > 1 && (int)Src(w, ins.Operands[1], l) != count))
                throw Fault(PtxFaultKind.DivergentBarrier, ins, w, l, "the barrier number or thread count differs between lanes of one warp");
        }
        if (id is < 0 or > 15) throw Fault(PtxFaultKind.InvalidAddress, ins, w, lane0, $"barrier number {id} is outside 0..15");
        if (count != 0 && (count % 32 != 0 || count > _warps.Length * 32))
            throw Fault(PtxFaultKind.DivergentBarrier, ins, w, lane0, $"barrier thread count {count} must be a multiple of 32 and at most the block's {_warps.Length * 32}");
        ref var b = ref _barriers[id];
        if (b.Arrived > 0 && b.Count != count)
            throw Fault(PtxFaultKind.DivergentBarrier, ins, w, lane0, $"barrier {id} is used with thread count {count} while it is waiting with count {b.Count}");
        if (b.Arrived == 0) b.Pc = pc;
        b.Count = count;
        b.Arrived += BitOperations.PopCount(exec);
        if (exec != group || group != w.Live) EnsureDiverged(w);
        Advance(w, group, pc);
        if (ins.Barrier == BarrierMode.Sync)
        {
            w.Blocked |= exec;
            b.Waiting[w.Index] |= exec;
        }
        TryCompleteBarriers();
    }

    bool TryCompleteBarriers()
    {
        bool released = false;
        for (int id = 0; id < _barriers.Length; id++)
        {
            ref var b = ref _barriers[id];
            if (b.Arrived == 0) continue;
            int expected = b.Count != 0 ? b.Count : _threads - _exitedThreads;
            if (b.Arrived < expected) continue;
            foreach (var w in _warps)
            {
                w.Blocked &= ~b.Waiting[w.Index];
                b.Waiting[w.Index] = 0;
            }
            b.Arrived = 0;
            b.Count = 0;
            _epoch++;
            _stats.BarriersCompleted++;
            released = true;
        }
        return released;
    }

    void ThrowDeadlock()
    {
        var parts = new List<string>();
        Warp? first = null;
        int firstBarrier = 0;
        for (int id = 0; id < _barriers.Length; id++)
            foreach (var w in _warps)
            {
                uint waiting = _barriers[id].Waiting[w.Index];
                if (waiting == 0) continue;
                if (first is null) { first = w; firstBarrier = id; }
                parts.Add($"warp {w.Index} lanes {Lanes(waiting)} wait at barrier {id} (line {_code[_barriers[id].Pc].Line})");
            }
        var arrived = string.Join(", ", _barriers.Select((b, i) => (b, i)).Where(x => x.b.Arrived > 0)
            .Select(x => $"barrier {x.i}: {x.b.Arrived} of {(x.b.Count != 0 ? x.b.Count : _threads - _exitedThreads)} threads arrived"));
        first ??= _warps[0];
        throw Fault(PtxFaultKind.BarrierDeadlock, _code[_barriers[firstBarrier].Pc], first,
            BitOperations.TrailingZeroCount(_barriers[firstBarrier].Waiting[first.Index] | (first.Blocked == 0 ? first.Exists : 0)),
            $"no thread can proceed: {string.Join("; ", parts)}; {arrived}; {_exitedThreads} of {_threads} threads exited");
    }

    static string Lanes(uint mask)
    {
        var sb = new System.Text.StringBuilder();
        int l = 0;
        while (l < 32)
        {
            if ((mask >> l & 1) == 0) { l++; continue; }
            int start = l;
            while (l < 32 && (mask >> l & 1) != 0) l++;
            if (sb.Length > 0) sb.Append(',');
            sb.Append(start == l - 1 ? $"{start}" : $"{start}-{l - 1}");
        }
        return sb.Length == 0 ? "(none)" : sb.ToString();
    }

    // ---- faults ----------------------------------------------------------------------------------------------

    PtxFaultException Fault(PtxFaultKind kind, Instruction ins, Warp w, int lane, string detail) =>
        new(kind, _kernel.Name, _kernel.Module.SourceName, ins.Line, ins.Text,
            new Dim3(w.TidX[lane], w.TidY[lane], w.TidZ[lane]), _blockIdx, detail);

    void CheckInit(Warp w, Instruction ins, int reg, uint lanes)
    {
        uint missing = lanes & ~w.Init[reg];
        if (missing == 0) return;
        int lane = BitOperations.TrailingZeroCount(missing);
        throw Fault(PtxFaultKind.UninitializedRegister, ins, w, lane,
            $"register {_kernel.RegisterNames[reg]} is read before it was written (lanes {Lanes(missing)} of warp {w.Index})");
    }
}
