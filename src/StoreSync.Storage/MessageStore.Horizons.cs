// MessageStore's retention horizons (get, list, set); partial: setting one writes under the store's private lock into its meta family.
using RocksDbSharp;
using StoreSync.Storage.Retention;

namespace StoreSync.Storage;

public sealed partial class MessageStore
{
    /// <summary>The retention horizon of a scope (the newest message evicted from it on purpose), or null if it has none.</summary>
    public RetentionHorizon? GetRetentionHorizon(string scopeId)
    {
        RetentionHorizons.CheckScopeId(scopeId);
        return _horizons.Get(scopeId);
    }

    /// <summary>Every persisted retention horizon by scope id (a copy).</summary>
    public IReadOnlyDictionary<string, RetentionHorizon> GetRetentionHorizons() => _horizons.Snapshot();

    /// <summary>
    /// Sets (or with null clears) a scope's retention horizon, durably, under the write lock. Eviction raises horizons itself;
    /// this is for backfill (which records where it stopped) and for clearing after a limit was raised.
    /// </summary>
    public void SetRetentionHorizon(string scopeId, RetentionHorizon? horizon)
    {
        RetentionHorizons.CheckScopeId(scopeId);
        lock (_writeLock)
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed), this);
            using var write = new WriteBatch();
            var staged = _horizons.Stage(new Dictionary<string, RetentionHorizon?> { [scopeId] = horizon }, write, _meta);
            _db.Write(write, _writeOptions);
            _horizons.Apply(staged);
        }
    }

    internal RetentionHorizons Horizons => _horizons;
}
