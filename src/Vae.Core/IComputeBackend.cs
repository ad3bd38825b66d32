// The compute layer: every primitive the VAE family needs, behind one interface that the CPU (SIMD),
// reference (scalar, double accumulation) and CUDA backends implement name for name.
//
// Conventions (all methods):
// - Matrices are row-major and dense. "x is (rows, cols)" means x[r * cols + c].
// - Argument order: inputs, then outputs, then sizes, then scalars; Gemm and Axpy keep the BLAS order.
// - A view may be longer than the shape needs; only the first rows*cols elements are read or written.
//   Elementwise methods without sizes require equal lengths. Every violation throws ArgumentException
//   naming the argument (by its name here) and the shapes before anything is written; BackendChecks holds these
//   checks, one method per primitive, shared by every backend.
// - Overlap rule, on the elements a call uses (the first rows*cols of each view) and the bytes they occupy, so int
//   views (indices, targets) count too: outputs (everything written, accumulators included) are pairwise disjoint;
//   an output may be IDENTICAL to an input of the same shape (same buffer and offset: in place) only where the
//   method's doc says "in place", otherwise it is disjoint from every input; a partial overlap is always rejected.
//   perSample and total of a loss forward, the scalar result of Sum, GlobalNorm and AllFinite, and ClipByNorm's norm
//   are disjoint from everything else. Inputs may overlap each other.
// - The null view (default) is accepted only where the doc says so: a loss's total, the input that
//   ActivationBackward does not read, SoftmaxRows' logSumExp, and the LSTM cell's lengths, y and dy.
// - The gradient rule: parameter gradients ACCUMULATE (+=): Gemm with beta=1, BiasGradient, ScatterAddRows.
//   Activation gradients are ASSIGNED (=), except the KL backward methods, which accumulate into dMu/dLogVar
//   because those already hold the reconstruction path's gradient from ReparameterizeBackward.
// - Loss forwards write one value per row into perSample and, when total is not null, the sum over rows
//   into total[0]. Losses are sums over a row's elements (nats); the caller divides by the batch size,
//   usually by passing scale = 1 / batch to the backward.
// - Results never depend on the number of threads: every reduction has a fixed order.
// - Calls may be asynchronous on a device backend; Download and Synchronize wait for the results.
namespace Vae;

public interface IComputeBackend : IDisposable
{
    /// <summary>Short name: "cpu", "reference", "cuda".</summary>
    string Name { get; }

    // ---------------------------------------------------------------- memory

    /// <summary>Allocates a zero-filled buffer of <paramref name="byteLength"/> bytes, 64-byte aligned.</summary>
    DeviceBuffer Allocate(long byteLength);

    /// <summary>Copies host data into the view; lengths must be equal.</summary>
    void Upload<T>(ReadOnlySpan<T> source, DeviceSpan<T> destination) where T : unmanaged;

    /// <summary>Copies the view to host memory; lengths must be equal. Waits for pending work.</summary>
    void Download<T>(DeviceSpan<T> source, Span<T> destination) where T : unmanaged;

    /// <summary>Waits until all submitted work has finished.</summary>
    void Synchronize();

    // ---------------------------------------------------------------- linear algebra

    /// <summary>
    /// c = alpha * op(a) * op(b) + beta * c, row-major. op(a) is (m, k): a is (m, k), or (k, m) when transA.
    /// op(b) is (k, n): b is (k, n), or (n, k) when transB. c is (m, n) and must not overlap a or b.
    /// beta = 0 overwrites c (NaNs in c are not propagated); beta = 1 accumulates (parameter gradients).
    /// As in BLAS, alpha = 0 (or k = 0) does not read a and b: c = beta * c.
    /// A linear layer y = x W^T with W (out, in): Gemm(false, true, batch, out, in, 1, x, W, 0, y).
    /// </summary>
    void Gemm(bool transA, bool transB, int m, int n, int k, float alpha, DeviceSpan<float> a, DeviceSpan<float> b, float beta, DeviceSpan<float> c);

    /// <summary>x (rows, cols) += bias (cols), broadcast over rows.</summary>
    void BiasAdd(DeviceSpan<float> x, DeviceSpan<float> bias, int rows, int cols);

