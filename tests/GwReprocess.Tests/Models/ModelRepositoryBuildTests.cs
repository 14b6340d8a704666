using GwReprocess.Models;

namespace GwReprocess.Tests.Models;

/// <summary><c>gwrepro models build</c>'s work as a library call: a typed request in, a written and checked repository out.</summary>
public sealed class ModelRepositoryBuildTests : IDisposable
{
    private readonly string _dir = ModelTestSupport.NewTempDirectory();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task An_untrained_request_writes_a_checked_repository_with_the_requested_sizes()
    {
        string repo = Path.Combine(_dir, "repo");
        var lines = new List<string>();
        var result = await ModelRepositoryBuild.BuildAsync(new ModelRepositoryRequest
        {
            Directory = repo,
            Models = new ModelRepositoryOptions { KernelSeconds = 0.25, Stride = 128, Batch = 2, Witnesses = 3 },
        }, lines.Add);
        Assert.Empty(result.Problems);
        Assert.Empty(result.Notes);
        Assert.Empty(lines); // nothing is fitted or designed for untrained networks
        Assert.Equal(ModelRepository.ModelNames(repo).Order(StringComparer.Ordinal), result.Models.Select(m => m.Name).Order(StringComparer.Ordinal));
        Assert.Equal((1024, 3), (result.Options.Kernel, result.Options.Witnesses));
        Assert.Equal(["H1", "L1"], result.Options.Detectors);
        Assert.Equal("identity (no reference ASD given)", result.Options.WhiteningDescription);
        Assert.Equal(new long[] { 1, 2 * 3 + 2, 256 }, GwReprocess.Inference.ModelConfigFile.Read(Path.Combine(repo, "gwe2e", "config.pbtxt")).Input[0].Dims);
    }

    [Fact]
    public async Task A_wiener_cleaner_without_frames_to_fit_on_is_refused_before_anything_is_written()
    {
        string repo = Path.Combine(_dir, "never");
        await Assert.ThrowsAsync<BadInputException>(() => ModelRepositoryBuild.BuildAsync(new ModelRepositoryRequest
        {
            Directory = repo,
            Models = new ModelRepositoryOptions { Cleaner = CleanerKind.Wiener },
        }));
        await Assert.ThrowsAsync<BadInputException>(() => ModelRepositoryBuild.BuildAsync(new ModelRepositoryRequest
        {
            Directory = repo,
            Models = new ModelRepositoryOptions { Detector = DetectorKind.Templates },
        }));
        Assert.False(Directory.Exists(repo));
    }
}
