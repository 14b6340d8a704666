namespace GwReprocess.Models;

/// <summary>The precision of the neural networks' weights and compute (their inputs and outputs are float32 either way).</summary>
public enum ModelPrecision
{
    /// <summary>float32 throughout.</summary>
    Fp32,
    /// <summary>float16 weights and compute for GPU instances, as the published hermes export's TensorRT FP16 engines.</summary>
    Fp16,
}
