using Google.Protobuf;
using StoreSync.Storage.Query;
using StoreSync.Testing.Storage;

namespace StoreSync.Storage.Tests;

/// <summary>The well-formedness check a query result applies to each stored value it copies.</summary>
public sealed class StoreQueryResultTests
{
    [Fact]
    public void Stored_forms_are_well_formed_and_damaged_bytes_are_not()
    {
        var message = TempStore.Message("/app/1/a/proto", 1_681_964_442_000_000_000, "payload", meta: [1, 2, 3]);
        var stored = message.ToByteArray();
        Assert.True(StoreQueryResult.IsWellFormed(stored));
        Assert.True(StoreQueryResult.IsWellFormed([]));
        Assert.True(StoreQueryResult.IsWellFormed([0x0a, 0x00])); // field 1, empty payload

        Assert.False(StoreQueryResult.IsWellFormed(stored[..^1]));              // last field cut short
        Assert.False(StoreQueryResult.IsWellFormed([.. stored, 0x0a]));          // a tag with no length
        Assert.False(StoreQueryResult.IsWellFormed([0x0a, 0x05, 1, 2]));        // length past the end
        Assert.False(StoreQueryResult.IsWellFormed([0xff, 0xff, 0xff]));        // unterminated varint
        Assert.False(StoreQueryResult.IsWellFormed([0x0b]));                    // wire type 3 (group start): not in any Waku message
        Assert.False(StoreQueryResult.IsWellFormed([0x02, 0x00]));              // field number 0
        Assert.False(StoreQueryResult.IsWellFormed([0x29, 1, 2, 3]));           // fixed64 with 3 bytes
    }
}
