using GwReprocess.IO;
using Inference;

namespace GwReprocess.Inference;

/// <summary>Reads and writes Triton <c>config.pbtxt</c> files as <see cref="ModelConfig"/> (Triton's own message, compiled from model_config.proto).</summary>
public static class ModelConfigFile
{
    /// <summary>The file name Triton looks for in a model directory.</summary>
    public const string FileName = "config.pbtxt";

    /// <summary>Parses a config.pbtxt; errors name the file, line and column.</summary>
    public static ModelConfig Read(string path)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BadInputException($"{path}: cannot read model config: {e.Message}", e);
        }
        return Parse(text, path);
    }

    /// <summary>Parses config.pbtxt text; <paramref name="source"/> names it in errors.</summary>
    public static ModelConfig Parse(string text, string source = ModelConfigFile.FileName) =>
        ProtobufText.Parse<ModelConfig>(text, source);

    /// <summary>The text-format form Triton reads.</summary>
    public static string Format(ModelConfig config) => ProtobufText.Format(config);

    /// <summary>Writes the config atomically (complete or absent).</summary>
    public static Task WriteAsync(string path, ModelConfig config, CancellationToken cancellationToken = default) =>
        AtomicFile.WriteAllTextAsync(path, Format(config), cancellationToken);
}
