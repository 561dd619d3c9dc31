using StoreSync.Core;
using StoreSync.Core.Proto;
using StoreSync.Storage.Retention;

namespace StoreSync.Storage.Tests;

/// <summary>
/// The naive reference of retention: a list of messages, sorted afresh for every decision. Scope goals are computed here from
/// the policy types themselves, not through the policies' own code, so the model checks the strategies too.
/// </summary>
public sealed class RetentionModel
{
    public sealed record Row(string Pubsub, WakuMessage Message, MessageHash Hash, long Bytes)
    {
        public (long, MessageHash) Key => (Message.Timestamp, Hash);
    }

    public Dictionary<MessageHash, Row> Rows { get; } = [];

    public Dictionary<string, (long Timestamp, MessageHash Hash, RetentionLimits Limits)> Horizons { get; } = new(StringComparer.Ordinal);

    public RetentionConfiguration Configuration { get; private set; } = RetentionConfiguration.Empty;

    public DateTimeOffset Now { get; set; } = DateTimeOffset.UnixEpoch;

    public bool RefuseBelowHorizon { get; init; } = true;

    public static Row RowOf(string pubsub, WakuMessage m) => new(pubsub, m, MessageHash.Compute(pubsub, m), m.CalculateSize());

    static int Compare(Row a, Row b)
    {
        int c = a.Message.Timestamp.CompareTo(b.Message.Timestamp);
        return c != 0 ? c : a.Hash.CompareTo(b.Hash);
    }

    int ScopeOf(Row r)
    {
        for (int i = 0; i < Configuration.Scopes.Count; i++)
            if (Configuration.Scopes[i].Scope.Topics.Any(t => t.PubsubTopic == r.Pubsub && (t.ContentTopics.Count == 0 || t.ContentTopics.Contains(r.Message.ContentTopic))))
                return i;
        return -1;
    }

    static bool Covered((long Timestamp, MessageHash Hash, RetentionLimits) h, Row r) =>
        r.Message.Timestamp < h.Timestamp || (r.Message.Timestamp == h.Timestamp && r.Hash <= h.Hash);

    /// <summary>Returns (inserted, duplicates, refused) as the store should.</summary>
    public (int, int, int) Ingest(IEnumerable<Row> batch)
    {
        int inserted = 0, duplicates = 0, refused = 0;
        var seen = new HashSet<MessageHash>();
        foreach (var r in batch)
        {
            if (!seen.Add(r.Hash) || Rows.ContainsKey(r.Hash)) { duplicates++; continue; }
            int s = ScopeOf(r);
            if (RefuseBelowHorizon && s >= 0 && Horizons.TryGetValue(Configuration.Scopes[s].Scope.Id, out var h) && Covered(h, r)) { refused++; continue; }
            Rows[r.Hash] = r;
            inserted++;
        }
        return (inserted, duplicates, refused);
    }

    RetentionLimits LimitsOf(int s)
    {
        long? bytes = null, messages = null;
        TimeSpan? age = null;
        foreach (var p in Configuration.Scopes[s].Policies)
            switch (p)
            {
                case SizeRetentionPolicy z: bytes = Math.Min(bytes ?? long.MaxValue, z.MaxBytes); break;
                case CountRetentionPolicy c: messages = Math.Min(messages ?? long.MaxValue, c.MaxMessages); break;
                case TimeRetentionPolicy t: age = age is { } a && a < t.MaxAge ? a : t.MaxAge; break;
            }
        return new RetentionLimits(bytes, messages, age, Configuration.GlobalMaxBytes);
    }

    static bool Looser(long? now, long? then) => then is { } t && (now is null || now > t);

    public List<string> Configure(RetentionConfiguration configuration)
    {
        Configuration = configuration;
        var cleared = new List<string>();
        for (int s = 0; s < configuration.Scopes.Count; s++)
        {
            string id = configuration.Scopes[s].Scope.Id;
            if (!Horizons.TryGetValue(id, out var h)) continue;
            var now = LimitsOf(s);
            if (Looser(now.MaxBytes, h.Limits.MaxBytes) || Looser(now.MaxMessages, h.Limits.MaxMessages) ||
                Looser(now.MaxAge?.Ticks, h.Limits.MaxAge?.Ticks) || Looser(now.GlobalMaxBytes, h.Limits.GlobalMaxBytes))
            {
                Horizons.Remove(id);
                cleared.Add(id);
            }
        }
        return cleared;
    }

    void Evict(Row r, int s)
    {
        Rows.Remove(r.Hash);
        string id = Configuration.Scopes[s].Scope.Id;
        if (!Horizons.TryGetValue(id, out var h) || !Covered(h, r)) h = (r.Message.Timestamp, r.Hash, default);
        Horizons[id] = (h.Timestamp, h.Hash, LimitsOf(s));
    }

    /// <summary>Per-scope policies (each scope's FIFO), then the global limit by priority, FIFO over each priority's union.</summary>
    public void Evict()
    {
        long nowNs = (Now - DateTimeOffset.UnixEpoch).Ticks * 100;
        for (int s = 0; s < Configuration.Scopes.Count; s++)
        {
            var members = Rows.Values.Where(r => ScopeOf(r) == s).ToList();
            members.Sort(Compare);
            long bytesOver = long.MinValue, messagesOver = long.MinValue, cutoff = long.MinValue;
            foreach (var p in Configuration.Scopes[s].Policies)
                switch (p)
                {
                    case SizeRetentionPolicy z: bytesOver = Math.Max(bytesOver, members.Sum(r => r.Bytes) - z.MaxBytes); break;
                    case CountRetentionPolicy c: messagesOver = Math.Max(messagesOver, members.Count - c.MaxMessages); break;
                    case TimeRetentionPolicy t: cutoff = Math.Max(cutoff, nowNs - t.MaxAge.Ticks * 100); break;
                }
            long freedBytes = 0, freedMessages = 0;
            foreach (var r in members)
            {
                if (!(freedBytes < bytesOver || freedMessages < messagesOver || r.Message.Timestamp < cutoff)) break;
                Evict(r, s);
                freedBytes += r.Bytes;
                freedMessages++;
            }
        }
        if (Configuration.GlobalMaxBytes is not { } max) return;
        long over = Rows.Values.Where(r => ScopeOf(r) >= 0).Sum(r => r.Bytes) - max, freed = 0;
        foreach (var priority in Configuration.Scopes.Select(s => s.Priority).Distinct().Order())
        {
            var members = Rows.Values.Where(r => ScopeOf(r) is int s && s >= 0 && Configuration.Scopes[s].Priority == priority).ToList();
            members.Sort(Compare);
            foreach (var r in members)
            {
                if (freed >= over) return;
                Evict(r, ScopeOf(r));
                freed += r.Bytes;
            }
        }
    }

    public void DeleteScope(RetentionScope scope)
    {
        foreach (var r in Rows.Values.Where(r => scope.Covers(r.Pubsub, r.Message.ContentTopic)).ToList()) Rows.Remove(r.Hash);
        Horizons.Remove(scope.Id);
    }
}
