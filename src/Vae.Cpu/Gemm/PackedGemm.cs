// The packed, register-blocked GEMM of the CPU backend (BLIS / GotoBLAS style):
//   C (m, n) = alpha * op(A) (m, k) * op(B) (k, n) + beta * C, row-major.
// Blocking, from the outside in:
//   macro blocks  MacroM x MacroK of op(A) and MacroK x MacroN of op(B), packed into shared panel buffers (sized
//                 for the 32 MiB L3; a VAE layer is a single macro block), each panel once, by whichever work item
//                 needs it first (the others wait for it or pack other panels meanwhile): one pool run per macro block;
//   work items    rectangles of MR x NR tiles of C, spread over the WorkerPool; the columns of one item, at KC depth,
//                 stay in the 1 MiB L2;
//   k blocks      of at most KC: one packed A micro-panel (KC x MR) stays in L1 while the kernel sweeps the item's
//                 B micro-panels (KC x NR);
//   (an untransposed B is read in place where its panels are whole vectors; see ReadsBInPlace)
//   micro-kernel  one MR x NR tile in registers (GemmMicroKernel: 8 x 48 with AVX-512, GemmMicroKernel256: 6 x 16).
// Orientation: when the padding of partial tiles wastes clearly less that way (n = 4 against m = 128, say), the
// product runs transposed, C^T = op(B)^T op(A)^T, with C^T's tiles written back transposed into C.
// Every C element is computed by exactly one tile with the same k order (macro blocks, then k blocks, in order),
// whatever the thread count, so results are bit-identical for any number of threads.
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Vae.Cpu.Threading;

namespace Vae.Cpu.Gemm;

internal sealed unsafe class PackedGemm : IDisposable
{
    /// <summary>Depth of one k block: a KC x MR A micro-panel (8 KiB) stays in L1.</summary>
    internal const int KC = 256;

    /// <summary>Rows of op(A) per macro block (a multiple of both kernels' MR).</summary>
    internal const int MacroM = 1536;

    /// <summary>Columns of op(B) per macro block (a multiple of both kernels' NR).</summary>
    internal const int MacroN = 1536;

    /// <summary>Depth of a macro block.</summary>
    internal const int MacroK = 1024;

    /// <summary>Bytes of B panels one work item sweeps per k block; sized to stay in the 1 MiB L2.</summary>
    const int ItemBBytes = 512 * 1024;

    /// <summary>Below this many FLOPs (2 m n k) a GEMM runs on the calling thread only.</summary>
    internal const double ParallelMinFlops = 200_000;

    /// <summary>Smallest work item worth handing to another thread, in FLOPs.</summary>
    const double MinItemFlops = 400_000;

    static readonly bool Wide = Vector512.IsHardwareAccelerated;

    /// <summary>Panel states of one macro block: at most MacroM / 6 A panels and MacroN / 16 B panels.</summary>
    const int MaxPanels = 512;

    const int Unpacked = 0, Packing = 1, Packed = 2;

    readonly Lock gate = new();
    int* panelStates = (int*)NativeMemory.AlignedAlloc(MaxPanels * sizeof(int), 64);
    float* packA;
    long packACapacity;
    float* packB;
    long packBCapacity;

    /// <summary>Rows per tile of the kernel in use.</summary>
    internal static int MR => Wide ? GemmMicroKernel.MR : GemmMicroKernel256.MR;

    /// <summary>Columns per full tile of the kernel in use.</summary>
    internal static int NR => Wide ? GemmMicroKernel.NR : GemmMicroKernel256.NR;

    static int Lanes => Wide ? GemmMicroKernel.Lanes : GemmMicroKernel256.Lanes;

