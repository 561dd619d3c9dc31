using StoreSync.Core;
using StoreSync.Core.Proto;

namespace StoreSync.Storage.Query;

/// <summary>One row of a <see cref="StoreQueryResult"/>: the message hash and, with data, its pubsub topic and stored form.</summary>
/// <param name="Stored">The message's stored form (its canonical protobuf encoding); empty without data.</param>
/// <param name="Message">The parsed message, when the query asked for messages (<see cref="StoreQueryEngine.ExecuteWithMessages"/>).</param>
public readonly record struct StoreQueryRow(MessageHash Hash, string? PubsubTopic, ReadOnlyMemory<byte> Stored, WakuMessage? Message);
