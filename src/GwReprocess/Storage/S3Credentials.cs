using Amazon.Runtime;
using Amazon.Runtime.CredentialManagement;

namespace GwReprocess.Storage;

/// <summary>Finds credentials for an S3-protocol store the way the AWS tools do, plus the Cloud Storage HMAC variables for gs://.</summary>
/// <remarks>
/// The EC2/ECS metadata endpoints are consulted only when <c>GWREPRO_S3_INSTANCE_CREDENTIALS=true</c>: probing them off AWS
/// (grid sites, laptops) costs seconds of timeouts per job and sends traffic to an address nobody asked for.
/// </remarks>
internal static class S3Credentials
{
    /// <summary>The credentials and a description of where they came from (never the secret).</summary>
    public static (AWSCredentials Credentials, string Source) Resolve(BucketScheme scheme, BucketOptions options, string location)
    {
        var env = options.Environment;
        if (options.Anonymous) return (new AnonymousAWSCredentials(), "anonymous");
        if (!string.IsNullOrEmpty(options.AccessKeyId) && !string.IsNullOrEmpty(options.SecretAccessKey))
            return (new BasicAWSCredentials(options.AccessKeyId, options.SecretAccessKey), "explicit keys");
        if (scheme == BucketScheme.Gs)
        {
            string? id = env("GWREPRO_GCS_HMAC_ACCESS_ID"), secret = env("GWREPRO_GCS_HMAC_SECRET");
            if (!string.IsNullOrEmpty(id) && !string.IsNullOrEmpty(secret))
                return (new BasicAWSCredentials(id, secret), "GWREPRO_GCS_HMAC_ACCESS_ID");
        }
        string? key = env("AWS_ACCESS_KEY_ID"), secretKey = env("AWS_SECRET_ACCESS_KEY"), token = env("AWS_SESSION_TOKEN");
        if (!string.IsNullOrEmpty(key) && !string.IsNullOrEmpty(secretKey))
            return string.IsNullOrEmpty(token)
                ? (new BasicAWSCredentials(key, secretKey), "AWS_ACCESS_KEY_ID")
                : (new SessionAWSCredentials(key, secretKey, token), "AWS_ACCESS_KEY_ID + AWS_SESSION_TOKEN");
        string profile = env("AWS_PROFILE") is { Length: > 0 } p ? p : "default";
        var chain = new CredentialProfileStoreChain();
        if (chain.TryGetAWSCredentials(profile, out var fromProfile))
            return (fromProfile, $"profile '{profile}'");
        if (string.Equals(env("GWREPRO_S3_INSTANCE_CREDENTIALS"), "true", StringComparison.OrdinalIgnoreCase))
            return (new InstanceProfileAWSCredentials(), "instance metadata");
        string hint = scheme == BucketScheme.Gs
            ? "set GWREPRO_GCS_HMAC_ACCESS_ID and GWREPRO_GCS_HMAC_SECRET (Cloud Storage HMAC key)"
            : "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE";
        throw new BucketAccessDeniedException($"{location}: no credentials found ({hint})");
    }

    /// <summary>The region from the profile named by AWS_PROFILE, if any.</summary>
    public static string? ProfileRegion(BucketOptions options)
    {
        string profile = options.Environment("AWS_PROFILE") is { Length: > 0 } p ? p : "default";
        return new CredentialProfileStoreChain().TryGetProfile(profile, out var cp) ? cp.Region?.SystemName : null;
    }
}