    /// <summary>
    /// c (m, n) = alpha * op(a) * op(b) + beta * c with dense row-major operands: a is (m, k), or (k, m) when transA;
    /// b is (k, n), or (n, k) when transB. beta = 0 does not read c. Arguments must already be validated.
    /// </summary>
    public void Multiply(WorkerPool pool, bool transA, bool transB, int m, int n, int k, float alpha, float* a, float* b, float beta, float* c)
    {
        if (m == 0 || n == 0) return;
        if (k == 0 || alpha == 0f)
        {
            ScaleOnly(c, (long)m * n, beta);
            return;
        }

        if (UsesDotKernel(transA, n, k))
        {
            lock (gate) MultiplyDot(pool, transB, m, n, k, alpha, a, b, beta, c);
            GC.KeepAlive(this);
            return;
        }

        int ldc = n;
        bool transposed = PreferTransposed(m, n, k);
        if (transposed)
        {
            // C^T (n, m) = op(B)^T (n, k) * op(A)^T (k, m): b plays A with the opposite transpose flag, and vice versa
            float* swap = a;
            a = b;
            b = swap;
            (transA, transB) = (!transB, !transA);
            (m, n) = (n, m);
        }

        int mr = MR, nr = NR;
        int macroM = Math.Min(m, MacroM), macroN = Math.Min(n, MacroN), macroK = Math.Min(k, MacroK);
        bool parallel = pool.ThreadCount > 1 && 2.0 * m * n * k >= ParallelMinFlops;

        lock (gate)
        {
            Reserve(ref packA, ref packACapacity, (long)DivUp(macroM, mr) * mr * macroK);
            Reserve(ref packB, ref packBCapacity, (long)DivUp(macroN, nr) * nr * macroK);

            var job = new GemmJob
            {
                A = a, B = b, C = c,
                Lda = transA ? m : k, Ldb = transB ? k : n, Ldc = ldc,
                CRowStride = transposed ? 1 : ldc, CColStride = transposed ? ldc : 1, TransposedC = transposed,
                TransA = transA, TransB = transB,
                Alpha = alpha, Beta = beta,
                PackA = packA, PackB = packB, PanelStates = panelStates,
            };
            // macro blocks: for each column block, each depth block packs B once; A is packed per row block
            for (int j0 = 0; j0 < n; j0 += MacroN)
            {
                for (int p0 = 0; p0 < k; p0 += MacroK)
                {
                    for (int i0 = 0; i0 < m; i0 += MacroM)
                    {
                        job.I0 = i0; job.Rows = Math.Min(MacroM, m - i0);
                        job.J0 = j0; job.Cols = Math.Min(MacroN, n - j0);
                        job.P0 = p0; job.Depth = Math.Min(MacroK, k - p0);
                        job.FirstStore = p0 > 0 ? GemmStore.Accumulate : beta == 0f ? GemmStore.Overwrite : beta == 1f ? GemmStore.Accumulate : GemmStore.ScaleAndAdd;
                        job.PackBPanels = i0 == 0;
                        RunMacroBlock(pool, ref job, parallel);
                    }
                }
            }
        }
        GC.KeepAlive(this);   // the finalizer frees the panel buffers; not before the last kernel has read them
    }

    /// <summary>Rows of C per work item of the dot-product path.</summary>
    const int DotItemRows = 4 * GemmDotKernel.Rows;

    /// <summary>
    /// True when the product runs as dot products along k (GemmDotKernel): an untransposed A against an n of 17 .. 24, where
    /// the tiles would leave lanes idle or need a tail permute and packing A would transpose the big operand.
    /// </summary>
    internal static bool UsesDotKernel(bool transA, int n, int k) => Wide && !transA && n >= 17 && n <= 24 && k >= 64;

    /// <summary>c (m, n) = alpha * a (m, k) * op(b) + beta * c by dot products; op(b)^T is b when transB, else copied transposed into packB.</summary>
    void MultiplyDot(WorkerPool pool, bool transB, int m, int n, int k, float alpha, float* a, float* b, float beta, float* c)
    {
        float* bt = b;
        if (!transB)
        {
            // bt (n, k) = b (k, n) transposed, in 8 x 8 blocks; the last 8 columns (n >= 17) as a block of their own,
            // which rewrites some rows of bt with the same values rather than copying the partial block one by one
            Reserve(ref packB, ref packBCapacity, (long)n * k);
            bt = packB;
            for (int j0 = 0; j0 < n; j0 += 8)
            {
                int j = Math.Min(j0, n - 8);
                int p = 0;
                for (; p + 8 <= k; p += 8) GemmPacking.Transpose8x8(b + (long)p * n + j, n, bt + (long)j * k + p, k, 1f);
                for (; p < k; p++)
                {
                    for (int jj = 0; jj < 8; jj++) bt[(long)(j + jj) * k + p] = b[(long)p * n + j + jj];
                }
            }
        }
        var job = new DotJob { A = a, Bt = bt, C = c, M = m, N = n, K = k, Alpha = alpha, Beta = beta };
        int items = DivUp(m, DotItemRows);
        if (pool.ThreadCount > 1 && 2.0 * m * n * k >= ParallelMinFlops && items > 1) pool.Run(&DotItem, &job, items);
        else
        {
            for (int i = 0; i < items; i++) DotItem(&job, i);
        }
    }

