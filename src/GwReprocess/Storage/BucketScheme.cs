namespace GwReprocess.Storage;

/// <summary>The kind of store a <see cref="BucketUri"/> names.</summary>
public enum BucketScheme
{
    /// <summary>A local directory or shared filesystem (<c>file:///abs/path</c> or a plain path).</summary>
    File,
    /// <summary>An S3-compatible object store (<c>s3://bucket/prefix</c>).</summary>
    S3,
    /// <summary>Google Cloud Storage through its S3-compatible XML API (<c>gs://bucket/prefix</c>).</summary>
    Gs,
}
