// The simulated global memory: separate allocations at distinct, non-adjacent addresses, each with a shadow of which
// bytes have been written, so that out-of-bounds and uninitialised accesses are caught exactly (a GPU allocates in
// large pages and lets both through).
namespace Vae.PtxInterpreter;

internal sealed class Allocation
{
    public required ulong Base;
    public required byte[] Data;
    public required bool[] Initialized;
    public string? Name;
    public long Size => Data.Length;
    public bool Contains(ulong address, int bytes) => address >= Base && address + (ulong)bytes <= Base + (ulong)Data.Length;
}

internal sealed class GlobalMemory
{
    /// <summary>Where allocations start; every allocation is 256-byte aligned and followed by at least 256 unmapped bytes.</summary>
    public const ulong FirstAddress = 0x7f00_0000_0000;
    const ulong Granularity = 256;

    readonly List<Allocation> _allocations = []; // sorted by Base
    ulong _next = FirstAddress;
    Allocation? _last;

    public Allocation Allocate(long bytes, string? name = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        if (bytes > int.MaxValue) throw new ArgumentOutOfRangeException(nameof(bytes), bytes, "the interpreter's allocations are limited to 2 GiB each");
        var a = new Allocation { Base = _next, Data = new byte[bytes], Initialized = new bool[bytes], Name = name };
        _next += ((ulong)bytes + Granularity - 1) / Granularity * Granularity + Granularity;
        _allocations.Add(a);
        return a;
    }

    public void Free(ulong address)
    {
        int i = _allocations.FindIndex(a => a.Base == address);
        if (i < 0) throw new ArgumentException($"0x{address:x} is not the start of a live allocation (double free, or an offset pointer?)", nameof(address));
        if (_last == _allocations[i]) _last = null;
        _allocations.RemoveAt(i);
    }

    /// <summary>The allocation holding [address, address+bytes), or null.</summary>
    public Allocation? Find(ulong address, int bytes)
    {
        var last = _last;
        if (last is not null && last.Contains(address, bytes)) return last;
        int lo = 0, hi = _allocations.Count - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            var a = _allocations[mid];
            if (address < a.Base) hi = mid - 1;
            else if (address >= a.Base + (ulong)a.Size) lo = mid + 1;
            else
            {
                if (!a.Contains(address, bytes)) return null;
                _last = a;
                return a;
            }
        }
        return null;
    }

    /// <summary>Says where an invalid address lies relative to the nearest allocation.</summary>
    public string Describe(ulong address, int bytes)
    {
        Allocation? before = null, after = null;
        foreach (var a in _allocations)
        {
            if (a.Base <= address) before = a;
            else { after ??= a; }
        }
        if (before is not null && address < before.Base + (ulong)before.Size)
            return $"the {bytes}-byte access at 0x{address:x} runs {address + (ulong)bytes - before.Base - (ulong)before.Size} byte(s) past the end of {Label(before)}";
        if (before is not null)
            return $"the {bytes}-byte access at 0x{address:x} starts {address - before.Base - (ulong)before.Size} byte(s) past the end of {Label(before)}" +
                   (after is not null ? $" and {after.Base - address} byte(s) before {Label(after)}" : "");
        if (after is not null) return $"0x{address:x} is {after.Base - address} byte(s) before {Label(after)}";
        return $"0x{address:x} is not inside any allocation (there are none)";
    }

    static string Label(Allocation a) => $"{(a.Name is null ? "allocation" : a.Name)} [0x{a.Base:x}, +{a.Size})";

    public Allocation Require(ulong address, long bytes, string what)
    {
        var a = bytes <= int.MaxValue ? Find(address, (int)bytes) : null;
        if (a is null) throw new ArgumentException($"{what}: {Describe(address, (int)Math.Min(bytes, int.MaxValue))}");
        return a;
    }
}
