using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace StoreSync.Libp2p.WebSocket;

/// <summary>Loads the certificate and private key a /wss listener presents from PEM files (nwaku's --websocket-secure-cert-path
/// and --websocket-secure-key-path).</summary>
public static class WebSocketCertificate
{
    /// <exception cref="InvalidDataException">A file is missing, is not PEM, or the key does not belong to the certificate.</exception>
    public static X509Certificate2 LoadPem(string certificatePath, string keyPath)
    {
        if (!File.Exists(certificatePath)) throw new InvalidDataException($"TLS certificate file not found: {certificatePath}");
        if (!File.Exists(keyPath)) throw new InvalidDataException($"TLS key file not found: {keyPath}");
        try
        {
            using var loaded = X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
            if (!loaded.HasPrivateKey) throw new InvalidDataException($"{keyPath} holds no private key for {certificatePath}");
            // Re-imported so the key is a persisted one, which SslStream can use on every platform (an ephemeral PEM key cannot on Windows).
            return X509CertificateLoader.LoadPkcs12(loaded.Export(X509ContentType.Pkcs12), null);
        }
        catch (CryptographicException e)
        {
            throw new InvalidDataException($"cannot load the TLS certificate {certificatePath} with key {keyPath}: {e.Message}", e);
        }
    }
}
