using GwReprocess.Data;
using GwReprocess.IO;
using PureHDF;
using PureHDF.Filters;

namespace GwReprocess.Frames.Hdf5;

/// <summary>Writes time series (BBHnet scores, exported channels) as HDF5 datasets with GPS start and rate attributes.</summary>
/// <remarks>
/// One float64 dataset per series, named by <c>name</c> (default: the channel name), with attributes
/// <c>t0</c> (GPS s, float64), <c>t0_ns</c> (exact GPS ns, int64), <c>sample_rate</c> (Hz), <c>channel</c>,
/// <c>unit</c>, and gwpy's <c>x0</c>/<c>dx</c>/<c>name</c> so <c>gwpy.timeseries.TimeSeries.read</c> opens it too.
/// The file is written to a temporary name and renamed.
/// </remarks>
public static class Hdf5TimeSeriesWriter
{
    /// <summary>Writes <paramref name="series"/> to <paramref name="path"/>; <paramref name="fileAttributes"/> go on the root group.</summary>
    public static Task WriteAsync(string path, IReadOnlyList<TimeSeries> series, IReadOnlyDictionary<string, object>? fileAttributes = null,
        IReadOnlyList<string>? datasetNames = null, bool compress = true, CancellationToken cancellationToken = default)
    {
        if (series.Count == 0) throw new ArgumentException("nothing to write: no series");
        if (datasetNames is not null && datasetNames.Count != series.Count) throw new ArgumentException("one dataset name per series");
        var file = new H5File();
        if (fileAttributes is not null)
            foreach (var (key, value) in fileAttributes) file.Attributes[key] = value;
        for (int i = 0; i < series.Count; i++)
        {
            var s = series[i];
            string name = datasetNames?[i] ?? s.Channel.Value;
            if (file.ContainsKey(name)) throw new ArgumentException($"two datasets named {name}");
            var samples = s.Samples.ToArray();
            uint chunk = (uint)Math.Clamp(samples.Length, 1, 65536);
            var dataset = compress && samples.Length > 0 ? new H5Dataset(samples, chunks: [chunk]) : new H5Dataset(samples);
            dataset.Attributes = new Dictionary<string, object>
            {
                ["t0"] = s.T0.TotalSeconds,
                ["t0_ns"] = s.T0.TotalNanoseconds,
                ["sample_rate"] = s.SampleRate.Hertz,
                ["channel"] = s.Channel.Value,
                ["unit"] = s.Unit,
                ["x0"] = s.T0.TotalSeconds,
                ["dx"] = s.SampleRate.Spacing,
                ["name"] = s.Channel.Value,
            };
            file[name] = dataset;
        }
        var options = new H5WriteOptions(Filters: compress ? [DeflateFilter.Id] : []);
        return Task.Run(() => WriteAtomically(path, file, options, cancellationToken), cancellationToken);
    }

    /// <summary>Like <see cref="AtomicFile"/>, but PureHDF needs a readable and seekable stream to write into.</summary>
    private static void WriteAtomically(string path, H5File file, H5WriteOptions options, CancellationToken cancellationToken)
    {
        string full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        string temp = AtomicFile.TemporaryNameFor(full);
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16))
            {
                file.Write(stream, options);
                stream.Flush(flushToDisk: true);
            }
            cancellationToken.ThrowIfCancellationRequested();
            File.Move(temp, full, overwrite: true);
        }
        catch (IOException e) when (e is not FileWriteException && FileWriteException.IsOutOfSpace(e))
        {
            try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw FileWriteException.OutOfSpace(full, e);
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }
}