    /// <summary>dBias (cols) += column sums of dy (rows, cols).</summary>
    void BiasGradient(DeviceSpan<float> dy, DeviceSpan<float> dBias, int rows, int cols);

    // ---------------------------------------------------------------- elementwise

    /// <summary>destination = source (equal lengths). In place: destination may be source (then nothing changes).</summary>
    void Copy(DeviceSpan<float> source, DeviceSpan<float> destination);

    /// <summary>x[i] = value.</summary>
    void Fill(DeviceSpan<float> x, float value);

    /// <summary>x[i] *= alpha.</summary>
    void Scale(DeviceSpan<float> x, float alpha);

    /// <summary>y[i] += alpha * x[i] (equal lengths). In place: y may be x (y += alpha * y).</summary>
    void Axpy(float alpha, DeviceSpan<float> x, DeviceSpan<float> y);

    /// <summary>output (rows, colsA + colsB) = [a (rows, colsA) | b (rows, colsB)] along the feature axis; output disjoint from a and b.</summary>
    void Concat(DeviceSpan<float> a, DeviceSpan<float> b, DeviceSpan<float> output, int rows, int colsA, int colsB);

    /// <summary>Inverse of Concat: a (rows, colsA) = input[:, :colsA], b (rows, colsB) = input[:, colsA:]; a, b, input pairwise disjoint.</summary>
    void Split(DeviceSpan<float> input, DeviceSpan<float> a, DeviceSpan<float> b, int rows, int colsA, int colsB);

    /// <summary>result[0] = sum of x, accumulated in a fixed order; result disjoint from x.</summary>
    void Sum(DeviceSpan<float> x, DeviceSpan<float> result);

    // ---------------------------------------------------------------- activations

    /// <summary>y = f(x) elementwise (equal lengths). In place: y may be x. slope is LeakyRelu's negative slope.</summary>
    void ActivationForward(Activation f, DeviceSpan<float> x, DeviceSpan<float> y, float slope = 0.01f);

    /// <summary>
    /// dx = dy * f'(x), given the forward's input x and output y (equal lengths). Relu, LeakyRelu and Softplus read x;
    /// Tanh and Sigmoid read y. The input f does not read may be the null view (else it must have the same length).
    /// In place: dx may be dy, x or y.
    /// </summary>
    void ActivationBackward(Activation f, DeviceSpan<float> x, DeviceSpan<float> y, DeviceSpan<float> dy, DeviceSpan<float> dx, float slope = 0.01f);

    // ---------------------------------------------------------------- losses

    /// <summary>
    /// Binary cross-entropy from logits, stable: per element max(l, 0) - l t + log1p(exp(-|l|)).
    /// logits, targets (rows, cols); perSample (rows) = row sums; total[0] = their sum (if not null).
    /// </summary>
    void BceWithLogitsForward(DeviceSpan<float> logits, DeviceSpan<float> targets, DeviceSpan<float> perSample, DeviceSpan<float> total, int rows, int cols);

    /// <summary>dLogits (rows, cols) = scale * (sigmoid(logits) - targets). In place: dLogits may be logits or targets.</summary>
    void BceWithLogitsBackward(DeviceSpan<float> logits, DeviceSpan<float> targets, DeviceSpan<float> dLogits, int rows, int cols, float scale);

    /// <summary>Squared error: perSample (rows) = sum over cols of (prediction - target)^2; total[0] = sum.</summary>
    void MseForward(DeviceSpan<float> prediction, DeviceSpan<float> targets, DeviceSpan<float> perSample, DeviceSpan<float> total, int rows, int cols);

    /// <summary>dPrediction = scale * 2 * (prediction - target). In place: dPrediction may be prediction or targets.</summary>
    void MseBackward(DeviceSpan<float> prediction, DeviceSpan<float> targets, DeviceSpan<float> dPrediction, int rows, int cols, float scale);

