// Faults of reading state that was never written: a register set only under a predicate, a shared word no thread
// wrote, and global memory allocated but not (fully) written by the host.
using Vae.PtxInterpreter.Tests.Support;
using Xunit;
using static Vae.PtxInterpreter.Tests.Faults.FaultAssert;

namespace Vae.PtxInterpreter.Tests.Faults;

public class UninitializedReadTests
{
    private const string File = "faults/uninitialized.ptx";

    [Fact]
    public void Register_never_written_in_one_thread_faults_there()
    {
        var gpu = new PtxMachine();

        PtxFaultException ex = Throws(() => gpu.Launch(TestKernels.Load(File), "uninitialized_register", new Dim3(1),
            new Dim3(32), 0, gpu.Allocate(32 * 4)));

        Matches(ex, PtxFaultKind.UninitializedRegister, "uninitialized_register", LineOf(File, "uninitialized_register"),
            "st.global", block: new Dim3(0, 0, 0), thread: new Dim3(3, 0, 0));
    }

    [Fact]
    public void Shared_word_never_written_faults_when_read()
    {
        var gpu = new PtxMachine();

        PtxFaultException ex = Throws(() => gpu.Launch(TestKernels.Load(File), "uninitialized_shared", new Dim3(1),
            new Dim3(32), 0, gpu.Allocate(32 * 4)));

        Matches(ex, PtxFaultKind.UninitializedShared, "uninitialized_shared", LineOf(File, "uninitialized_shared"),
            "ld.shared", block: new Dim3(0, 0, 0), thread: new Dim3(31, 0, 0));
    }

    [Fact]
    public void Global_word_the_host_did_not_write_faults_when_read()
    {
        var gpu = new PtxMachine();
        DevicePointer input = gpu.Allocate(32 * 4);
        gpu.Write<uint>(input, Enumerable.Range(0, 31).Select(i => (uint)i).ToArray());   // all but the last word

        PtxFaultException ex = Throws(() => gpu.Launch(TestKernels.Load(File), "double_values", new Dim3(1),
            new Dim3(32), 0, input, gpu.Allocate(32 * 4)));

        Matches(ex, PtxFaultKind.UninitializedGlobal, "double_values", LineOf(File, "double_values"),
            "ld.global", block: new Dim3(0, 0, 0), thread: new Dim3(31, 0, 0));
    }

    [Fact]
    public void Global_allocation_never_written_faults_on_the_first_read()
    {
        var gpu = new PtxMachine();

        PtxFaultException ex = Throws(() => gpu.Launch(TestKernels.Load(File), "double_values", new Dim3(1),
            new Dim3(32), 0, gpu.Allocate(32 * 4), gpu.Allocate(32 * 4)));

        MatchesAnyThread(ex, PtxFaultKind.UninitializedGlobal, "double_values", new[] { LineOf(File, "double_values") },
            "ld.global", new Dim3(0, 0, 0), new Dim3(32), 0, 31);
    }

    [Fact]
    public void Global_memory_written_by_a_kernel_is_initialized_for_the_next()
    {
        var gpu = new PtxMachine();
        DevicePointer input = gpu.Allocate(32 * 4);
        gpu.Memset32(input, 21, 32);
        DevicePointer middle = gpu.Allocate(32 * 4), output = gpu.Allocate(32 * 4);
        PtxModule module = TestKernels.Load(File);

        gpu.Launch(module, "double_values", new Dim3(1), new Dim3(32), 0, input, middle);
        gpu.Launch(module, "double_values", new Dim3(1), new Dim3(32), 0, middle, output);

        Assert.All(gpu.Read<uint>(output, 32), v => Assert.Equal(84u, v));
    }
}
