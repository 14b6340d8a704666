using System.Diagnostics;
using System.Runtime.InteropServices;
using Google.Protobuf;
using GwReprocess.Models.Onnx.Protos;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace GwReprocess.Tests.Models;

/// <summary>Shared helpers: a temporary directory, ONNX Runtime runs, the python3-onnx checker.</summary>
internal static class ModelTestSupport
{
    /// <summary>Debian's python with python3-onnx (the PATH python is a pyenv build without onnx).</summary>
    public const string SystemPython = "/usr/bin/python3";

    public static string NewTempDirectory()
    {
        var dir = Path.Combine(Path.GetTempPath(), "gwrepro-models-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>Runs a model in ONNX Runtime (CPU, one thread) and returns every output as (shape, data).</summary>
    public static Dictionary<string, (int[] Shape, float[] Data)> Run(ModelProto model, params (string Name, float[] Data, int[] Shape)[] inputs)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 };
        using var session = new InferenceSession(model.ToByteArray(), options);
        var values = inputs.Select(i => NamedOnnxValue.CreateFromTensor(i.Name, new DenseTensor<float>(i.Data, i.Shape))).ToList();
        using var results = session.Run(values);
        return results.ToDictionary(r => r.Name, r =>
        {
            var t = r.AsTensor<float>();
            return (t.Dimensions.ToArray(), t.ToArray());
        });
    }

    /// <summary>Runs onnx.checker.check_model(full_check=True) on each file; returns (exit code, output).</summary>
    public static (int ExitCode, string Output) OnnxChecker(IEnumerable<string> files)
    {
        const string script = "import sys, onnx\n" +
                              "for f in sys.argv[1:]:\n" +
                              "    onnx.checker.check_model(onnx.load(f), full_check=True)\n" +
                              "    print('checked', f)\n";
        var psi = new ProcessStartInfo(SystemPython) { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(script);
        foreach (var f in files) psi.ArgumentList.Add(f);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        return (p.ExitCode, stdout.Result + stderr.Result);
    }

    /// <summary>Runs the gwrepro CLI (built next to the tests) and returns exit code, stdout and stderr.</summary>
    public static (int ExitCode, string Stdout, string Stderr) Gwrepro(params string[] args)
    {
        var r = Cli.GwreproProcess.Run(args);
        return (r.ExitCode, r.StdOut, r.StdErr);
    }

    /// <summary>A float initializer's values (raw little-endian data as the builder writes them).</summary>
    public static float[] Initializer(ModelProto model, string name)
    {
        var t = model.Graph.Initializer.Single(i => i.Name == name);
        return MemoryMarshal.Cast<byte, float>(t.RawData.Span).ToArray();
    }

    public static float[] RandomSignal(int count, int seed)
    {
        var rng = new Random(seed);
        var x = new float[count];
        for (int i = 0; i < count; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        return x;
    }
}