    /// <summary>
    /// Gaussian negative log-likelihood with a per-element log-variance:
    /// perSample (rows) = sum over cols of 0.5 * (log(2 pi) + logVar + (target - mean)^2 * exp(-logVar)).
    /// </summary>
    void GaussianNllForward(DeviceSpan<float> mean, DeviceSpan<float> logVar, DeviceSpan<float> targets, DeviceSpan<float> perSample, DeviceSpan<float> total, int rows, int cols);

    /// <summary>
    /// dMean = scale * (mean - target) * exp(-logVar); dLogVar = scale * 0.5 * (1 - (target - mean)^2 * exp(-logVar)). Assigned.
    /// In place: dMean and dLogVar may each be one of mean, logVar, targets (not the same one).
    /// </summary>
    void GaussianNllBackward(DeviceSpan<float> mean, DeviceSpan<float> logVar, DeviceSpan<float> targets, DeviceSpan<float> dMean, DeviceSpan<float> dLogVar, int rows, int cols, float scale);

    /// <summary>
    /// Softmax cross-entropy: logits (rows, classes), targets (rows) class indices in [0, classes) or ignoreIndex.
    /// perSample[r] = logsumexp(logits[r]) - logits[r, targets[r]], or 0 for an ignored row; total[0] = sum.
    /// </summary>
    void CrossEntropyForward(DeviceSpan<float> logits, DeviceSpan<int> targets, DeviceSpan<float> perSample, DeviceSpan<float> total, int rows, int classes, int ignoreIndex);

    /// <summary>dLogits[r] = scale * (softmax(logits[r]) - onehot(targets[r])), or 0 for an ignored row. In place: dLogits may be logits.</summary>
    void CrossEntropyBackward(DeviceSpan<float> logits, DeviceSpan<int> targets, DeviceSpan<float> dLogits, int rows, int classes, int ignoreIndex, float scale);

    /// <summary>KL(N(mu, exp(logVar)) || N(0, I)): perSample (rows) = -0.5 * sum over cols of (1 + logVar - mu^2 - exp(logVar)).</summary>
    void KlStandardNormalForward(DeviceSpan<float> mu, DeviceSpan<float> logVar, DeviceSpan<float> perSample, DeviceSpan<float> total, int rows, int cols);

    /// <summary>
    /// dMu += scale * mu; dLogVar += scale * 0.5 * (exp(logVar) - 1). Accumulates.
    /// In place: dMu and dLogVar may each be mu or logVar (not the same one); the old value is then the input's.
    /// </summary>
    void KlStandardNormalBackward(DeviceSpan<float> mu, DeviceSpan<float> logVar, DeviceSpan<float> dMu, DeviceSpan<float> dLogVar, int rows, int cols, float scale);

    /// <summary>
    /// Free bits (Kingma et al. 2016): a KL floor per latent dimension. mu, logVar, dMu, dLogVar (rows, cols); perDimension (cols).
    /// First perDimension[c] = the batch-mean KL of dimension c, (1 / rows) * sum over rows of -0.5 * (1 + logVar - mu^2 - exp(logVar))
    /// (accumulated in double in a fixed order, rounded to float once; 0 when rows = 0). Then, like KlStandardNormalBackward,
    /// dMu += scale * mu; dLogVar += scale * 0.5 * (exp(logVar) - 1) (accumulates), but only in the columns whose
    /// perDimension[c] &gt; freeBits (the stored float value); the other columns of dMu and dLogVar are left untouched.
    /// This is the gradient of scale * rows * sum over c of max(freeBits, perDimension[c]): with scale = 1 / rows, of the
    /// free-bits objective sum_c max(freeBits, KL_c), whose gradient is zero below the floor. freeBits is not NaN.
    /// In place: dMu and dLogVar may each be mu or logVar (not the same one), as for KlStandardNormalBackward;
    /// perDimension is disjoint from everything else.
    /// </summary>
    void KlFreeBitsBackward(DeviceSpan<float> mu, DeviceSpan<float> logVar, DeviceSpan<float> dMu, DeviceSpan<float> dLogVar,
        DeviceSpan<float> perDimension, int rows, int cols, float scale, float freeBits);

