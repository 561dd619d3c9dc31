using Microsoft.Extensions.Logging;
using StoreSync.Node.Hosting;
using StoreSync.Storage;
using StoreSync.Storage.Retention;
using StoreSync.Waku;
using StoreSync.Waku.Communities;

namespace StoreSync.Node.Communities;

/// <summary>The node's communities: seeded by the configuration, changed live (REST, CLI), persisted in the data folder, enforced by the <see cref="CommunityPolicy"/>.</summary>
/// <remarks>
/// Every change is validated as a whole set (names, owner keys, served topics) before anything is written; the state file
/// is written before the policy switches, so what the node enforces is always what a restart would load. Changes are
/// serialised by one lock; readers use the policy's snapshot.
/// </remarks>
public sealed class CommunityRegistry : IDisposable
{
    readonly NodeOptions _options;
    readonly CommunityPolicy _policy;
    readonly MessageStore _store;
    readonly IServedTopics _served;
    readonly ILogger _logger;
    readonly Lock _lock = new();
    readonly Dictionary<string, CommunityDefinition> _configured;
    readonly Dictionary<string, CommunityDataDeletion> _deletions = new(StringComparer.Ordinal);
    readonly Evictor? _evictor;
    CommunityStateFile _state = new();

    /// <param name="evictor">The store's evictor, which enforces the storage limits; null: limits are kept but not enforced.</param>
    public CommunityRegistry(NodeOptions options, CommunityPolicy policy, MessageStore store, IServedTopics served, ILogger<CommunityRegistry> logger,
        Evictor? evictor = null)
    {
        _evictor = evictor;
        _options = options;
        _policy = policy;
        _store = store;
        _served = served;
        _logger = logger;
        _configured = options.Communities.ToDictionary(kv => kv.Key, kv => kv.Value.ToDefinition(kv.Key), StringComparer.Ordinal);
        FilePath = Path.Combine(Path.GetFullPath(options.DataDir), CommunityStateFile.FileName);
        _policy.ControlApplied += _ => Persist();
    }

    public string FilePath { get; }

    public CommunityPolicy Policy => _policy;

    public IReadOnlyList<CommunityDefinition> Communities => _policy.Communities;

    public bool? StoreUnlistedSetting => _policy.StoreUnlistedSetting;

    public long MaxStoreBytes { get; private set; }

    /// <summary>The retention scopes in force, and the communities whose limits cannot be enforced (with why).</summary>
    public CommunityRetention Retention { get; private set; } = CommunityRetention.Empty;

    /// <summary>Whether storage limits are enforced at all (an evictor runs on the store).</summary>
    public bool LimitsEnforced => _evictor is not null;

    /// <summary>The store's evictor, or null.</summary>
    public Evictor? Evictor => _evictor;

    /// <summary>Problems of the configuration file's communities (part of <see cref="NodeOptions.Validate"/>).</summary>
    public static IReadOnlyList<string> CheckConfigured(NodeOptions options)
    {
        var definitions = options.Communities.Select(kv => kv.Value.ToDefinition(kv.Key)).ToList();
        var errors = CommunityPolicy.CheckSet(definitions).Select(e => "Communities: " + e).ToList();
        var served = options.ServedPubsubTopics().ToHashSet(StringComparer.Ordinal);
        foreach (var d in definitions)
            foreach (var p in d.PubsubTopics.Where(p => !served.Contains(p)))
                errors.Add($"Communities: community {d.Name}: pubsub topic {p} is not served by this node (add its shard with --shard or the topic with --pubsub-topic)");
        return errors;
    }

