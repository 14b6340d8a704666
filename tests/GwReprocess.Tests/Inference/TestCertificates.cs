using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace GwReprocess.Tests.Inference;

/// <summary>Throwaway private CAs and server certificates (ECDSA P-256) for the TLS tests of the client and of DAG-started servers.</summary>
internal static class TestCertificates
{
    /// <summary>A self-signed CA that may sign certificates, valid from five minutes ago for two hours.</summary>
    public static X509Certificate2 CreateCa(string name)
    {
        var now = DateTimeOffset.UtcNow;
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request.CreateSelfSigned(now.AddMinutes(-5), now.AddHours(2));
    }

    /// <summary>
    /// A server certificate signed by <paramref name="ca"/> for <paramref name="commonName"/>, 127.0.0.1 and
    /// <paramref name="dnsNames"/>, valid for an hour; returns the certificate and key PEM.
    /// </summary>
    public static (string Certificate, string Key) CreateServerCertificate(X509Certificate2 ca, string commonName, params string[] dnsNames)
    {
        var now = DateTimeOffset.UtcNow;
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=" + commonName, key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        foreach (var name in dnsNames) san.AddDnsName(name);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false)); // serverAuth
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, true, false));
        using var certificate = request.Create(ca, now.AddMinutes(-5), now.AddHours(1), RandomNumberGenerator.GetBytes(12));
        return (certificate.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem());
    }
}
