using System.Runtime.InteropServices;
using System.Text;
using GwReprocess.Server.Execution;

namespace GwReprocess.Server.Metrics;

/// <summary>GPU readings from NVML, the NVIDIA driver's management library, opened at run time: no driver, no readings (and no error).</summary>
public sealed unsafe class NvmlGpuReadings : IGpuReadings
{
    private const int Success = 0;
    private const int TextBuffer = 96;

    private readonly delegate* unmanaged<IntPtr, uint*, int> _utilization;
    private readonly delegate* unmanaged<IntPtr, ulong*, int> _memory;
    private readonly Dictionary<string, IntPtr> _handles;

    private NvmlGpuReadings(IntPtr library, IReadOnlyList<GpuDevice> devices, Dictionary<string, IntPtr> handles)
    {
        _utilization = (delegate* unmanaged<IntPtr, uint*, int>)NativeLibrary.GetExport(library, "nvmlDeviceGetUtilizationRates");
        _memory = (delegate* unmanaged<IntPtr, ulong*, int>)NativeLibrary.GetExport(library, "nvmlDeviceGetMemoryInfo");
        Devices = devices;
        _handles = handles;
    }

    public IReadOnlyList<GpuDevice> Devices { get; }

    /// <summary>NVML when the driver's library loads and initialises; null otherwise (a node without NVIDIA GPUs).</summary>
    public static NvmlGpuReadings? TryOpen()
    {
        if (!NativeLibrary.TryLoad(CudaLibraries.Nvml, out var library)) return null;
        try
        {
            var init = (delegate* unmanaged<int>)NativeLibrary.GetExport(library, "nvmlInit_v2");
            var count = (delegate* unmanaged<uint*, int>)NativeLibrary.GetExport(library, "nvmlDeviceGetCount_v2");
            var byIndex = (delegate* unmanaged<uint, IntPtr*, int>)NativeLibrary.GetExport(library, "nvmlDeviceGetHandleByIndex_v2");
            var uuid = (delegate* unmanaged<IntPtr, byte*, uint, int>)NativeLibrary.GetExport(library, "nvmlDeviceGetUUID");
            var name = (delegate* unmanaged<IntPtr, byte*, uint, int>)NativeLibrary.GetExport(library, "nvmlDeviceGetName");
            var pci = (delegate* unmanaged<IntPtr, byte*, int>)NativeLibrary.GetExport(library, "nvmlDeviceGetPciInfo_v3");
            uint n;
            if (init() != Success || count(&n) != Success) return null;
            var found = new List<(ulong Bus, string Uuid, string Name, IntPtr Handle)>();
            byte* text = stackalloc byte[TextBuffer];
            // nvmlPciInfo_t: busIdLegacy[16], then domain, bus, device (unsigned ints); the rest is not read.
            byte* info = stackalloc byte[256];
            for (uint i = 0; i < n; i++)
            {
                IntPtr handle;
                if (byIndex(i, &handle) != Success || uuid(handle, text, TextBuffer) != Success) continue;
                string id = Text(text);
                string model = name(handle, text, TextBuffer) == Success ? Text(text) : "";
                ulong bus = pci(handle, info) == Success
                    ? ((ulong)*(uint*)(info + 16) << 40) | ((ulong)*(uint*)(info + 20) << 16) | *(uint*)(info + 24)
                    : i;
                found.Add((bus, id, model, handle));
            }
            found.Sort((a, b) => a.Bus.CompareTo(b.Bus));
            var devices = new List<GpuDevice>(found.Count);
            var handles = new Dictionary<string, IntPtr>(StringComparer.Ordinal);
            foreach (var f in found)
            {
                devices.Add(new GpuDevice(devices.Count, f.Uuid, f.Name));
                handles[f.Uuid] = f.Handle;
            }
            return new NvmlGpuReadings(library, devices, handles);
        }
        catch (EntryPointNotFoundException)
        {
            return null;
        }
    }

    public bool TryRead(GpuDevice device, out GpuReading reading)
    {
        reading = default;
        if (!_handles.TryGetValue(device.Uuid, out var handle)) return false;
        uint* rates = stackalloc uint[2];
        ulong* memory = stackalloc ulong[3];
        // nvmlUtilization_t {gpu, memory} in percent; nvmlMemory_t {total, free, used} in bytes.
        if (_utilization(handle, rates) != Success || _memory(handle, memory) != Success) return false;
        reading = new GpuReading(rates[0] / 100.0, (long)memory[2], (long)memory[0]);
        return true;
    }

    private static string Text(byte* text)
    {
        int length = 0;
        while (length < TextBuffer && text[length] != 0) length++;
        return Encoding.ASCII.GetString(text, length);
    }
}
