using GwReprocess.IO;
using GwReprocess.Storage;

namespace GwReprocess.Tests.IO;

/// <summary>Atomic writes on a full filesystem: a one-line error naming the final path, and nothing left behind.</summary>
public sealed class AtomicFileDiskFullTests
{
    [Fact]
    public async Task A_write_that_does_not_fit_names_the_file_deletes_its_temporary_and_keeps_the_old_file()
    {
        string dir = Directory.CreateTempSubdirectory("gwrepro-full-").FullName;
        try
        {
            await using var mount = await TmpfsMount.MountAsync(dir, 64);
            string path = Path.Combine(mount.Path, "out.bin");
            await AtomicFile.WriteAsync(path, (s, ct) => s.WriteAsync(new byte[1000], ct).AsTask());
            var e = await Assert.ThrowsAsync<FileWriteException>(() => AtomicFile.WriteAsync(path, (s, ct) => s.WriteAsync(new byte[256 * 1024], ct).AsTask()));
            Assert.Equal($"writing {path}: No space left on device", e.Message);
            Assert.Equal(path, e.Path);
            Assert.Equal([path], Directory.GetFiles(mount.Path));
            Assert.Equal(1000, new FileInfo(path).Length);

            using var bucket = new LocalBucket(mount.Path);
            var b = await Assert.ThrowsAsync<FileWriteException>(() => bucket.WriteAsync("cleaned/H1/x.gwf", new MemoryStream(new byte[256 * 1024])));
            Assert.Equal($"writing {Path.Combine(mount.Path, "cleaned", "H1", "x.gwf")}: No space left on device", b.Message);
            Assert.Empty(Directory.GetFiles(Path.Combine(mount.Path, "cleaned", "H1")));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