    /// <summary>
    /// KL(q || p) between diagonal Gaussians, all (rows, cols):
    /// perSample = 0.5 * sum of (logVarP - logVarQ + (exp(logVarQ) + (muQ - muP)^2) * exp(-logVarP) - 1).
    /// </summary>
    void KlGaussianForward(DeviceSpan<float> muQ, DeviceSpan<float> logVarQ, DeviceSpan<float> muP, DeviceSpan<float> logVarP, DeviceSpan<float> perSample, DeviceSpan<float> total, int rows, int cols);

    /// <summary>
    /// Gradients of KlGaussianForward times scale, accumulated (+=) into all four outputs:
    /// dMuQ = (muQ - muP) e^-lvP; dMuP = -dMuQ; dLogVarQ = 0.5 (e^(lvQ - lvP) - 1); dLogVarP = 0.5 (1 - (e^lvQ + (muQ - muP)^2) e^-lvP).
    /// In place: each gradient may be one of the four inputs (no two gradients the same one).
    /// </summary>
    void KlGaussianBackward(DeviceSpan<float> muQ, DeviceSpan<float> logVarQ, DeviceSpan<float> muP, DeviceSpan<float> logVarP,
        DeviceSpan<float> dMuQ, DeviceSpan<float> dLogVarQ, DeviceSpan<float> dMuP, DeviceSpan<float> dLogVarP, int rows, int cols, float scale);

    // ---------------------------------------------------------------- reparameterization and randomness

    /// <summary>
    /// z = mu + exp(0.5 * clamp(logVar, minLogVar, maxLogVar)) * eps, all of equal length.
    /// The clamp keeps exp finite for wild encoder outputs; defaults match <see cref="Reparameterization"/>.
    /// minLogVar &lt;= maxLogVar (not NaN). In place: z may be mu, logVar or eps.
    /// </summary>
    void ReparameterizeForward(DeviceSpan<float> mu, DeviceSpan<float> logVar, DeviceSpan<float> eps, DeviceSpan<float> z, float minLogVar, float maxLogVar);

    /// <summary>
    /// dMu = dz; dLogVar = dz * eps * 0.5 * exp(0.5 * clamp(logVar)) where logVar is inside [min, max], else 0. Assigned.
    /// In place: dMu and dLogVar may each be one of logVar, eps, dz (not the same one).
    /// </summary>
    void ReparameterizeBackward(DeviceSpan<float> logVar, DeviceSpan<float> eps, DeviceSpan<float> dz, DeviceSpan<float> dMu, DeviceSpan<float> dLogVar, float minLogVar, float maxLogVar);

    /// <summary>
    /// output[i] = the standard normal number with index (offset + i) of stream <paramref name="seed"/>, as specified by
    /// <see cref="Random.PhiloxNormal"/>. Bit-identical on every backend and for any split of the range.
    /// </summary>
    void RandomNormal(DeviceSpan<float> output, ulong seed, ulong offset);

    /// <summary>
    /// RandomNormal with its offset in device memory, so that a captured step (a CUDA graph) draws new noise on every
    /// replay: output[i] = normal number (offset[0] + i) of stream seed, then offset[0] += output.Length.
    /// offset holds at least one element and is disjoint from output.
    /// </summary>
    void RandomNormal(DeviceSpan<float> output, ulong seed, DeviceSpan<ulong> offset);

    // ---------------------------------------------------------------- indexing

    /// <summary>
    /// output (count, cols) row i = table (tableRows, cols) row indices[i]. Indices must be in [0, tableRows) (host backends
    /// check them; a device backend may not). output disjoint from table and indices.
    /// </summary>
    void GatherRows(DeviceSpan<float> table, DeviceSpan<int> indices, DeviceSpan<float> output, int tableRows, int count, int cols);

    /// <summary>
    /// dTable (tableRows, cols) row indices[i] += dOutput (count, cols) row i (accumulates; repeated indices add up in index
    /// order). dTable disjoint from dOutput and indices.
    /// </summary>
    void ScatterAddRows(DeviceSpan<float> dOutput, DeviceSpan<int> indices, DeviceSpan<float> dTable, int tableRows, int count, int cols);