    /// <summary>Loads the state file, merges the configuration into it (whichever changed last wins), and puts it in force.</summary>
    /// <exception cref="InvalidDataException">The state file is damaged; it is left as it is for the operator to look at.</exception>
    public void Load()
    {
        lock (_lock)
        {
            var stored = CommunityStateFile.Read(FilePath);
            var merged = Merge(stored, out var notes);
            foreach (var note in notes) _logger.LogInformation("Communities: {Note}", note);
            var definitions = merged.Communities.Select(c => c.Definition).ToList();
            var errors = CommunityPolicy.CheckSet(definitions);
            if (errors.Count > 0) throw new InvalidDataException($"the communities in {FilePath} are not valid: {string.Join("; ", errors)}");
            foreach (var d in definitions)
                foreach (var p in d.PubsubTopics.Where(p => !_served.Serves(p)))
                    _logger.LogWarning("Community {Community}: pubsub topic {Topic} is not served by this node; nothing of it is stored", d.Name, p);
            foreach (var hex in merged.Controls)
            {
                byte[] payload;
                try { payload = Convert.FromHexString(hex); }
                catch (FormatException) { _logger.LogWarning("Communities: a stored control message is not hex; ignored"); continue; }
                if (!_policy.Restore(payload, out var error)) _logger.LogWarning("Communities: a stored control message is ignored: {Reason}", error);
            }
            MaxStoreBytes = merged.Settings.MaxStoreBytes;
            _policy.Configure(definitions, merged.Settings.StoreUnlisted);
            ApplyRetention(definitions, MaxStoreBytes);
            _state = merged;
            WriteState();
            _logger.LogInformation("Communities: {Count} defined ({OptedIn} opted in), unlisted messages {Unlisted}; state in {File}",
                definitions.Count, definitions.Count(d => d.OptedIn), _policy.StoreUnlisted ? "stored" : "refused", FilePath);
        }
    }

    /// <summary>The rule of <see cref="CommunityStateFile"/>: per community and for the settings, the file's state unless the configuration changed since.</summary>
    internal CommunityStateFile Merge(CommunityStateFile? stored, out List<string> notes)
    {
        notes = [];
        var result = new CommunityStateFile { Controls = stored?.Controls ?? [] };
        var byName = (stored?.Communities ?? []).ToDictionary(c => c.Definition.Name, StringComparer.Ordinal);
        var removed = (stored?.Removed ?? []).ToDictionary(r => r.Name, r => r.Seed, StringComparer.Ordinal);
        foreach (var (name, configured) in _configured.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            var seed = CommunityStateFile.SeedOf(configured);
            if (byName.Remove(name, out var kept))
            {
                if (kept.Seed == seed) result.Communities.Add(kept);
                else
                {
                    if (stored is not null) notes.Add($"community {name}: the configuration file changed since the last start; its definition replaces the live one");
                    result.Communities.Add(new StoredCommunity { Definition = configured, Seed = seed });
                }
            }
            else if (removed.TryGetValue(name, out var removedSeed) && removedSeed == seed)
            {
                notes.Add($"community {name}: removed live; stays removed until the configuration file changes it");
                result.Removed.Add(new RemovedCommunity { Name = name, Seed = seed });
            }
            else
            {
                result.Communities.Add(new StoredCommunity { Definition = configured, Seed = seed });
            }
        }
        foreach (var rest in byName.Values.OrderBy(c => c.Definition.Name, StringComparer.Ordinal))
        {
            if (rest.Seed is null) result.Communities.Add(rest); // added live: the configuration file never named it
            else notes.Add($"community {rest.Definition.Name}: no longer in the configuration file; removed (its stored messages are kept)");
        }
        var settingsSeed = CommunityStateFile.SeedOf(_options.StoreUnlisted, _options.MaxStoreBytes);
        result.Settings = stored?.Settings is { } s && s.Seed == settingsSeed
            ? s
            : new StoredSettings { StoreUnlisted = _options.StoreUnlisted, MaxStoreBytes = _options.MaxStoreBytes, Seed = settingsSeed };
        return result;
    }

    public CommunityDefinition Get(string name) =>
        _policy.Communities.FirstOrDefault(c => c.Name == name) ?? throw new CommunityException(CommunityError.NotFound, $"no community named '{name}'");

