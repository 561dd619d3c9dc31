using StoreSync.Libp2p.Identity;

namespace StoreSync.Libp2p.Tests.Identity;

/// <summary>The on-disk identity: created owner-only, reloaded to the same peer, refused when others can read it.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class KeyFileTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "storesync-keyfile-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    [Theory]
    [InlineData(KeyType.Ed25519)]
    [InlineData(KeyType.Secp256k1)]
    public void Created_with_mode_0600_and_reloaded_to_the_same_peer(KeyType type)
    {
        var path = Path.Combine(_dir, "nested", "node.key");
        var created = IdentityKey.LoadOrCreate(path, type);
        Assert.Equal(type, created.Type);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Equal(created.ToPrivateKeyProtobuf(), File.ReadAllBytes(path));
        // The type argument only applies to new files.
        var loaded = IdentityKey.LoadOrCreate(path, type == KeyType.Ed25519 ? KeyType.Secp256k1 : KeyType.Ed25519);
        Assert.Equal(created.PeerId, loaded.PeerId);
        Assert.Single(Directory.GetFiles(Path.GetDirectoryName(path)!));
    }

    [Theory]
    [InlineData(UnixFileMode.OtherRead)]
    [InlineData(UnixFileMode.GroupRead)]
    [InlineData(UnixFileMode.GroupWrite)]
    public void Group_or_world_accessible_key_file_is_refused(UnixFileMode extra)
    {
        var path = Path.Combine(_dir, "node.key");
        IdentityKey.LoadOrCreate(path, KeyType.Ed25519);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | extra);
        var e = Assert.Throws<InsecureKeyFileException>(() => IdentityKey.LoadOrCreate(path, KeyType.Ed25519));
        Assert.Contains(path, e.Message);
        Assert.Contains("chmod 600", e.Message);
    }

    [Fact]
    public void Garbage_key_file_is_reported_with_its_path()
    {
        Directory.CreateDirectory(_dir);
        var path = Path.Combine(_dir, "node.key");
        File.WriteAllBytes(path, [1, 2, 3]);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var e = Assert.Throws<FormatException>(() => IdentityKey.LoadOrCreate(path, KeyType.Ed25519));
        Assert.Contains(path, e.Message);
    }
}
