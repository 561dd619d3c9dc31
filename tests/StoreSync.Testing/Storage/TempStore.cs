using Google.Protobuf;
using StoreSync.Core.Proto;
using StoreSync.Storage;

namespace StoreSync.Testing.Storage;

/// <summary>A real RocksDB store in a temp folder, deleted on dispose.</summary>
public sealed class TempStore : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("storesync-test-").FullName;

    public MessageStore Store { get; private set; }

    public TempStore(MessageStoreOptions? options = null) => Store = MessageStore.Open(Path, options);

    public void Reopen()
    {
        Store.Dispose();
        Store = MessageStore.Open(Path);
    }

    public void Dispose()
    {
        Store.Dispose();
        Directory.Delete(Path, recursive: true);
    }

    public static WakuMessage Message(string contentTopic, long timestamp, string payload = "", byte[]? meta = null)
    {
        var m = new WakuMessage { Payload = ByteString.CopyFromUtf8(payload), ContentTopic = contentTopic, Timestamp = timestamp };
        if (meta is not null) m.Meta = ByteString.CopyFrom(meta);
        return m;
    }
}