    /// <summary>Work item of the dot-product path: rows [DotItemRows * item, + DotItemRows) of C, all columns.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void DotItem(void* context, int item)
    {
        var job = (DotJob*)context;
        int m = job->M, n = job->N, k = job->K;
        int rowEnd = Math.Min(m, (item + 1) * DotItemRows);
        for (int i = item * DotItemRows; i < rowEnd; i += GemmDotKernel.Rows)
        {
            int rows = Math.Min(GemmDotKernel.Rows, rowEnd - i);
            for (int j = 0; j < n; j += GemmDotKernel.Cols)
            {
                int cols = Math.Min(GemmDotKernel.Cols, n - j);
                GemmDotKernel.Tile(k, job->A + (long)i * k, k, job->Bt + (long)j * k, k, job->C + (long)i * n + j, n, rows, cols, job->Alpha, job->Beta);
            }
        }
    }

    /// <summary>The dot-product path's work, shared by the pool's threads through a pointer to the caller's stack.</summary>
    struct DotJob
    {
        public float* A, Bt, C;
        public int M, N, K;
        public float Alpha, Beta;
    }

    static void RunMacroBlock(WorkerPool pool, ref GemmJob job, bool parallel)
    {
        job.RowPanels = DivUp(job.Rows, MR);
        job.ColPanels = DivUp(job.Cols, NR);
        int kBlocks = DivUp(job.Depth, KC);
        job.KBlock = DivUp(job.Depth, kBlocks);
        ChooseItems(ref job, parallel ? pool.ThreadCount : 1);

        // A panels of this row block are new; B panels are new unless an earlier row block packed them
        new Span<int>(job.PanelStates, job.RowPanels).Fill(Unpacked);
        new Span<int>(job.PanelStates + job.RowPanels, job.ColPanels).Fill(job.PackBPanels ? Unpacked : Packed);
        fixed (GemmJob* context = &job)
        {
            context->AInPlace = AInPlaceFor(context);
            if (parallel) pool.Run(&ComputeItem, context, job.ItemCount);
            else
            {
                for (int i = 0; i < job.ItemCount; i++) ComputeItem(context, i);
            }
        }
    }

    /// <summary>
    /// Splits the macro block's tiles into rectangles of ItemRowPanels x ItemColPanels tiles: the columns limited so
    /// that an item's B panels stay in L2, then halved along the longer side until there are about 4 items per thread
    /// (dynamic claiming then balances the load; more items measured slower, as threads then wait more often for a
    /// panel the other is packing) or items would become too small to be worth a hand-over.
    /// </summary>
    static void ChooseItems(ref GemmJob job, int threads)
    {
        int mr = MR, nr = NR;
        int rowPanels = job.RowPanels, colPanels = Math.Max(1, Math.Min(job.ColPanels, ItemBBytes / (nr * job.KBlock * sizeof(float))));
        int target = threads == 1 ? 1 : 4 * threads;
        while (DivUp(job.RowPanels, rowPanels) * DivUp(job.ColPanels, colPanels) < target)
        {
            int nextRows = rowPanels, nextCols = colPanels;
            if ((rowPanels * mr >= colPanels * nr && rowPanels > 1) || colPanels == 1) nextRows = DivUp(rowPanels, 2);
            else nextCols = DivUp(colPanels, 2);
            if ((nextRows == rowPanels && nextCols == colPanels) || 2.0 * nextRows * mr * nextCols * nr * job.Depth < MinItemFlops) break;
            rowPanels = nextRows;
            colPanels = nextCols;
        }
        job.ItemRowPanels = rowPanels;
        job.ItemColPanels = colPanels;
        job.ItemRowBlocks = DivUp(job.RowPanels, rowPanels);
        job.ItemCount = job.ItemRowBlocks * DivUp(job.ColPanels, colPanels);
    }

    /// <summary>
    /// Makes panels [first, last) ready (A panels are numbered 0 .. RowPanels, B panels follow): packs each one nobody
    /// has started, then waits for those another thread is packing. Packing is deterministic, so who packs is irrelevant.
    /// </summary>
    static void EnsurePacked(GemmJob* job, int first, int last)
    {
        bool waiting = false;
        for (int panel = first; panel < last; panel++)
        {
            ref int state = ref job->PanelStates[panel];
            if (Volatile.Read(ref state) == Packed) continue;
            if (Interlocked.CompareExchange(ref state, Packing, Unpacked) == Unpacked)
            {
                Pack(job, panel);
                Volatile.Write(ref state, Packed);
            }
            else waiting = true;
        }
        if (!waiting) return;
        for (int panel = first; panel < last; panel++) SpinThenSleep.UntilEqual(ref job->PanelStates[panel], Packed);
    }