    /// <summary>Adds or replaces a community; true when it was added.</summary>
    public bool Put(CommunityDefinition definition)
    {
        lock (_lock)
        {
            var current = _policy.Communities.ToList();
            int at = current.FindIndex(c => c.Name == definition.Name);
            bool added = at < 0;
            if (added) current.Add(definition);
            else current[at] = definition;
            Commit(current, _policy.StoreUnlistedSetting, MaxStoreBytes, definition);
            _logger.LogInformation("Community {Community} {Change}: {PubsubCount} pubsub topics, {ContentCount} content topics, opted {OptedIn}",
                definition.Name, added ? "added" : "replaced", definition.PubsubTopics.Count, definition.ContentTopics.Count, definition.OptedIn ? "in" : "out");
            if (definition.OptedIn) CancelDeletion(definition.Name);
            return added;
        }
    }

    /// <summary>Opts a community in or out; opting out stops serving and syncing it at once and, with <paramref name="deleteData"/>, deletes its messages in the background.</summary>
    public CommunityDefinition SetOptedIn(string name, bool optedIn, bool deleteData)
    {
        if (optedIn && deleteData) throw new CommunityException(CommunityError.Invalid, "deleteData applies to disabling a community, not to enabling it");
        lock (_lock)
        {
            var updated = Get(name) with { OptedIn = optedIn };
            Put(updated);
            if (!optedIn && deleteData) StartDeletion(updated);
            return updated;
        }
    }

    /// <summary>Removes a community (its messages stay unless <paramref name="deleteData"/>; they are then unlisted).</summary>
    public void Remove(string name, bool deleteData)
    {
        lock (_lock)
        {
            var removed = Get(name);
            var current = _policy.Communities.Where(c => c.Name != name).ToList();
            Commit(current, _policy.StoreUnlistedSetting, MaxStoreBytes, null, removedName: name);
            _logger.LogInformation("Community {Community} removed", name);
            if (deleteData) StartDeletion(removed with { OptedIn = false });
        }
    }

    /// <summary>Changes the global settings: unlisted messages (true, false, null = only while no community is defined) and the global byte limit.</summary>
    public void SetSettings(bool? storeUnlisted, long maxStoreBytes)
    {
        if (maxStoreBytes < 0) throw new CommunityException(CommunityError.Invalid, $"maxStoreBytes {maxStoreBytes} is negative (0 = no global limit)");
        lock (_lock) Commit([.. _policy.Communities], storeUnlisted, maxStoreBytes, null);
    }

    /// <summary>The data deletion of a community, running or finished, if one was started since the node started.</summary>
    public CommunityDataDeletion? DeletionOf(string name)
    {
        lock (_lock) return _deletions.GetValueOrDefault(name);
    }

    void StartDeletion(CommunityDefinition community)
    {
        CancelDeletion(community.Name);
        // The store's scope deletion when nothing stored shares the community's topics and nothing more arrives for it (opted out).
        var scope = CommunityRetention.ScopeOf(community);
        bool alone = _policy.Communities.All(c => c.Name == community.Name || !c.OptedIn || !CommunityRetention.ScopeOf(c).Overlaps(scope));
        bool stillArriving = _policy.Communities.All(c => c.Name != community.Name) && _policy.StoreUnlisted;
        var job = new CommunityDataDeletion(_store, community, (p, c) => _policy.StoredByAnother(community.Name, p, c), _logger,
            alone && !stillArriving ? _evictor : null);
        _deletions[community.Name] = job;
        _logger.LogInformation("Community {Community}: deleting its {Total} messages in chunks of {Chunk}", community.Name, job.Total, CommunityDataDeletion.ChunkSize);
        job.Start();
    }

    void CancelDeletion(string name)
    {
        if (_deletions.TryGetValue(name, out var job) && job.State == "running") job.Cancel();
    }

