// Feeds the backend under test and the reference backend identical host data and reads both results back.
// Every upload lands in its own buffer at a varying element offset (aligned and unaligned), between guard regions
// filled with HostData.Poison: a kernel that reads outside its view gets NaN into its results, and one that writes
// outside it is caught by AssertGuardsIntact. A view may also carry `extra` poisoned elements past the shape it
// holds (the interface lets views be longer than the shape), which must stay untouched too.
using Xunit.Sdk;

namespace Vae.Tests.Support;

public enum Side { Test, Reference }

/// <summary>The same host data on both backends; <see cref="Count"/> elements are data, the rest of the view is poison.</summary>
public readonly record struct Twin<T>(DeviceSpan<T> Test, DeviceSpan<T> Reference, int Count) where T : unmanaged
{
    public DeviceSpan<T> this[Side side] => side == Side.Test ? Test : Reference;
}

public sealed class BackendPair : IDisposable
{
    public const int TailGuard = 16;

    readonly System.Random placement;
    readonly List<DeviceBuffer> buffers = [];
    readonly List<Func<string?>> guardChecks = [];

    public BackendPair(IComputeBackend test, IComputeBackend reference, int seed)
    {
        Test = test;
        Reference = reference;
        placement = new System.Random(seed ^ 0x2545F491);
    }

    public IComputeBackend Test { get; }
    public IComputeBackend Reference { get; }

    public Twin<float> Upload(ReadOnlySpan<float> data, int extra = 0)
    {
        int lead = NextLead();
        return new(Place(Test, data, lead, extra, HostData.Poison), Place(Reference, data, lead, extra, HostData.Poison), data.Length);
    }

    public Twin<int> Upload(ReadOnlySpan<int> data, int extra = 0)
    {
        int lead = NextLead();
        return new(Place(Test, data, lead, extra, HostData.IntPoison), Place(Reference, data, lead, extra, HostData.IntPoison), data.Length);
    }

    /// <summary>An output whose elements all start as poison, so an element the kernel forgets to write shows as NaN.</summary>
    public Twin<float> Output(int count, int extra = 0) => Upload(HostData.Filled(count, HostData.Poison), extra);

    /// <summary>Replaces the data part of a twin on both backends.</summary>
    public void Overwrite(Twin<float> twin, ReadOnlySpan<float> data)
    {
        Test.Upload(data, twin.Test.Slice(0, twin.Count));
        Reference.Upload(data, twin.Reference.Slice(0, twin.Count));
    }

    /// <summary>Calls the primitive on the backend under test, then on the reference.</summary>
    public void Run(Action<IComputeBackend, Side> call)
    {
        call(Test, Side.Test);
        call(Reference, Side.Reference);
    }

    /// <summary>The data part of a twin from both backends.</summary>
    public (float[] Got, float[] Want) Download(Twin<float> twin)
    {
        var got = new float[twin.Count];
        var want = new float[twin.Count];
        Test.Download(twin.Test.Slice(0, twin.Count), got);
        Reference.Download(twin.Reference.Slice(0, twin.Count), want);
        return (got, want);
    }

    public (int[] Got, int[] Want) Download(Twin<int> twin)
    {
        var got = new int[twin.Count];
        var want = new int[twin.Count];
        Test.Download(twin.Test.Slice(0, twin.Count), got);
        Reference.Download(twin.Reference.Slice(0, twin.Count), want);
        return (got, want);
    }

    /// <summary>Throws when any element outside the data part of any upload changed, on either backend.</summary>
    public void AssertGuardsIntact()
    {
        foreach (var check in guardChecks)
        {
            string? problem = check();
            if (problem is not null) throw new XunitException(problem);
        }
    }

    public void Dispose()
    {
        foreach (var buffer in buffers) buffer.Dispose();
        buffers.Clear();
    }

    // Aligned (0 or 16) half of the time, otherwise any offset 1..15 elements past a 64-byte boundary.
    int NextLead() => placement.Next(2) == 0 ? 16 * placement.Next(2) : placement.Next(1, 16);

    unsafe DeviceSpan<T> Place<T>(IComputeBackend backend, ReadOnlySpan<T> data, int lead, int extra, T poison) where T : unmanaged
    {
        int total = lead + data.Length + extra + TailGuard;
        var buffer = backend.Allocate((long)total * sizeof(T));
        buffers.Add(buffer);
        var host = new T[total];
        host.AsSpan().Fill(poison);
        data.CopyTo(host.AsSpan(lead));
        var whole = buffer.AsSpan<T>();
        backend.Upload<T>(host, whole);
        int dataLength = data.Length, dataEnd = lead + data.Length, index = buffers.Count - 1;
        guardChecks.Add(() =>
        {
            var now = new T[total];
            backend.Download(whole, now);
            for (int i = 0; i < total; i++)
            {
                if (i >= lead && i < dataEnd) continue;
                if (!BitwiseEqual(now[i], poison))
                {
                    string where = i < lead ? "before the view" : i < dataEnd + extra ? "in the view past the shape" : "after the view";
                    return $"Upload #{index} on backend '{backend.Name}' (view [{lead}, {dataEnd + extra}) of {total} elements, {dataLength} of data): " +
                           $"guard element {i} ({where}) changed from {poison} to {now[i]}.";
                }
            }
            return null;
        });
        return whole.Slice(lead, data.Length + extra);
    }

    static unsafe bool BitwiseEqual<T>(T a, T b) where T : unmanaged =>
        new ReadOnlySpan<byte>(&a, sizeof(T)).SequenceEqual(new ReadOnlySpan<byte>(&b, sizeof(T)));
}
