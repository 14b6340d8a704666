namespace GwReprocess.Models;

/// <summary>One of BBHnet's conv blocks: Conv1d (no padding) with this many output channels, kernel and dilation, then BatchNorm → max-pool 4 → ReLU.</summary>
public readonly record struct BbhNetConvBlock(int Channels, int Kernel, int Dilation = 1)
{
    /// <summary>Samples the block's convolution takes from its input's length.</summary>
    public int Span => Dilation * (Kernel - 1);
}
