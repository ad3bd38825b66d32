// Special registers in 3-D grids and blocks whose thread count is not a multiple of 32 (a partial last warp):
// %tid, %ntid, %ctaid, %nctaid (.x/.y/.z), %laneid and %warpid, plus the launch statistics' block and warp counts.
using Vae.PtxInterpreter.Tests.Support;
using Xunit;

namespace Vae.PtxInterpreter.Tests.Execution;

public class SpecialRegisterTests
{
    [Theory]
    [InlineData(3, 2, 2, 5, 3, 3)]    // 45 threads per block: warps of 32 and 13
    [InlineData(2, 1, 1, 33, 1, 1)]   // a warp of 1
    [InlineData(1, 2, 3, 4, 4, 4)]    // exactly 2 warps
    [InlineData(2, 2, 1, 7, 5, 2)]    // 70 threads: 32, 32, 6
    [InlineData(1, 1, 2, 1, 1, 64)]   // threads along z only
    public void Every_thread_sees_its_own_indices_lane_and_warp(int gx, int gy, int gz, int bx, int by, int bz)
    {
        var grid = new Dim3(gx, gy, gz);
        var block = new Dim3(bx, by, bz);
        int perBlock = bx * by * bz;
        int total = perBlock * gx * gy * gz;
        var gpu = new PtxMachine();
        DevicePointer output = gpu.Allocate(14L * 4 * total);
        gpu.Memset32(output, 0xFFFFFFFF, 14L * total);

        LaunchStatistics s = gpu.Launch(TestKernels.Load("execution/special_registers.ptx"), "special_registers", grid,
            block, 0, output);

        uint[] got = gpu.Read<uint>(output, 14 * total);
        for (int cz = 0; cz < gz; cz++)
        for (int cy = 0; cy < gy; cy++)
        for (int cx = 0; cx < gx; cx++)
        for (int tz = 0; tz < bz; tz++)
        for (int ty = 0; ty < by; ty++)
        for (int tx = 0; tx < bx; tx++)
        {
            int linearThread = (tz * by + ty) * bx + tx;
            int linearBlock = (cz * gy + cy) * gx + cx;
            int g = linearBlock * perBlock + linearThread;
            // The warp of a thread is made of consecutive linear thread indices (x fastest, then y, then z).
            uint[] expected =
            {
                (uint)tx, (uint)ty, (uint)tz, (uint)bx, (uint)by, (uint)bz,
                (uint)cx, (uint)cy, (uint)cz, (uint)gx, (uint)gy, (uint)gz,
                (uint)(linearThread % 32), (uint)(linearThread / 32),
            };
            uint[] actual = got.AsSpan(14 * g, 14).ToArray();
            Assert.True(expected.SequenceEqual(actual),
                $"thread ({tx},{ty},{tz}) of block ({cx},{cy},{cz}): expected [{string.Join(",", expected)}], got [{string.Join(",", actual)}]");
        }
        Assert.Equal(grid.Volume, s.Blocks);
        Assert.Equal((perBlock + 31) / 32, s.WarpsPerBlock);
    }
}
