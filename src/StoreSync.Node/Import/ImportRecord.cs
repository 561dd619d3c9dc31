using StoreSync.Core;
using StoreSync.Core.Proto;

namespace StoreSync.Node.Import;

/// <summary>One record of an import file: a message and its pubsub topic, or why the record was rejected.</summary>
public readonly record struct ImportRecord(long Position, string? PubsubTopic, WakuMessage? Message, MessageHash? ClaimedHash, string? Error)
{
    public static ImportRecord Rejected(long position, string error) => new(position, null, null, null, error);
}
