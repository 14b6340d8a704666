namespace GwReprocess.Storage;

/// <summary>Opens the bucket a <see cref="BucketUri"/> names: a <see cref="LocalBucket"/> for local paths, an <see cref="S3Bucket"/> for s3:// and gs://.</summary>
public static class BucketFactory
{
    /// <summary>Opens the store of <paramref name="uri"/>; keys in it are <see cref="BucketUri.Key"/> (for local paths, the absolute path without its leading '/').</summary>
    public static IBucket Open(BucketUri uri, BucketOptions? options = null) => uri.Scheme switch
    {
        BucketScheme.File => new LocalBucket("/"),
        _ => new S3Bucket(uri.Scheme, uri.Bucket, options),
    };

    /// <summary>Parses <paramref name="location"/> and opens its store; returns the bucket and the key or prefix inside it.</summary>
    public static (IBucket Bucket, string Key) Open(string location, BucketOptions? options = null)
    {
        var uri = BucketUri.Parse(location);
        return (Open(uri, options), uri.Key);
    }
}