    /// <summary>Validates the new set, writes it, then puts it in force.</summary>
    void Commit(List<CommunityDefinition> communities, bool? storeUnlisted, long maxStoreBytes, CommunityDefinition? changed, string? removedName = null)
    {
        var errors = CommunityPolicy.CheckSet(communities).ToList();
        if (changed is not null)
            foreach (var p in changed.PubsubTopics.Where(p => !_served.Serves(p)))
                errors.Add($"community {changed.Name}: pubsub topic {p} is not served by this node (it serves {string.Join(", ", _served.PubsubTopics.Order(StringComparer.Ordinal))})");
        if (errors.Count > 0) throw new CommunityException(CommunityError.Invalid, string.Join("; ", errors));

        var settingsSeed = CommunityStateFile.SeedOf(_options.StoreUnlisted, _options.MaxStoreBytes);
        var next = new CommunityStateFile
        {
            Settings = new StoredSettings { StoreUnlisted = storeUnlisted, MaxStoreBytes = maxStoreBytes, Seed = settingsSeed },
            Communities = [.. communities.Select(c => new StoredCommunity { Definition = c, Seed = SeedFor(c.Name) })],
            Removed = [.. _state.Removed.Where(r => r.Name != changed?.Name && r.Name != removedName)],
            Controls = _state.Controls,
        };
        if (removedName is not null && SeedFor(removedName) is { } seed) next.Removed.Add(new RemovedCommunity { Name = removedName, Seed = seed });
        next.Controls = ControlsToKeep(communities);
        next.Write(FilePath);
        _state = next;
        MaxStoreBytes = maxStoreBytes;
        _policy.Configure(communities, storeUnlisted);
        ApplyRetention(communities, maxStoreBytes);
    }

    void ApplyRetention(IReadOnlyList<CommunityDefinition> communities, long maxStoreBytes)
    {
        var retention = CommunityRetention.Build(communities, maxStoreBytes);
        foreach (var (name, why) in retention.NotEnforced)
            if (!Retention.NotEnforced.ContainsKey(name)) _logger.LogWarning("Community {Community}: {Why}", name, why);
        Retention = retention;
        _evictor?.Configure(retention.Configuration);
    }

    /// <summary>The owners' controls of the communities defined (those of removed communities are dropped: the file stays bounded).</summary>
    List<string> ControlsToKeep(IReadOnlyList<CommunityDefinition> communities)
    {
        var owners = communities.Select(c => c.OwnerKey).OfType<string>().ToHashSet(StringComparer.Ordinal);
        return [.. _policy.CurrentControls().Where(c => owners.Contains(Convert.ToHexStringLower(c.OwnerKey))).Select(c => Convert.ToHexStringLower(c.ToPayload()))];
    }

    string? SeedFor(string name) => _configured.TryGetValue(name, out var configured) ? CommunityStateFile.SeedOf(configured) : null;

    /// <summary>Writes the owners' controls after one was applied (they arrive by the network, not through the registry).</summary>
    void Persist()
    {
        lock (_lock)
        {
            _state.Controls = ControlsToKeep(_policy.Communities);
            try
            {
                WriteState();
            }
            catch (IOException e)
            {
                // The control is in force; it is written again with the next change, and it arrives again by sync.
                _logger.LogError(e, "Communities: could not write {File}", FilePath);
            }
        }
    }

    void WriteState() => _state.Write(FilePath);

    /// <summary>Stops running deletions (called at shutdown, before the store closes).</summary>
    public async Task StopDeletionsAsync()
    {
        List<CommunityDataDeletion> running;
        lock (_lock) running = [.. _deletions.Values];
        foreach (var job in running) job.Cancel();
        await Task.WhenAll(running.Select(j => j.Completion)).ConfigureAwait(false);
    }

    public void Dispose()
    {
        lock (_lock)
            foreach (var job in _deletions.Values) job.Cancel();
    }
}

/// <summary>What kind of refusal a <see cref="CommunityException"/> is (mapped to 404, 400, 409).</summary>
public enum CommunityError { NotFound, Invalid, Conflict }

/// <summary>A community operation that cannot be done; the message says why.</summary>
public sealed class CommunityException(CommunityError error, string message) : Exception(message)
{
    public CommunityError Error { get; } = error;
}