    /// <summary>Packs A panel <paramref name="panel"/> of the macro block, or B panel panel - RowPanels.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Pack(GemmJob* job, int panel)
    {
        int mr = MR;
        if (panel < job->RowPanels)
        {
            int i = panel * mr;
            if (ReadsAInPlace(job, Math.Min(mr, job->Rows - i))) return;
            float* a = job->TransA ? job->A + (long)job->P0 * job->Lda : job->A + job->P0;
            GemmPacking.PackA(a, job->Lda, job->TransA, job->I0 + i, Math.Min(mr, job->Rows - i), job->Depth, mr, job->AInPlace ? 1f : job->Alpha,
                job->PackA + (long)panel * mr * job->Depth);
        }
        else
        {
            panel -= job->RowPanels;
            int j = panel * NR;
            int cols = Math.Min(NR, job->Cols - j);
            if (ReadsBInPlace(job, cols)) return;
            float* b = job->TransB ? job->B + job->P0 : job->B + (long)job->P0 * job->Ldb;
            float* dst = job->PackB + (long)panel * NR * job->Depth;
            GemmPacking.PackB(b, job->Ldb, job->TransB, job->J0 + j, cols, job->Depth, PanelWidth(cols), dst);
            if (job->AInPlace && job->Alpha != 1f)
            {
                var packed = new Span<float>(dst, job->Depth * PanelWidth(cols));
                System.Numerics.Tensors.TensorPrimitives.Multiply(packed, job->Alpha, packed);
            }
        }
    }

    /// <summary>Work item: one rectangle of tiles of C over the macro block's whole depth, k block by k block, after packing its panels.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void ComputeItem(void* context, int item)
    {
        var job = (GemmJob*)context;
        int mr = MR, nr = NR;
        int rowBlock = item % job->ItemRowBlocks, colBlock = item / job->ItemRowBlocks;
        int ir0 = rowBlock * job->ItemRowPanels, ir1 = Math.Min(ir0 + job->ItemRowPanels, job->RowPanels);
        int jr0 = colBlock * job->ItemColPanels, jr1 = Math.Min(jr0 + job->ItemColPanels, job->ColPanels);
        EnsurePacked(job, job->RowPanels + jr0, job->RowPanels + jr1);
        EnsurePacked(job, ir0, ir1);
        int depth = job->Depth, ldc = job->Ldc;
        long rowStride = job->CRowStride, colStride = job->CColStride;
        bool transposedC = job->TransposedC;
        float* cBlock = job->C + job->I0 * rowStride + job->J0 * colStride;
        for (int p0 = 0; p0 < depth; p0 += job->KBlock)
        {
            int kc = Math.Min(job->KBlock, depth - p0);
            var store = p0 == 0 ? job->FirstStore : GemmStore.Accumulate;
            for (int ir = ir0; ir < ir1; ir++)
            {
                int rows = Math.Min(mr, job->Rows - ir * mr);
                float* aPanel = job->PackA + (long)ir * mr * depth + (long)p0 * mr;
                int aStride = mr;
                if (ReadsAInPlace(job, rows))
                {
                    aStride = job->Lda;
                    aPanel = job->A + (long)(job->P0 + p0) * aStride + job->I0 + ir * mr;
                }
                float* cRow = cBlock + ir * mr * rowStride;
                for (int jr = jr0; jr < jr1; jr++)
                {
                    int cols = Math.Min(nr, job->Cols - jr * nr);
                    int bStride = PanelWidth(cols);
                    float* bPanel = job->PackB + (long)jr * nr * depth + (long)p0 * bStride;
                    if (ReadsBInPlace(job, cols))
                    {
                        bStride = job->Ldb;
                        bPanel = job->B + (long)(job->P0 + p0) * bStride + job->J0 + jr * nr;
                    }
                    float* cTile = cRow + jr * nr * colStride;
                    if (Wide) GemmMicroKernel.Tile(kc, aPanel, aStride, bPanel, bStride, cTile, ldc, rows, cols, store, job->Beta, transposedC);
                    else GemmMicroKernel256.Tile(kc, aPanel, bPanel, bStride, cTile, ldc, rows, cols, store, job->Beta, transposedC);
                }
            }
        }
    }

    /// <summary>
    /// True when C^T = op(B)^T op(A)^T is estimated to be faster than C = op(A) op(B). Cost model: the padded tile area
    /// (rows padded to whole tiles, columns to what the last panel's kernel computes) times (k + the write-back per
    /// element in k steps: about 8 for a row-wise tile, 64 for a transposed one), calibrated on thin shapes here.
    /// </summary>
    internal static bool PreferTransposed(int m, int n, int k)
    {
        double normal = (double)PaddedRows(m) * PaddedCols(n) * (k + 8.0);
        double swapped = (double)PaddedRows(n) * PaddedCols(m) * (k + 64.0);
        return swapped < normal;
    }

