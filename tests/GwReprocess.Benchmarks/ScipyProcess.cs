using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace GwReprocess.Benchmarks;

/// <summary>Runs a Python snippet under an interpreter that has SciPy (Debian's /usr/bin/python3 first), exchanging arrays as .npy files.</summary>
internal static class ScipyProcess
{
    /// <summary>The first interpreter that imports scipy, or null with the reason.</summary>
    public static (string? Python, string Reason) Find()
    {
        foreach (var candidate in new[] { "/usr/bin/python3", "python3" })
        {
            try
            {
                var (code, output) = Run(candidate, "import scipy, numpy; print(scipy.__version__)", TimeSpan.FromSeconds(60));
                if (code == 0) return (candidate, "scipy " + output.Trim());
            }
            catch (System.ComponentModel.Win32Exception)
            {
                // not installed under that name
            }
        }
        return (null, "no python3 with SciPy found (apt-get install -y python3-scipy)");
    }

    public static (int ExitCode, string Output) Run(string python, string script, TimeSpan timeout)
    {
        var psi = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        psi.ArgumentList.Add("-");
        // Single-threaded reference: no BLAS/OpenMP helper threads.
        foreach (var name in new[] { "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS" }) psi.Environment[name] = "1";
        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {python}");
        process.StandardInput.Write(script);
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill();
            return (-1, "timed out");
        }
        return (process.ExitCode, process.ExitCode == 0 ? stdout.Result : stderr.Result);
    }

    /// <summary>Writes a C-ordered float64 array of the given shape in NumPy's .npy v1.0 format.</summary>
    public static void WriteNpy(string path, ReadOnlySpan<double> data, params int[] shape)
    {
        string dims = shape.Length == 1 ? $"({shape[0]},)" : "(" + string.Join(", ", shape) + ")";
        string header = $"{{'descr': '<f8', 'fortran_order': False, 'shape': {dims}, }}";
        int total = 10 + header.Length + 1;
        header = header.PadRight(header.Length + (64 - total % 64) % 64) + "\n";
        using var stream = File.Create(path);
        stream.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y']);
        stream.WriteByte(1);
        stream.WriteByte(0);
        var headerBytes = Encoding.ASCII.GetBytes(header);
        stream.Write(BitConverter.GetBytes((ushort)headerBytes.Length));
        stream.Write(headerBytes);
        stream.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(data));
    }

    /// <summary>Reads the data of a little-endian float64 .npy file (shape ignored).</summary>
    public static double[] ReadNpy(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes[6] != 1) throw new InvalidDataException($"{path}: only .npy version 1 is read");
        int headerLength = BitConverter.ToUInt16(bytes, 8);
        int offset = 10 + headerLength;
        var data = new double[(bytes.Length - offset) / 8];
        Buffer.BlockCopy(bytes, offset, data, 0, data.Length * 8);
        return data;
    }

    public static double ParseSeconds(string output, string key)
    {
        foreach (var line in output.Split('\n'))
        {
            if (line.StartsWith(key + "=", StringComparison.Ordinal))
                return double.Parse(line[(key.Length + 1)..], CultureInfo.InvariantCulture);
        }
        throw new InvalidOperationException($"python output lacks {key}: {output}");
    }
}
