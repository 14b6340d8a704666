using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GwReprocess.Training;

/// <summary>
/// Adam (Kingma and Ba; L2 weight decay added to the gradient, as torch.optim.Adam), the same operations in the same order as
/// TorchSharp's <c>optim.Adam</c>, with every scalar operand held alive for the whole step.
/// </summary>
/// <remarks>
/// TorchSharp 0.107 passes a <see cref="Scalar"/>'s native handle to LibTorch and keeps no reference to the object, so a scalar made
/// by an implicit conversion (<c>alpha: weight_decay</c>) can be finalized by a collection that another thread's allocation triggers
/// while LibTorch still reads it: a BBHnet training aborted once in CI with "Expected false to be true ... toFloat" inside
/// <c>THSTensor_add</c>, the check LibTorch makes on a scalar whose tag is no longer valid. Here each scalar lives in a
/// <c>using</c> that ends after its last native call.
/// </remarks>
internal sealed class AdamOptimizer : IDisposable
{
    private const double Beta1 = 0.9, Beta2 = 0.999, Epsilon = 1e-8;
    private readonly Parameter[] _parameters;
    private readonly Tensor[] _average;
    private readonly Tensor[] _averageSquare;
    private readonly double _weightDecay;
    private long _step;

    /// <param name="parameters">The parameters to optimise.</param>
    /// <param name="learningRate">Initial learning rate.</param>
    /// <param name="weightDecay">L2 penalty added to each gradient.</param>
    public AdamOptimizer(IEnumerable<Parameter> parameters, double learningRate, double weightDecay)
    {
        _parameters = [.. parameters];
        _average = Array.ConvertAll(_parameters, p => zeros_like(p).DetachFromDisposeScope());
        _averageSquare = Array.ConvertAll(_parameters, p => zeros_like(p).DetachFromDisposeScope());
        LearningRate = learningRate;
        _weightDecay = weightDecay;
    }

    /// <summary>The learning rate the next step uses (the plateau schedule lowers it).</summary>
    public double LearningRate { get; set; }

    /// <summary>Zeroes every parameter's gradient.</summary>
    public void zero_grad()
    {
        foreach (var p in _parameters)
            if (p.grad is { } g) g.zero_();
    }

    /// <summary>One update of every parameter from its gradient.</summary>
    public void step()
    {
        using var noGrad = torch.no_grad();
        _step++;
        double correction1 = 1 - Math.Pow(Beta1, _step), correction2 = 1 - Math.Pow(Beta2, _step);
        using var decay = _weightDecay.ToScalar();
        using var beta1 = Beta1.ToScalar();
        using var rest1 = (1 - Beta1).ToScalar();
        using var beta2 = Beta2.ToScalar();
        using var rest2 = (1 - Beta2).ToScalar();
        using var root2 = Math.Sqrt(correction2).ToScalar();
        using var epsilon = Epsilon.ToScalar();
        using var stepSize = (-(LearningRate / correction1)).ToScalar();
        for (int i = 0; i < _parameters.Length; i++)
        {
            using var scope = NewDisposeScope();
            var p = _parameters[i];
            var grad = p.grad;
            if (grad is null) continue;
            if (_weightDecay != 0) grad = grad.add(p, decay);
            _average[i].mul_(beta1).add_(grad, rest1);
            _averageSquare[i].mul_(beta2).addcmul_(grad, grad.conj(), rest2);
            var denominator = _averageSquare[i].sqrt().div(root2).add_(epsilon);
            p.addcdiv_(_average[i], denominator, stepSize);
        }
    }

    public void Dispose()
    {
        foreach (var t in _average) t.Dispose();
        foreach (var t in _averageSquare) t.Dispose();
    }
}
