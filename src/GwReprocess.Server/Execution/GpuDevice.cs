namespace GwReprocess.Server.Execution;

/// <summary>One GPU of the node: its index in PCI bus order (CUDA's numbering with CUDA_VISIBLE_DEVICES unset and CUDA_DEVICE_ORDER=PCI_BUS_ID), its UUID and its name.</summary>
public sealed record GpuDevice(int Index, string Uuid, string Name = "");
