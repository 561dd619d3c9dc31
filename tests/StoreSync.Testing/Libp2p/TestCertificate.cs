using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace StoreSync.Testing.Libp2p;

/// <summary>A self-signed certificate for 127.0.0.1 and localhost, written as PEM files the way an operator would have them.</summary>
public sealed class TestCertificate : IDisposable
{
    public TestCertificate()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("storesync-wss-").FullName;
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=storesync test", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        CertificatePath = Path.Combine(Directory, "cert.pem");
        KeyPath = Path.Combine(Directory, "key.pem");
        File.WriteAllText(CertificatePath, certificate.ExportCertificatePem());
        File.WriteAllText(KeyPath, key.ExportPkcs8PrivateKeyPem());
        Thumbprint = certificate.Thumbprint;
    }

    public string Directory { get; }
    public string CertificatePath { get; }
    public string KeyPath { get; }
    public string Thumbprint { get; }

    /// <summary>A dialer's check that accepts exactly this certificate (it is in no trust store).</summary>
    public bool Validate(X509Certificate? presented) => presented is not null && presented.GetCertHashString() == Thumbprint;

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}