    /// <summary>
    /// For each row of x (rows, cols): indices[r] = argmin over codebook (codes, cols) of squared distance (lowest index on ties),
    /// distances[r] = that squared distance. codes must be &gt; 0 when rows &gt; 0. indices and distances are disjoint
    /// from each other and from x and codebook.
    /// </summary>
    void NearestCode(DeviceSpan<float> x, DeviceSpan<float> codebook, DeviceSpan<int> indices, DeviceSpan<float> distances, int rows, int codes, int cols);

    /// <summary>
    /// The codebook of an exponential-moving-average vector quantizer with Laplace-smoothed cluster sizes (van den Oord
    /// et al. 2017, appendix): n = sum over k of clusterSize[k] (codes), added in double in index order; then codebook
    /// (codes, cols) row k = embedSum (codes, cols) row k / N_k with N_k = (clusterSize[k] + epsilon) / (n + codes * epsilon) * n,
    /// every step in double (the division last), each result rounded to float once. epsilon is finite and &gt;= 0. N_k = 0
    /// (e.g. n = 0) divides by zero as the formula says. codebook is disjoint from clusterSize and embedSum.
    /// </summary>
    void EmaCodebook(DeviceSpan<float> clusterSize, DeviceSpan<float> embedSum, DeviceSpan<float> codebook, int codes, int cols, float epsilon);

    // ---------------------------------------------------------------- optimizer

    /// <summary>
    /// One Adam/AdamW update over flat, equal-length buffers (step is 1 for the first update), PyTorch formulas:
    /// g = grad (+ wd * p unless decoupled); m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
    /// p -= lr * wd * p (decoupled only); p -= (lr / (1 - b1^step)) * m / (sqrt(v) / sqrt(1 - b2^step) + eps).
    /// The four buffers are pairwise disjoint.
    /// </summary>
    void AdamStep(DeviceSpan<float> parameters, DeviceSpan<float> gradients, DeviceSpan<float> m, DeviceSpan<float> v, AdamSettings settings, int step);

    /// <summary>
    /// AdamStep with its step counter in device memory (for captured steps): step[0] += 1, then the update of AdamStep
    /// with the new step[0]. step holds at least one element, is disjoint from the four buffers, and starts at &gt;= 0.
    /// </summary>
    void AdamStep(DeviceSpan<float> parameters, DeviceSpan<float> gradients, DeviceSpan<float> m, DeviceSpan<float> v, AdamSettings settings, DeviceSpan<int> step);

    /// <summary>result[0] = sqrt(sum of x^2), accumulated in double in a fixed order; result disjoint from x.</summary>
    void GlobalNorm(DeviceSpan<float> x, DeviceSpan<float> result);

    /// <summary>
    /// Gradient clipping: x *= min(1, maxNorm / (norm[0] + 1e-6)), with norm from GlobalNorm (stays on the device).
    /// maxNorm must be finite and &gt; 0; norm disjoint from x.
    /// </summary>
    void ClipByNorm(DeviceSpan<float> x, DeviceSpan<float> norm, float maxNorm);

    /// <summary>result[0] = 1 if every element of x is finite, else 0; result disjoint from x.</summary>
    void AllFinite(DeviceSpan<float> x, DeviceSpan<int> result);

    // ---------------------------------------------------------------- per-row operations

    /// <summary>
    /// Softmax of each row of x (rows, cols): y[r, c] = exp(x[r, c] - m_r) / s_r with m_r the row maximum and
    /// s_r = sum over the row of exp(x[r, c] - m_r), accumulated in double. When logSumExp is not the null view,
    /// logSumExp[r] = m_r + log(s_r) = log of the sum over c of exp(x[r, c]) (rows). Entries of -inf get weight 0; a row that
    /// holds NaN or +inf, or only -inf, gives NaN throughout (y and logSumExp); with cols = 0, logSumExp is -inf (the log of
    /// an empty sum). In place: y may be x. logSumExp (optional) is disjoint from x and y.
    /// </summary>
    void SoftmaxRows(DeviceSpan<float> x, DeviceSpan<float> y, DeviceSpan<float> logSumExp, int rows, int cols);

    /// <summary>y[r, c] = rowScale[r] * x[r, c] for x, y (rows, cols) and rowScale (rows). In place: y may be x; rowScale is disjoint from y.</summary>
    void ScaleRows(DeviceSpan<float> x, DeviceSpan<float> rowScale, DeviceSpan<float> y, int rows, int cols);

