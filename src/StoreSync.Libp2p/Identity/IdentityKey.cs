namespace StoreSync.Libp2p.Identity;

/// <summary>A node's private identity key (Ed25519 or secp256k1): signs, and names the node through its <see cref="PeerId"/>.</summary>
public abstract class IdentityKey
{
    /// <summary>Private key files are tiny; a larger file is not ours and is not read into memory.</summary>
    public const int MaxKeyFileLength = 4096;

    private PeerId? _peerId;

    private protected IdentityKey(PublicKey publicKey) => PublicKey = publicKey;

    public abstract KeyType Type { get; }

    public PublicKey PublicKey { get; }

    public PeerId PeerId => _peerId ??= PeerId.FromPublicKey(PublicKey);

    /// <summary>A signature in the libp2p format for this key type (Ed25519: RFC 8032; secp256k1: DER ECDSA over SHA-256, low S).</summary>
    public abstract byte[] Sign(ReadOnlySpan<byte> data);

    /// <summary>The PrivateKey protobuf: Ed25519 Data = seed ‖ public key (64 bytes); secp256k1 Data = the 32-byte scalar.</summary>
    public abstract byte[] ToPrivateKeyProtobuf();

    /// <exception cref="NotSupportedException">RSA or ECDSA: this node only holds Ed25519 or secp256k1 identities.</exception>
    public static IdentityKey Generate(KeyType type) => type switch
    {
        KeyType.Ed25519 => Ed25519IdentityKey.Generate(),
        KeyType.Secp256k1 => Secp256k1IdentityKey.Generate(),
        _ => throw new NotSupportedException($"{type} identity keys are not supported; use Ed25519 or Secp256k1"),
    };

    /// <exception cref="FormatException">Malformed protobuf or key material.</exception>
    /// <exception cref="NotSupportedException">RSA or ECDSA private keys.</exception>
    public static IdentityKey FromPrivateKeyProtobuf(ReadOnlySpan<byte> bytes)
    {
        var (type, data) = KeyProtobuf.Decode(bytes);
        return type switch
        {
            KeyType.Ed25519 => Ed25519IdentityKey.FromPrivateData(data),
            KeyType.Secp256k1 => new Secp256k1IdentityKey(data),
            _ => throw new NotSupportedException($"{type} identity keys are not supported; use Ed25519 or Secp256k1"),
        };
    }

    /// <summary>
    /// Loads the PrivateKey protobuf at <paramref name="path"/>, or creates one there (mode 0600, written to a temporary
    /// file and renamed so a crash never leaves a half-written key).
    /// </summary>
    /// <exception cref="InsecureKeyFileException">The existing file is readable or writable by group or others.</exception>
    public static IdentityKey LoadOrCreate(string path, KeyType typeIfNew)
    {
        // File modes are the whole protection of the key; without them we would silently store it world-readable.
        if (OperatingSystem.IsWindows()) throw new PlatformNotSupportedException("identity key files need Unix file modes");
        path = Path.GetFullPath(path);
        if (File.Exists(path)) return Load(path);
        var key = Generate(typeIfNew);
        var directory = Path.GetDirectoryName(path)!;
        if (!Directory.Exists(directory))
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var temp = Path.Combine(directory, $".{Path.GetFileName(path)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var file = new FileStream(temp, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            }))
            {
                file.Write(key.ToPrivateKeyProtobuf());
                file.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: false);
        }
        catch (IOException) when (File.Exists(path))
        {
            // Another process created the key first: use theirs so both agree on one identity.
            return Load(path);
        }
        finally
        {
            File.Delete(temp);
        }
        return key;
    }

    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private static IdentityKey Load(string path)
    {
        const UnixFileMode groupOrOthers = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
            | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;
        var mode = File.GetUnixFileMode(path);
        if ((mode & groupOrOthers) != 0)
            throw new InsecureKeyFileException($"identity key file {path} has mode {Convert.ToString((int)mode, 8)}: it must be readable by its owner only (chmod 600 it)");
        var length = new FileInfo(path).Length;
        if (length > MaxKeyFileLength) throw new FormatException($"identity key file {path} is {length} bytes; a PrivateKey protobuf is at most {MaxKeyFileLength}");
        try
        {
            return FromPrivateKeyProtobuf(File.ReadAllBytes(path));
        }
        catch (FormatException e)
        {
            throw new FormatException($"identity key file {path} does not hold a valid PrivateKey protobuf: {e.Message}", e);
        }
    }
}
