// The formulas of every primitive as plain scalar loops over doubles: the test oracle. Each method follows the
// documented semantics of the IComputeBackend method of the same name (shapes, accumulate vs assign, ignored rows,
// ties, clamps) but takes host spans and does no argument validation; ReferenceBackend validates, converts float views
// to doubles, calls these and rounds the results to float once. Written to be obviously correct, not fast.
namespace Vae.Cpu;

public static class ReferenceMath
{
    const double Log2Pi = 1.8378770664093453;   // log(2 pi)

    // ---------------------------------------------------------------- linear algebra

    /// <summary>
    /// c = alpha * op(a) * op(b) + beta * c. op(a) is (m, k): a is (m, k), or (k, m) when transA; op(b) is (k, n):
    /// b is (k, n), or (n, k) when transB; c is (m, n). beta = 0 does not read c.
    /// </summary>
    public static void Gemm(bool transA, bool transB, int m, int n, int k, double alpha,
        ReadOnlySpan<double> a, ReadOnlySpan<double> b, double beta, Span<double> c)
    {
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double dot = 0;
                for (int p = 0; alpha != 0 && p < k; p++)   // BLAS: with alpha = 0, a and b are not read
                {
                    double aip = transA ? a[p * m + i] : a[i * k + p];
                    double bpj = transB ? b[j * k + p] : b[p * n + j];
                    dot += aip * bpj;
                }
                c[i * n + j] = (alpha == 0 ? 0 : alpha * dot) + (beta == 0 ? 0 : beta * c[i * n + j]);
            }
        }
    }

    /// <summary>x (rows, cols) += bias (cols), broadcast over rows.</summary>
    public static void BiasAdd(Span<double> x, ReadOnlySpan<double> bias, int rows, int cols)
    {
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
                x[r * cols + c] += bias[c];
    }

    /// <summary>dBias (cols) += column sums of dy (rows, cols), rows in increasing order.</summary>
    public static void BiasGradient(ReadOnlySpan<double> dy, Span<double> dBias, int rows, int cols)
    {
        for (int c = 0; c < cols; c++)
        {
            double sum = 0;
            for (int r = 0; r < rows; r++) sum += dy[r * cols + c];
            dBias[c] += sum;
        }
    }

    // ---------------------------------------------------------------- elementwise

    /// <summary>x[i] *= alpha.</summary>
    public static void Scale(Span<double> x, double alpha)
    {
        for (int i = 0; i < x.Length; i++) x[i] *= alpha;
    }

    /// <summary>y[i] += alpha * x[i].</summary>
    public static void Axpy(double alpha, ReadOnlySpan<double> x, Span<double> y)
    {
        for (int i = 0; i < y.Length; i++) y[i] += alpha * x[i];
    }

    /// <summary>output (rows, colsA + colsB) = [a (rows, colsA) | b (rows, colsB)].</summary>
    public static void Concat(ReadOnlySpan<double> a, ReadOnlySpan<double> b, Span<double> output, int rows, int colsA, int colsB)
    {
        int cols = colsA + colsB;
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < colsA; c++) output[r * cols + c] = a[r * colsA + c];
            for (int c = 0; c < colsB; c++) output[r * cols + colsA + c] = b[r * colsB + c];
        }
    }

    /// <summary>a (rows, colsA) = input[:, :colsA], b (rows, colsB) = input[:, colsA:], input (rows, colsA + colsB).</summary>
    public static void Split(ReadOnlySpan<double> input, Span<double> a, Span<double> b, int rows, int colsA, int colsB)
    {
        int cols = colsA + colsB;
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < colsA; c++) a[r * colsA + c] = input[r * cols + c];
            for (int c = 0; c < colsB; c++) b[r * colsB + c] = input[r * cols + colsA + c];
        }
    }

    /// <summary>Sum of x in index order.</summary>
    public static double Sum(ReadOnlySpan<double> x)
    {
        double sum = 0;
        for (int i = 0; i < x.Length; i++) sum += x[i];
        return sum;
    }

    // ---------------------------------------------------------------- activations

    /// <summary>1 / (1 + exp(-x)), without overflow for large |x|.</summary>
    public static double Sigmoid(double x)
    {
        if (x >= 0) return 1 / (1 + Math.Exp(-x));
        double e = Math.Exp(x);
        return e / (1 + e);
    }

    /// <summary>log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)).</summary>
    public static double Softplus(double x) => Math.Max(x, 0) + Log1P(Math.Exp(-Math.Abs(x)));

    /// <summary>log(1 + x), accurate for small x (Math has no log1p): the classic (u - 1) correction.</summary>
    public static double Log1P(double x)
    {
        double u = 1 + x;
        if (u == 1) return x;
        return Math.Log(u) * x / (u - 1);
    }

    /// <summary>y = f(x) elementwise (y may be x). slope is LeakyRelu's negative slope.</summary>
    public static void ActivationForward(Activation f, ReadOnlySpan<double> x, Span<double> y, double slope)
    {
        for (int i = 0; i < y.Length; i++)
        {
            double v = x[i];
            y[i] = f switch
            {
                Activation.Relu => v > 0 ? v : 0,
                Activation.LeakyRelu => v > 0 ? v : slope * v,
                Activation.Tanh => Math.Tanh(v),
                Activation.Sigmoid => Sigmoid(v),
                Activation.Softplus => Softplus(v),
                _ => throw new ArgumentOutOfRangeException(nameof(f), f, "Unknown activation."),
            };
        }
    }

    /// <summary>dx = dy * f'(x) (assigned; dx may be dy). Relu, LeakyRelu and Softplus read x; Tanh and Sigmoid read y.</summary>
    public static void ActivationBackward(Activation f, ReadOnlySpan<double> x, ReadOnlySpan<double> y,
        ReadOnlySpan<double> dy, Span<double> dx, double slope)
    {
        for (int i = 0; i < dx.Length; i++)
        {
            double derivative = f switch
            {
                Activation.Relu => x[i] > 0 ? 1 : 0,
                Activation.LeakyRelu => x[i] > 0 ? 1 : slope,
                Activation.Tanh => 1 - y[i] * y[i],
                Activation.Sigmoid => y[i] * (1 - y[i]),
                Activation.Softplus => Sigmoid(x[i]),
                _ => throw new ArgumentOutOfRangeException(nameof(f), f, "Unknown activation."),
            };
            dx[i] = dy[i] * derivative;
        }
    }

    // ---------------------------------------------------------------- losses
    // Forwards write perSample (rows) and return the sum of perSample in row order (the total).

    /// <summary>BCE from logits: perSample[r] = sum over cols of max(l, 0) - l t + log1p(exp(-|l|)); logits, targets (rows, cols).</summary>
    public static double BceWithLogitsForward(ReadOnlySpan<double> logits, ReadOnlySpan<double> targets, Span<double> perSample, int rows, int cols)
    {
        for (int r = 0; r < rows; r++)
        {
            double sum = 0;
            for (int c = 0; c < cols; c++)
            {
                double l = logits[r * cols + c], t = targets[r * cols + c];
                sum += Math.Max(l, 0) - l * t + Log1P(Math.Exp(-Math.Abs(l)));
            }
            perSample[r] = sum;
        }
        return Sum(perSample[..rows]);
    }

    /// <summary>dLogits (rows, cols) = scale * (sigmoid(logits) - targets). Assigned.</summary>
    public static void BceWithLogitsBackward(ReadOnlySpan<double> logits, ReadOnlySpan<double> targets, Span<double> dLogits, int rows, int cols, double scale)
    {
        for (int i = 0; i < rows * cols; i++) dLogits[i] = scale * (Sigmoid(logits[i]) - targets[i]);
    }

    /// <summary>perSample[r] = sum over cols of (prediction - target)^2; prediction, targets (rows, cols).</summary>
    public static double MseForward(ReadOnlySpan<double> prediction, ReadOnlySpan<double> targets, Span<double> perSample, int rows, int cols)
    {
        for (int r = 0; r < rows; r++)
        {
            double sum = 0;
            for (int c = 0; c < cols; c++)
            {
                double d = prediction[r * cols + c] - targets[r * cols + c];
                sum += d * d;
            }
            perSample[r] = sum;
        }
        return Sum(perSample[..rows]);
    }

    /// <summary>dPrediction (rows, cols) = scale * 2 * (prediction - target). Assigned.</summary>
    public static void MseBackward(ReadOnlySpan<double> prediction, ReadOnlySpan<double> targets, Span<double> dPrediction, int rows, int cols, double scale)
    {
        for (int i = 0; i < rows * cols; i++) dPrediction[i] = scale * 2 * (prediction[i] - targets[i]);
    }

    /// <summary>perSample[r] = sum over cols of 0.5 * (log(2 pi) + logVar + (target - mean)^2 * exp(-logVar)); all (rows, cols).</summary>
    public static double GaussianNllForward(ReadOnlySpan<double> mean, ReadOnlySpan<double> logVar, ReadOnlySpan<double> targets,
        Span<double> perSample, int rows, int cols)
    {
        for (int r = 0; r < rows; r++)
        {
            double sum = 0;
            for (int c = 0; c < cols; c++)
            {
                int i = r * cols + c;
                double d = targets[i] - mean[i];
                sum += 0.5 * (Log2Pi + logVar[i] + d * d * Math.Exp(-logVar[i]));
            }
            perSample[r] = sum;
        }
        return Sum(perSample[..rows]);
    }

    /// <summary>dMean = scale * (mean - target) * exp(-logVar); dLogVar = scale * 0.5 * (1 - (target - mean)^2 * exp(-logVar)). Assigned.</summary>
    public static void GaussianNllBackward(ReadOnlySpan<double> mean, ReadOnlySpan<double> logVar, ReadOnlySpan<double> targets,
        Span<double> dMean, Span<double> dLogVar, int rows, int cols, double scale)
    {
        for (int i = 0; i < rows * cols; i++)
        {
            double d = targets[i] - mean[i];
            double inverseVariance = Math.Exp(-logVar[i]);
            dMean[i] = scale * -d * inverseVariance;
            dLogVar[i] = scale * 0.5 * (1 - d * d * inverseVariance);
        }
    }

    /// <summary>log(sum exp(row)) with the maximum subtracted first; row is one row of logits.</summary>
    public static double LogSumExp(ReadOnlySpan<double> row)
    {
        double max = double.NegativeInfinity;
        for (int c = 0; c < row.Length; c++) max = Math.Max(max, row[c]);
        if (double.IsNegativeInfinity(max)) return max;
        double sum = 0;
        for (int c = 0; c < row.Length; c++) sum += Math.Exp(row[c] - max);
        return max + Math.Log(sum);
    }

    /// <summary>
    /// Softmax cross-entropy: logits (rows, classes), targets (rows) in [0, classes) or ignoreIndex.
    /// perSample[r] = logsumexp(logits[r]) - logits[r, targets[r]], or 0 for an ignored row.
    /// </summary>
    public static double CrossEntropyForward(ReadOnlySpan<double> logits, ReadOnlySpan<int> targets, Span<double> perSample,
        int rows, int classes, int ignoreIndex)
    {
        for (int r = 0; r < rows; r++)
        {
            if (targets[r] == ignoreIndex)
            {
                perSample[r] = 0;
                continue;
            }
            var row = logits.Slice(r * classes, classes);
            perSample[r] = LogSumExp(row) - row[targets[r]];
        }
        return Sum(perSample[..rows]);
    }

    /// <summary>dLogits[r] = scale * (softmax(logits[r]) - onehot(targets[r])), or 0 for an ignored row. Assigned.</summary>
    public static void CrossEntropyBackward(ReadOnlySpan<double> logits, ReadOnlySpan<int> targets, Span<double> dLogits,
        int rows, int classes, int ignoreIndex, double scale)
    {
        for (int r = 0; r < rows; r++)
        {
            var row = logits.Slice(r * classes, classes);
            var dRow = dLogits.Slice(r * classes, classes);
            if (targets[r] == ignoreIndex)
            {
                dRow.Clear();
                continue;
            }
            // softmax = exp(l - max) / sum exp(l - max): the maximum is subtracted first, as in LogSumExp.
            double max = double.NegativeInfinity;
            for (int c = 0; c < classes; c++) max = Math.Max(max, row[c]);
            double sum = 0;
            for (int c = 0; c < classes; c++) sum += Math.Exp(row[c] - max);
            for (int c = 0; c < classes; c++)
            {
                double softmax = Math.Exp(row[c] - max) / sum;
                double onehot = c == targets[r] ? 1 : 0;
                dRow[c] = scale * (softmax - onehot);
            }
        }
    }

    /// <summary>KL(N(mu, exp(logVar)) || N(0, I)): perSample[r] = -0.5 * sum over cols of (1 + logVar - mu^2 - exp(logVar)).</summary>
    public static double KlStandardNormalForward(ReadOnlySpan<double> mu, ReadOnlySpan<double> logVar, Span<double> perSample, int rows, int cols)
    {
        for (int r = 0; r < rows; r++)
        {
            double sum = 0;
            for (int c = 0; c < cols; c++)
            {
                int i = r * cols + c;
                sum += 1 + logVar[i] - mu[i] * mu[i] - Math.Exp(logVar[i]);
            }
            perSample[r] = -0.5 * sum;
        }
        return Sum(perSample[..rows]);
    }

    /// <summary>dMu += scale * mu; dLogVar += scale * 0.5 * (exp(logVar) - 1). Accumulates.</summary>
    public static void KlStandardNormalBackward(ReadOnlySpan<double> mu, ReadOnlySpan<double> logVar, Span<double> dMu, Span<double> dLogVar,
        int rows, int cols, double scale)
    {
        for (int i = 0; i < rows * cols; i++)
        {
            dMu[i] += scale * mu[i];
            dLogVar[i] += scale * 0.5 * (Math.Exp(logVar[i]) - 1);
        }
    }

    /// <summary>
    /// perDimension[c] = (1 / rows) * sum over rows of -0.5 * (1 + logVar - mu^2 - exp(logVar)): the batch-mean KL to N(0, 1)
    /// of latent dimension c (0 when rows = 0), rows added in order.
    /// </summary>
    public static void KlPerDimension(ReadOnlySpan<double> mu, ReadOnlySpan<double> logVar, Span<double> perDimension, int rows, int cols)
    {
        for (int c = 0; c < cols; c++)
        {
            double sum = 0;
            for (int r = 0; r < rows; r++)
            {
                int i = r * cols + c;
                sum += 1 + logVar[i] - mu[i] * mu[i] - Math.Exp(logVar[i]);
            }
            perDimension[c] = rows == 0 ? 0 : -0.5 * sum / rows;
        }
    }

    /// <summary>
    /// Free bits: dMu += scale * mu; dLogVar += scale * 0.5 * (exp(logVar) - 1) in the columns c whose perDimension[c] &gt; freeBits
    /// (the others are untouched). With perDimension from <see cref="KlPerDimension"/>, the gradient of
    /// scale * rows * sum over c of max(freeBits, perDimension[c]).
    /// </summary>
    public static void KlFreeBitsBackward(ReadOnlySpan<double> mu, ReadOnlySpan<double> logVar, Span<double> dMu, Span<double> dLogVar,
        ReadOnlySpan<double> perDimension, int rows, int cols, double scale, double freeBits)
    {
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++)
            {
                if (!(perDimension[c] > freeBits)) continue;
                int i = r * cols + c;
                dMu[i] += scale * mu[i];
                dLogVar[i] += scale * 0.5 * (Math.Exp(logVar[i]) - 1);
            }
        }
    }

    /// <summary>
    /// KL(q || p) between diagonal Gaussians, all (rows, cols):
    /// perSample[r] = 0.5 * sum of (logVarP - logVarQ + (exp(logVarQ) + (muQ - muP)^2) * exp(-logVarP) - 1).
    /// </summary>
    public static double KlGaussianForward(ReadOnlySpan<double> muQ, ReadOnlySpan<double> logVarQ, ReadOnlySpan<double> muP, ReadOnlySpan<double> logVarP,
        Span<double> perSample, int rows, int cols)
    {
        for (int r = 0; r < rows; r++)
        {
            double sum = 0;
            for (int c = 0; c < cols; c++)
            {
                int i = r * cols + c;
                double d = muQ[i] - muP[i];
                sum += logVarP[i] - logVarQ[i] + (Math.Exp(logVarQ[i]) + d * d) * Math.Exp(-logVarP[i]) - 1;
            }
            perSample[r] = 0.5 * sum;
        }
        return Sum(perSample[..rows]);
    }

    /// <summary>
    /// Gradients of KlGaussianForward times scale, accumulated: dMuQ += s (muQ - muP) e^-lvP; dMuP += -s (muQ - muP) e^-lvP;
    /// dLogVarQ += s 0.5 (e^(lvQ - lvP) - 1); dLogVarP += s 0.5 (1 - (e^lvQ + (muQ - muP)^2) e^-lvP).
    /// </summary>
    public static void KlGaussianBackward(ReadOnlySpan<double> muQ, ReadOnlySpan<double> logVarQ, ReadOnlySpan<double> muP, ReadOnlySpan<double> logVarP,
        Span<double> dMuQ, Span<double> dLogVarQ, Span<double> dMuP, Span<double> dLogVarP, int rows, int cols, double scale)
    {
        for (int i = 0; i < rows * cols; i++)
        {
            double d = muQ[i] - muP[i];
            double inverseVarianceP = Math.Exp(-logVarP[i]);
            double gradMuQ = d * inverseVarianceP;
            dMuQ[i] += scale * gradMuQ;
            dMuP[i] += scale * -gradMuQ;
            dLogVarQ[i] += scale * 0.5 * (Math.Exp(logVarQ[i] - logVarP[i]) - 1);
            dLogVarP[i] += scale * 0.5 * (1 - (Math.Exp(logVarQ[i]) + d * d) * inverseVarianceP);
        }
    }

    // ---------------------------------------------------------------- reparameterization

    /// <summary>z = mu + exp(0.5 * clamp(logVar, minLogVar, maxLogVar)) * eps, elementwise.</summary>
    public static void ReparameterizeForward(ReadOnlySpan<double> mu, ReadOnlySpan<double> logVar, ReadOnlySpan<double> eps, Span<double> z,
        double minLogVar, double maxLogVar)
    {
        for (int i = 0; i < z.Length; i++)
            z[i] = mu[i] + Math.Exp(0.5 * Math.Clamp(logVar[i], minLogVar, maxLogVar)) * eps[i];
    }

    /// <summary>dMu = dz; dLogVar = dz * eps * 0.5 * exp(0.5 * logVar) where minLogVar &lt;= logVar &lt;= maxLogVar, else 0. Assigned.</summary>
    public static void ReparameterizeBackward(ReadOnlySpan<double> logVar, ReadOnlySpan<double> eps, ReadOnlySpan<double> dz,
        Span<double> dMu, Span<double> dLogVar, double minLogVar, double maxLogVar)
    {
        for (int i = 0; i < dMu.Length; i++)
        {
            double lv = logVar[i], e = eps[i], g = dz[i];
            bool inside = lv >= minLogVar && lv <= maxLogVar;
            dMu[i] = g;
            dLogVar[i] = inside ? g * e * 0.5 * Math.Exp(0.5 * lv) : 0;
        }
    }

    // ---------------------------------------------------------------- indexing

    /// <summary>output (count, cols) row i = table (tableRows, cols) row indices[i]; indices must be in range.</summary>
    public static void GatherRows(ReadOnlySpan<double> table, ReadOnlySpan<int> indices, Span<double> output, int count, int cols)
    {
        for (int i = 0; i < count; i++)
            table.Slice(indices[i] * cols, cols).CopyTo(output.Slice(i * cols, cols));
    }

    /// <summary>dTable row indices[i] += dOutput (count, cols) row i, in increasing i.</summary>
    public static void ScatterAddRows(ReadOnlySpan<double> dOutput, ReadOnlySpan<int> indices, Span<double> dTable, int count, int cols)
    {
        for (int i = 0; i < count; i++)
            for (int c = 0; c < cols; c++)
                dTable[indices[i] * cols + c] += dOutput[i * cols + c];
    }

    /// <summary>
    /// For each row of x (rows, cols): indices[r] = argmin over codebook (codes, cols) rows of the squared distance
    /// sum (x - code)^2, the lowest index on ties; distances[r] = that distance. codes must be at least 1 when rows &gt; 0.
    /// </summary>
    public static void NearestCode(ReadOnlySpan<double> x, ReadOnlySpan<double> codebook, Span<int> indices, Span<double> distances,
        int rows, int codes, int cols)
    {
        for (int r = 0; r < rows; r++)
        {
            var row = x.Slice(r * cols, cols);
            int best = 0;
            double bestDistance = SquaredDistance(row, codebook.Slice(0, cols));
            for (int j = 1; j < codes; j++)
            {
                double distance = SquaredDistance(row, codebook.Slice(j * cols, cols));
                if (distance < bestDistance)
                {
                    best = j;
                    bestDistance = distance;
                }
            }
            indices[r] = best;
            distances[r] = bestDistance;
        }
    }

    static double SquaredDistance(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        double sum = 0;
        for (int c = 0; c < a.Length; c++)
        {
            double d = a[c] - b[c];
            sum += d * d;
        }
        return sum;
    }

    /// <summary>
    /// The EMA vector quantizer's codebook: n = sum of clusterSize (in index order); codebook row k = embedSum row k / N_k,
    /// N_k = (clusterSize[k] + epsilon) / (n + codes * epsilon) * n (Laplace smoothing; van den Oord et al. 2017, appendix).
    /// </summary>
    public static void EmaCodebook(ReadOnlySpan<double> clusterSize, ReadOnlySpan<double> embedSum, Span<double> codebook, int codes, int cols, double epsilon)
    {
        double n = 0;
        for (int k = 0; k < codes; k++) n += clusterSize[k];
        for (int k = 0; k < codes; k++)
        {
            double smoothed = (clusterSize[k] + epsilon) / (n + codes * epsilon) * n;
            for (int c = 0; c < cols; c++) codebook[k * cols + c] = embedSum[k * cols + c] / smoothed;
        }
    }

    // ---------------------------------------------------------------- optimizer

    /// <summary>
    /// One Adam/AdamW update (PyTorch formulas, step counts from 1): g = grad (+ wd p unless decoupled);
    /// m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2; p -= lr wd p (decoupled only);
    /// p -= (lr / (1 - b1^step)) m / (sqrt(v) / sqrt(1 - b2^step) + eps). The settings' floats are used as doubles.
    /// </summary>
    public static void AdamStep(Span<double> parameters, ReadOnlySpan<double> gradients, Span<double> m, Span<double> v, AdamSettings settings, int step)
    {
        double lr = settings.LearningRate, beta1 = settings.Beta1, beta2 = settings.Beta2, epsilon = settings.Epsilon, decay = settings.WeightDecay;
        double biasCorrection1 = 1 - Math.Pow(beta1, step);
        double biasCorrection2 = 1 - Math.Pow(beta2, step);
        double stepSize = lr / biasCorrection1;
        double sqrtBiasCorrection2 = Math.Sqrt(biasCorrection2);
        for (int i = 0; i < parameters.Length; i++)
        {
            double p = parameters[i];
            double g = settings.Decoupled ? gradients[i] : gradients[i] + decay * p;
            m[i] = beta1 * m[i] + (1 - beta1) * g;
            v[i] = beta2 * v[i] + (1 - beta2) * g * g;
            if (settings.Decoupled) p -= lr * decay * p;
            p -= stepSize * m[i] / (Math.Sqrt(v[i]) / sqrtBiasCorrection2 + epsilon);
            parameters[i] = p;
        }
    }

    /// <summary>sqrt(sum of x^2), in index order.</summary>
    public static double GlobalNorm(ReadOnlySpan<double> x)
    {
        double sum = 0;
        for (int i = 0; i < x.Length; i++) sum += x[i] * x[i];
        return Math.Sqrt(sum);
    }

    /// <summary>x *= min(1, maxNorm / (norm + 1e-6)).</summary>
    public static void ClipByNorm(Span<double> x, double norm, double maxNorm)
    {
        double factor = Math.Min(1, maxNorm / (norm + 1e-6));
        Scale(x, factor);
    }

    /// <summary>True when no element is NaN or infinite.</summary>
    public static bool AllFinite(ReadOnlySpan<double> x)
    {
        for (int i = 0; i < x.Length; i++)
            if (!double.IsFinite(x[i])) return false;
        return true;
    }

    // ---------------------------------------------------------------- per-row operations

    /// <summary>
    /// y[r] = softmax(x[r]) for x, y (rows, cols): exp(x - m) / s with m the row maximum and s the sum of exp(x - m);
    /// logSumExp[r] = m + log(s) when logSumExp is not empty. NaN propagates through the maximum (Math.Max), so a row
    /// holding NaN or +inf, or only -inf, is NaN throughout; with cols = 0, logSumExp is -inf. y may be x.
    /// </summary>
    public static void SoftmaxRows(ReadOnlySpan<double> x, Span<double> y, Span<double> logSumExp, int rows, int cols)
    {
        for (int r = 0; r < rows; r++)
        {
            var row = x.Slice(r * cols, cols);
            double max = double.NegativeInfinity;
            for (int c = 0; c < cols; c++) max = Math.Max(max, row[c]);
            double sum = 0;
            for (int c = 0; c < cols; c++) sum += Math.Exp(row[c] - max);
            if (!logSumExp.IsEmpty) logSumExp[r] = cols == 0 ? double.NegativeInfinity : max + Math.Log(sum);
            var output = y.Slice(r * cols, cols);
            for (int c = 0; c < cols; c++) output[c] = Math.Exp(row[c] - max) / sum;
        }
    }

    /// <summary>y[r, c] = rowScale[r] * x[r, c] for x, y (rows, cols). y may be x.</summary>
    public static void ScaleRows(ReadOnlySpan<double> x, ReadOnlySpan<double> rowScale, Span<double> y, int rows, int cols)
    {
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
                y[r * cols + c] = rowScale[r] * x[r * cols + c];
    }

    /// <summary>
    /// indices[r] = the lowest column c whose x[r, c] is the row's largest for x (rows, cols): scanning the columns in
    /// order, a value replaces the best so far when it is larger, or when it is NaN and the best is not, so the first
    /// NaN wins and stays. The best starts as column 0, which leaves a row of only -inf at 0.
    /// </summary>
    public static void ArgMaxRows(ReadOnlySpan<double> x, Span<int> indices, int rows, int cols)
    {
        for (int r = 0; r < rows; r++)
        {
            var row = x.Slice(r * cols, cols);
            int best = 0;
            for (int c = 1; c < cols; c++)
            {
                if (double.IsNaN(row[best])) break;
                if (row[c] > row[best] || double.IsNaN(row[c])) best = c;
            }
            indices[r] = best;
        }
    }

    // ---------------------------------------------------------------- recurrent

    /// <summary>
    /// One LSTM step, gates in PyTorch's order i, f, g, o: gates, activated (rows, 4 hidden); cPrev, hPrev, c, h, y (rows, hidden).
    /// A row with takesStep[r]: activated = [sigmoid(i), sigmoid(f), tanh(g), sigmoid(o)], c = f cPrev + i g, h = o tanh(c), y = h.
    /// A padding row: activated = 0, c = cPrev, h = hPrev, y = 0.
    /// </summary>
    public static void LstmCellForward(ReadOnlySpan<double> gates, ReadOnlySpan<double> cPrev, ReadOnlySpan<double> hPrev, ReadOnlySpan<bool> takesStep,
        Span<double> activated, Span<double> c, Span<double> h, Span<double> y, int rows, int hidden)
    {
        for (int r = 0; r < rows; r++)
        {
            for (int j = 0; j < hidden; j++)
            {
                int s = r * hidden + j, gi = r * 4 * hidden + j;
                int gf = gi + hidden, gg = gi + 2 * hidden, go = gi + 3 * hidden;
                if (!takesStep[r])
                {
                    activated[gi] = activated[gf] = activated[gg] = activated[go] = 0;
                    c[s] = cPrev[s];
                    h[s] = hPrev[s];
                    y[s] = 0;
                    continue;
                }
                double i = Sigmoid(gates[gi]), f = Sigmoid(gates[gf]), g = Math.Tanh(gates[gg]), o = Sigmoid(gates[go]);
                activated[gi] = i;
                activated[gf] = f;
                activated[gg] = g;
                activated[go] = o;
                c[s] = f * cPrev[s] + i * g;
                h[s] = o * Math.Tanh(c[s]);
                y[s] = h[s];
            }
        }
    }

    /// <summary>
    /// Backward of <see cref="LstmCellForward"/>: activated, dGates (rows, 4 hidden); cPrev, c, dy, dhNext, dcNext, dhPrev, dcPrev
    /// (rows, hidden). A row with takesStep[r]: dh = dhNext + dy, tc = tanh(c), dc = dcNext + dh o (1 - tc^2),
    /// dGates = [dc g i (1 - i), dc cPrev f (1 - f), dc i (1 - g^2), dh tc o (1 - o)], dcPrev = dc f, dhPrev = 0.
    /// A padding row: dGates = 0, dcPrev = dcNext, dhPrev = dhNext. Assigned.
    /// </summary>
    public static void LstmCellBackward(ReadOnlySpan<double> activated, ReadOnlySpan<double> cPrev, ReadOnlySpan<double> c, ReadOnlySpan<bool> takesStep,
        ReadOnlySpan<double> dy, ReadOnlySpan<double> dhNext, ReadOnlySpan<double> dcNext, Span<double> dGates, Span<double> dhPrev, Span<double> dcPrev,
        int rows, int hidden)
    {
        for (int r = 0; r < rows; r++)
        {
            for (int j = 0; j < hidden; j++)
            {
                int s = r * hidden + j, gi = r * 4 * hidden + j;
                int gf = gi + hidden, gg = gi + 2 * hidden, go = gi + 3 * hidden;
                if (!takesStep[r])
                {
                    dGates[gi] = dGates[gf] = dGates[gg] = dGates[go] = 0;
                    dcPrev[s] = dcNext[s];
                    dhPrev[s] = dhNext[s];
                    continue;
                }
                double i = activated[gi], f = activated[gf], g = activated[gg], o = activated[go];
                double dh = dhNext[s] + dy[s];
                double tc = Math.Tanh(c[s]);
                double dc = dcNext[s] + dh * o * (1 - tc * tc);
                dGates[gi] = dc * g * i * (1 - i);
                dGates[gf] = dc * cPrev[s] * f * (1 - f);
                dGates[gg] = dc * i * (1 - g * g);
                dGates[go] = dh * tc * o * (1 - o);
                dcPrev[s] = dc * f;
                dhPrev[s] = 0;
            }
        }
    }
}