    /// <summary>
    /// indices[r] = the column of the largest element of row r of x (rows, cols), the lowest such column on ties. A NaN counts
    /// as larger than every number (torch.argmax's rule), so a row holding NaN gives its first NaN's column; +inf beats every
    /// finite value, and a row of only -inf gives 0. cols must be &gt; 0 when rows &gt; 0. indices (rows) is disjoint from x
    /// (bytes, as in the overlap rule).
    /// </summary>
    void ArgMaxRows(DeviceSpan<float> x, DeviceSpan<int> indices, int rows, int cols);

    // ---------------------------------------------------------------- recurrent

    /// <summary>
    /// One time step of an LSTM cell for a batch, gates in PyTorch's order i, f, g, o. gates (rows, 4 hidden) holds the
    /// pre-activations x W_ih^T + b_ih + hPrev W_hh^T + b_hh (from Gemm and BiasAdd); cPrev, hPrev (rows, hidden) are the
    /// state before the step. The mask: row r takes the step when lengths is the null view or step &lt; lengths[r]
    /// (lengths (rows) are sequence lengths; step is the time index); otherwise the row is padding.
    /// A row that takes the step: activated row = [sigmoid(i), sigmoid(f), tanh(g), sigmoid(o)] (what the backward needs),
    /// c = f cPrev + i g, h = o tanh(c), and the step's output y row = h.
    /// A padding row: activated row = 0, c = cPrev, h = hPrev (the state passes through unchanged), y row = 0.
    /// y (rows, yStride) receives the output in the first hidden columns of each row (yStride &gt;= hidden, so y may be the
    /// columns of one direction inside a wider output); the other columns are not touched. y may be the null view (no output).
    /// In place: activated may be gates. Otherwise outputs are pairwise disjoint and disjoint from the inputs (y over its
    /// whole extent, (rows - 1) yStride + hidden elements).
    /// </summary>
    void LstmCellForward(DeviceSpan<float> gates, DeviceSpan<float> cPrev, DeviceSpan<float> hPrev, DeviceSpan<int> lengths,
        DeviceSpan<float> activated, DeviceSpan<float> c, DeviceSpan<float> h, DeviceSpan<float> y, int rows, int hidden, int yStride, int step);

    /// <summary>
    /// Backward of <see cref="LstmCellForward"/> for one step. activated (rows, 4 hidden) and c (rows, hidden) are the
    /// forward's outputs, cPrev (rows, hidden) its input, lengths and step the same mask. dy (rows, dyStride) is the gradient
    /// of the step's output y (first hidden columns of each row; the null view means zero); dhNext, dcNext (rows, hidden)
    /// are the gradients reaching h and c from the later steps (or from the final state).
    /// A row that took the step: dh = dhNext + dy row, tc = tanh(c), dc = dcNext + dh o (1 - tc^2);
    /// dGates row = [dc g i (1 - i), dc cPrev f (1 - f), dc i (1 - g^2), dh tc o (1 - o)]; dcPrev = dc f; dhPrev = 0.
    /// A padding row: dGates row = 0, dcPrev = dcNext, dhPrev = dhNext (its dy is ignored: y was the constant 0).
    /// The caller completes dhPrev with the recurrent path: Gemm(false, false, rows, hidden, 4 hidden, 1, dGates, W_hh, 1, dhPrev).
    /// All outputs are assigned. In place: dGates may be activated, dhPrev may be dhNext, dcPrev may be dcNext; otherwise
    /// outputs are pairwise disjoint and disjoint from the inputs.
    /// </summary>
    void LstmCellBackward(DeviceSpan<float> activated, DeviceSpan<float> cPrev, DeviceSpan<float> c, DeviceSpan<int> lengths,
        DeviceSpan<float> dy, DeviceSpan<float> dhNext, DeviceSpan<float> dcNext, DeviceSpan<float> dGates, DeviceSpan<float> dhPrev, DeviceSpan<float> dcPrev,
        int rows, int hidden, int dyStride, int step);
}