    static int PaddedRows(int rows) => DivUp(rows, MR) * MR;

    static int PaddedCols(int cols)
    {
        int last = cols % NR;
        return cols / NR * NR + (last == 0 ? 0 : Wide ? GemmMicroKernel.ComputedCols(last) : GemmMicroKernel256.ComputedCols(last));
    }

    /// <summary>
    /// An untransposed B panel of whole vectors is read where it lies, row stride ldb, instead of being copied: its rows
    /// already are contiguous runs of the panel's columns, and skipping the copy saves a pass over B (most for small m).
    /// Not when the row stride is a multiple of 256 bytes: then the panel's rows would crowd into few cache sets.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static bool ReadsBInPlace(GemmJob* job, int cols) => !job->TransB && cols == PanelWidth(cols) && job->Ldb % 64 != 0;

    /// <summary>
    /// A transposed A panel of MR whole rows is read where it lies, row stride lda, when the panel meets only one B panel
    /// per k block (n fits one panel: the latent heads, n = 20): its rows then are contiguous runs of the panel's rows of
    /// op(A), each read once, so a copy would only add a pass over the big operand. Only with alpha = 1 (packing folds
    /// alpha in: the B panel, packed, then takes alpha instead), the AVX-512 kernel, and not for row strides that are multiples of 256 bytes (see ReadsBInPlace).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static bool ReadsAInPlace(GemmJob* job, int rows) => job->AInPlace && rows == MR;

    /// <summary>Whether the macro block reads its whole A panels in place (see ReadsAInPlace); alpha then goes into the B panel.</summary>
    static bool AInPlaceFor(GemmJob* job) =>
        Wide && job->TransA && job->ColPanels == 1 && job->Lda % 64 != 0 && (job->Alpha == 1f || !ReadsBInPlace(job, job->Cols));

    /// <summary>Floats per packed row of a B panel holding <paramref name="cols"/> columns: NR, or whole vectors for the last panel.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static int PanelWidth(int cols) => cols >= NR ? NR : DivUp(cols, Lanes) * Lanes;

    /// <summary>c = beta * c for the k = 0 or alpha = 0 cases (beta = 0 writes zeros without reading c).</summary>
    static void ScaleOnly(float* c, long count, float beta)
    {
        if (beta == 1f) return;
        for (long i = 0; i < count; i += int.MaxValue)
        {
            var span = new Span<float>(c + i, (int)Math.Min(int.MaxValue, count - i));
            if (beta == 0f) span.Clear();
            else System.Numerics.Tensors.TensorPrimitives.Multiply(span, beta, span);
        }
    }

    static int DivUp(int x, int y) => (x + y - 1) / y;

    static void Reserve(ref float* buffer, ref long capacity, long floats)
    {
        if (floats <= capacity) return;
        NativeMemory.AlignedFree(buffer);
        buffer = null;
        capacity = 0;
        buffer = (float*)NativeMemory.AlignedAlloc((nuint)(floats * sizeof(float)), 64);
        capacity = floats;
    }

    void Free()
    {
        NativeMemory.AlignedFree(packA);
        NativeMemory.AlignedFree(packB);
        NativeMemory.AlignedFree(panelStates);
        packA = packB = null;
        panelStates = null;
        packACapacity = packBCapacity = 0;
    }

    public void Dispose()
    {
        Free();
        GC.SuppressFinalize(this);
    }

    ~PackedGemm() => Free();

    /// <summary>One macro block's work, shared by the pool's threads through a pointer to the caller's stack.</summary>
    struct GemmJob
    {
        public float* A, B, C;
        public int Lda, Ldb, Ldc;
        public long CRowStride, CColStride;   // C's (or, transposed, C^T's) strides between tile rows and columns
        public bool TransposedC;
        public bool TransA, TransB;
        public float Alpha, Beta;
        public float* PackA, PackB;
        public int* PanelStates;

        // the macro block: rows [I0, I0 + Rows) of C, columns [J0, J0 + Cols), depth [P0, P0 + Depth)
        public int I0, Rows, J0, Cols, P0, Depth;
        public GemmStore FirstStore;
        public bool AInPlace;   // whole A panels are read in place and alpha is folded into the B panel (see ReadsAInPlace)
        public bool PackBPanels;

        public int RowPanels, ColPanels, KBlock;
        public int ItemRowPanels, ItemColPanels, ItemRowBlocks, ItemCount;
    }
}
