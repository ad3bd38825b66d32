// The pointwise nonlinearities every backend implements (forward and backward).
namespace Vae;

public enum Activation
{
    /// <summary>max(x, 0); gradient 1 where x &gt; 0, else 0.</summary>
    Relu,
    /// <summary>x where x &gt; 0, else slope * x (slope given per call, PyTorch default 0.01).</summary>
    LeakyRelu,
    /// <summary>tanh(x); gradient 1 - y^2.</summary>
    Tanh,
    /// <summary>1 / (1 + exp(-x)); gradient y (1 - y).</summary>
    Sigmoid,
    /// <summary>log(1 + exp(x)) computed as max(x, 0) + log1p(exp(-|x|)); gradient sigmoid(x).</summary>
    Softplus,
}
