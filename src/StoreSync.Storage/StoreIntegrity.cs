using StoreSync.Core;

namespace StoreSync.Storage;

/// <summary>Walks every index of a store and reports each inconsistency (an empty list means consistent).</summary>
public static class StoreIntegrity
{
    /// <summary>At most this many problems are listed; a store broken everywhere does not produce an unbounded report.</summary>
    public const int MaxProblems = 100;

    public static IReadOnlyList<string> Check(MessageStore store)
    {
        using var view = store.OpenView();
        var problems = new List<string>();
        void Problem(string p) { if (problems.Count < MaxProblems) problems.Add(p); }
        var counted = new Dictionary<(uint, uint), TopicFigures>();
        long messages = 0;

        using (var it = view.NewIterator(view.Messages))
        {
            for (it.SeekToFirst(); it.Valid(); it.Next())
            {
                var key = it.GetKeySpan();
                if (key.Length != StoreKeys.MessageKeyLength) { Problem($"messages key of {key.Length} bytes"); continue; }
                var l = StoreKeys.ReadMessageKey(key);
                messages++;
                counted[(l.PubsubId, l.ContentId)] = counted.GetValueOrDefault((l.PubsubId, l.ContentId)) + new TopicFigures(1, it.GetValueSpan().Length);
                if (!view.TryLocate(l.Hash, out var located) || located != l) Problem($"message {l.Hash} has no matching hash index entry");
                try
                {
                    var message = MessageStore.ParseStored(it.GetValueSpan(), l.Hash);
                    if (message.Timestamp != l.Timestamp) Problem($"message {l.Hash} timestamp {message.Timestamp} differs from its key {l.Timestamp}");
                    if (message.ContentTopic != view.Topics.ContentName(l.ContentId)) Problem($"message {l.Hash} content topic differs from its key");
                    var hash = MessageHash.Compute(view.Topics.PubsubName(l.PubsubId), message);
                    if (hash != l.Hash) Problem($"message stored under {l.Hash} hashes to {hash}");
                }
                catch (StoreCorruptionException e) { Problem(e.Message); }
            }
        }
        long timeEntries = 0;
        using (var it = view.NewIterator(view.Time))
        {
            for (it.SeekToFirst(); it.Valid(); it.Next())
            {
                timeEntries++;
                var l = StoreKeys.ReadTimeKey(it.GetKeySpan(), it.GetValueSpan());
                if (view.GetMessageBytes(l) is null) Problem($"time index entry {l.Hash} points at no message");
            }
        }
        long hashEntries = 0;
        using (var it = view.NewIterator(view.Hashes))
            for (it.SeekToFirst(); it.Valid(); it.Next()) hashEntries++;
        if (timeEntries != messages) Problem($"time index holds {timeEntries} entries for {messages} messages");
        if (hashEntries != messages) Problem($"hash index holds {hashEntries} entries for {messages} messages");
        foreach (var (topic, figures) in view.Counters.Snapshot())
            if (counted.GetValueOrDefault(topic) != figures) Problem($"counters of topic ids {topic.Pubsub}/{topic.Content} say {figures}, the data {counted.GetValueOrDefault(topic)}");
        foreach (var (topic, figures) in counted)
            if (view.Counters.Get(topic.Item1, topic.Item2) != figures) Problem($"topic ids {topic.Item1}/{topic.Item2} hold {figures} but the counters say {view.Counters.Get(topic.Item1, topic.Item2)}");
        return problems;
    }
}
