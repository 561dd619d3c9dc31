using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StoreSync.Core;
using StoreSync.Core.Proto;
using StoreSync.Reconciliation;
using StoreSync.Storage.Query;
using StoreSync.Waku.Ingress;

namespace StoreSync.Waku.Communities;

/// <summary>
/// The communities in force: decides what is stored (as the ingress's admission), served and synced, applies owners'
/// signed control messages (newest valid one wins) and enforces authorship policies.
/// </summary>
/// <remarks>
/// Reads take a volatile immutable snapshot and never lock; changes (definitions, owner states) build a new snapshot under
/// a lock. Rules (spec/communities.md): a message belongs to every community whose pubsub topics hold its pubsub topic and
/// whose content topics (empty: all) hold its content topic or whose control topic it is on. Stored if at least one of
/// them is opted in; served and synced if at least one is opted in and none has its owner's switch off; a message of no
/// community is stored and served when unlisted messages are (by default only while no community is defined).
/// </remarks>
public sealed class CommunityPolicy : ICommunityPolicy, IMessageAdmission, IStoreVisibility
{
    /// <summary>Communities per node: bounds the memory and the cardinality of the <c>community</c> metric label.</summary>
    public const int MaxCommunities = 256;

    readonly IServedTopics _served;
    readonly CommunityMetrics? _metrics;
    readonly ILogger _logger;
    readonly Lock _lock = new();
    readonly ConcurrentDictionary<string, OwnerState> _owners = new(StringComparer.Ordinal);
    readonly ConcurrentDictionary<string, CommunityCounters> _counters = new(StringComparer.Ordinal);
    volatile Snapshot _snapshot;

    public CommunityPolicy(IServedTopics served, CommunityMetrics? metrics = null, ILogger<CommunityPolicy>? logger = null)
    {
        _served = served;
        _metrics = metrics;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _snapshot = new Snapshot([], null, _owners, served);
    }

    /// <summary>Raised after any change of what is stored, served or synced.</summary>
    public event Action? Changed;

    /// <summary>Raised (outside any lock) when a valid control message changed an owner's state: persist it.</summary>
    public event Action<CommunityControl>? ControlApplied;

    public IReadOnlyList<CommunityDefinition> Communities => _snapshot.Definitions;

    /// <summary>The setting: true/false, or null for "only while no community is defined".</summary>
    public bool? StoreUnlistedSetting => _snapshot.StoreUnlistedSetting;

    /// <summary>Whether messages of no community are stored, served and synced now.</summary>
    public bool StoreUnlisted => _snapshot.StoreUnlisted;

    /// <summary>Replaces the definitions (already validated by the caller; re-checked here for what would corrupt the rules).</summary>
    /// <exception cref="ArgumentException">Invalid, duplicate names, a shared owner key, or more than <see cref="MaxCommunities"/>.</exception>
    public void Configure(IReadOnlyList<CommunityDefinition> communities, bool? storeUnlisted)
    {
        var errors = CheckSet(communities);
        if (errors.Count > 0) throw new ArgumentException(string.Join("; ", errors), nameof(communities));
        lock (_lock) _snapshot = new Snapshot([.. communities], storeUnlisted, _owners, _served);
        Changed?.Invoke();
    }

    /// <summary>Problems of a set of definitions taken together: each one's own, duplicate names, owner keys used twice.</summary>
    public static IReadOnlyList<string> CheckSet(IReadOnlyList<CommunityDefinition> communities)
    {
        var errors = new List<string>();
        if (communities.Count > MaxCommunities) errors.Add($"{communities.Count} communities, at most {MaxCommunities}");
        foreach (var c in communities) errors.AddRange(c.Validate());
        foreach (var g in communities.GroupBy(c => c.Name, StringComparer.Ordinal).Where(g => g.Count() > 1))
            errors.Add($"community name {g.Key} is used {g.Count()} times");
        foreach (var g in communities.Where(c => c.OwnerKey is not null).GroupBy(c => c.OwnerKey, StringComparer.Ordinal).Where(g => g.Count() > 1))
            errors.Add($"owner key {g.Key} is used by communities {string.Join(", ", g.Select(c => c.Name))}: one owner key identifies one community (its control topic)");
        return errors;
    }

    /// <summary>The owner state of <paramref name="ownerKeyHex"/> (empty if nothing was seen).</summary>
    public OwnerState OwnerStateOf(string ownerKeyHex) => _owners.GetValueOrDefault(ownerKeyHex) ?? OwnerState.Empty;

    /// <summary>Every owner's current controls, for persistence.</summary>
    public IReadOnlyList<CommunityControl> CurrentControls() => [.. _owners.Values.SelectMany(o => o.Controls())];

    /// <summary>Counters of <paramref name="name"/> (created on first use; kept after the community is removed until restart).</summary>
    public CommunityCounters CountersOf(string name) => _counters.GetOrAdd(name, _ => new CommunityCounters());

    /// <summary>Re-applies a persisted control payload at start: decoded and verified again, so a damaged file cannot switch anything.</summary>
    public bool Restore(ReadOnlySpan<byte> payload, out string error)
    {
        if (!CommunityControl.TryParse(payload, out var control, out error)) return false;
        if (!control!.VerifySignature())
        {
            error = "signature does not verify";
            return false;
        }
        Apply(control, raiseApplied: false);
        return true;
    }

    /// <summary>Serving state of one community now.</summary>
    public CommunityServingState StateOf(CommunityDefinition community)
    {
        var owner = community.OwnerKey is null ? OwnerState.Empty : OwnerStateOf(community.OwnerKey);
        string reason = !community.OptedIn ? "not opted in" : !owner.Serving ? "serving switched off by its owner" : "";
        return new CommunityServingState(community.Name, community.OptedIn, owner.Serving, owner.Switch?.Timestamp,
            owner.MemberCount, owner.MemberList?.Timestamp, community.OptedIn && owner.Serving, reason);
    }

    // ---- serving and syncing ----

    public bool MayServe(string pubsubTopic, string contentTopic, out string reason) => _snapshot.Visible(pubsubTopic, contentTopic, out reason, out _);

    /// <remarks>A refusal is counted against the community it names (the figures' <c>syncRefused</c>).</remarks>
    public bool MaySync(string pubsubTopic, string contentTopic)
    {
        if (_snapshot.Visible(pubsubTopic, contentTopic, out _, out var blocking)) return true;
        if (blocking is not null) CountersOf(blocking).CountSyncRefused();
        return false;
    }

    bool IStoreVisibility.IsVisible(string pubsubTopic, string contentTopic) => _snapshot.Visible(pubsubTopic, contentTopic, out _, out _);

    /// <summary>
    /// Why a store query must be refused (503), or null: a query naming a pubsub topic and content topics is refused when
    /// one of those pairs is not served, so the client learns to ask another node instead of reading an empty history.
    /// Other queries (a whole pubsub topic, hash lookups) are answered with the hidden rows left out (<see cref="IStoreVisibility"/>).
    /// </summary>
    public string? QueryRefusal(StoreQueryRequest request)
    {
        if (!request.HasPubsubTopic || request.ContentTopics.Count == 0 || request.MessageHashes.Count > 0) return null;
        foreach (var c in request.ContentTopics)
            if (!MayServeCounted(request.PubsubTopic, c, out var reason)) return "SERVICE_UNAVAILABLE: " + reason;
        return null;
    }

    /// <summary>As <see cref="MayServe"/>, and counts a refusal against the community it names (store queries refused).</summary>
    public bool MayServeCounted(string pubsubTopic, string contentTopic, out string reason)
    {
        if (_snapshot.Visible(pubsubTopic, contentTopic, out reason, out var blocking)) return true;
        if (blocking is not null)
        {
            CountersOf(blocking).CountQueryRefused();
            _metrics?.QueriesRefused.Add(1, new KeyValuePair<string, object?>("community", blocking));
        }
        return false;
    }

    /// <remarks>A refusal is counted against every hidden community on the scope's topics (the figures' <c>syncRefused</c>).</remarks>
    public bool IsSyncable(SyncScope scope)
    {
        var snapshot = _snapshot;
        if (snapshot.IsSyncable(scope)) return true;
        foreach (var e in snapshot.Entries)
        {
            if (e.Visible) continue;
            bool onTopics = scope.PubsubTopics.Count == 0 ? e.Pubsub.Count > 0 : scope.PubsubTopics.Any(e.Pubsub.Contains);
            bool onContent = scope.ContentTopics.Count == 0 || e.Content is null || scope.ContentTopics.Any(c => e.Content.Contains(c) || c == e.ControlTopic);
            if (onTopics && onContent) CountersOf(e.Definition.Name).CountSyncRefused();
        }
        return false;
    }

    public IReadOnlyList<SyncScope> SyncScopes => _snapshot.SyncScopes;


    /// <summary>Whether a community other than <paramref name="community"/> that is opted in holds the pair (its messages must stay when that one's data is deleted).</summary>
    public bool StoredByAnother(string community, string pubsubTopic, string contentTopic)
    {
        foreach (var e in _snapshot.Containing(pubsubTopic, contentTopic))
            if (e.Definition.Name != community && e.Definition.OptedIn) return true;
        return false;
    }

    // ---- ingest ----

    public Admission Admit(string pubsubTopic, WakuMessage message, in MessageHash hash, string source)
    {
        var snapshot = _snapshot;
        string content = message.ContentTopic;
        if (snapshot.ByControlTopic.TryGetValue(content, out var owned) && owned.Pubsub.Contains(pubsubTopic))
            return AdmitControl(owned, message, source);

        var members = snapshot.Containing(pubsubTopic, content);
        if (members.Count == 0)
        {
            return snapshot.StoreUnlisted
                ? Admission.Accept
                : new Admission(IngressRejection.NotInCommunity, $"content topic {content} on {pubsubTopic} belongs to no community this node stores");
        }
        Entry? optedIn = null;
        foreach (var e in members)
            if (e.Definition.OptedIn) { optedIn = e; break; }
        if (optedIn is null)
        {
            foreach (var e in members) Count(e, IngressRejection.NotOptedIn);
            return new Admission(IngressRejection.NotOptedIn, $"community {members[0].Definition.Name} is not stored by this node (not opted in)");
        }
        byte[]? author = null;
        bool recovered = false;
        foreach (var e in members)
        {
            if (!e.Definition.OptedIn || !e.Definition.RequireAuthorSignature) continue;
            if (!recovered)
            {
                author = AuthorSignature.RecoverAuthor(pubsubTopic, message);
                recovered = true;
            }
            if (author is null)
            {
                Count(e, IngressRejection.Unauthorised);
                return new Admission(IngressRejection.Unauthorised, $"community {e.Definition.Name} requires an author signature in meta (64 bytes) and the message has none or a malformed one");
            }
            string authorHex = Convert.ToHexStringLower(author);
            if (authorHex != e.OwnerHex && !OwnerStateOf(e.OwnerHex!).IsMember(authorHex))
            {
                Count(e, IngressRejection.Unauthorised);
                return new Admission(IngressRejection.Unauthorised, $"community {e.Definition.Name}: author {authorHex} is neither the owner nor in the owner's member list");
            }
        }
        return Admission.Accept;
    }

    Admission AdmitControl(Entry community, WakuMessage message, string source)
    {
        string name = community.Definition.Name;
        if (!CommunityControl.TryParse(message.Payload.Span, out var control, out var error))
            return InvalidControl(community, error);
        if (Convert.ToHexStringLower(control!.OwnerKey) != community.OwnerHex)
            return InvalidControl(community, "signed by a key that is not the owner of the topic");
        if (control.Timestamp != message.Timestamp)
            return InvalidControl(community, $"signed timestamp {control.Timestamp} differs from the message timestamp {message.Timestamp}");
        if (!control.VerifySignature())
            return InvalidControl(community, "the owner's signature does not verify");
        if (Apply(control, raiseApplied: true))
        {
            CountersOf(name).CountControlApplied();
            _metrics?.Control.Add(1, Tag(name), new KeyValuePair<string, object?>("outcome", "applied"));
            _logger.LogInformation("Community {Community}: owner's {Kind} of {Timestamp} from {Source} applied ({State})", name, control.Kind,
                Core.Timestamp.Format(control.Timestamp), source,
                control.Kind == CommunityControlKind.Switch ? (control.Serving ? "serving on" : "serving off") : $"{control.Members.Count} members");
        }
        else
        {
            CountersOf(name).CountControlStale();
            _metrics?.Control.Add(1, Tag(name), new KeyValuePair<string, object?>("outcome", "stale"));
        }
        if (!community.Definition.OptedIn)
        {
            Count(community, IngressRejection.NotOptedIn);
            return new Admission(IngressRejection.NotOptedIn, $"community {name} is not stored by this node (not opted in); its owner's control message was applied");
        }
        return Admission.Accept;
    }

    Admission InvalidControl(Entry community, string why)
    {
        string name = community.Definition.Name;
        CountersOf(name).CountControlInvalid();
        _metrics?.Control.Add(1, Tag(name), new KeyValuePair<string, object?>("outcome", "invalid"));
        return new Admission(IngressRejection.ControlInvalid, $"control message of community {name} ignored: {why}");
    }

    void Count(Entry community, IngressRejection reason)
    {
        var counters = CountersOf(community.Definition.Name);
        if (reason == IngressRejection.NotOptedIn) counters.CountNotOptedIn();
        else if (reason == IngressRejection.Unauthorised) counters.CountUnauthorised();
        _metrics?.Rejected.Add(1, Tag(community.Definition.Name), new KeyValuePair<string, object?>("reason", reason.ToString()));
    }

    static KeyValuePair<string, object?> Tag(string community) => new("community", community);

    /// <summary>Applies a verified control; true when it changed the owner's state.</summary>
    bool Apply(CommunityControl control, bool raiseApplied)
    {
        string owner = Convert.ToHexStringLower(control.OwnerKey);
        lock (_lock)
        {
            var next = OwnerStateOf(owner).With(control);
            if (next is null) return false;
            _owners[owner] = next;
            var current = _snapshot;
            _snapshot = new Snapshot(current.Definitions, current.StoreUnlistedSetting, _owners, _served);
        }
        if (raiseApplied) ControlApplied?.Invoke(control);
        Changed?.Invoke();
        return true;
    }

    /// <summary>One community, prepared for lookups.</summary>
    internal sealed class Entry(CommunityDefinition definition, OwnerState owner)
    {
        public CommunityDefinition Definition { get; } = definition;
        public HashSet<string> Pubsub { get; } = new(definition.PubsubTopics, StringComparer.Ordinal);

        /// <summary>Null: every content topic.</summary>
        public HashSet<string>? Content { get; } = definition.ContentTopics.Count == 0 ? null : new(definition.ContentTopics, StringComparer.Ordinal);

        public string? OwnerHex { get; } = definition.OwnerKey;
        public string? ControlTopic { get; } = definition.OwnerKey is null ? null : CommunityControl.ContentTopicFor(definition.OwnerKey);
        public bool OwnerServing { get; } = owner.Serving;

        /// <summary>Opted in and not switched off by its owner.</summary>
        public bool Visible => Definition.OptedIn && OwnerServing;

        public bool Holds(string pubsubTopic, string contentTopic) =>
            Pubsub.Contains(pubsubTopic) && (Content is null || Content.Contains(contentTopic) || contentTopic == ControlTopic);
    }

    /// <summary>An immutable view of definitions and owner states; every read works on one.</summary>
    sealed class Snapshot
    {
        readonly IServedTopics _served;
        IReadOnlyList<SyncScope>? _syncScopes;

        public Snapshot(CommunityDefinition[] definitions, bool? storeUnlisted, IReadOnlyDictionary<string, OwnerState> owners, IServedTopics served)
        {
            _served = served;
            Definitions = definitions;
            StoreUnlistedSetting = storeUnlisted;
            StoreUnlisted = storeUnlisted ?? definitions.Length == 0;
            Entries = [.. definitions.Select(d => new Entry(d, d.OwnerKey is null ? OwnerState.Empty : owners.GetValueOrDefault(d.OwnerKey) ?? OwnerState.Empty))];
            foreach (var e in Entries)
            {
                foreach (var p in e.Pubsub)
                {
                    if (!ByPubsub.TryGetValue(p, out var list)) ByPubsub[p] = list = [];
                    list.Add(e);
                }
                if (e.ControlTopic is not null) ByControlTopic[e.ControlTopic] = e;
            }
        }

        public CommunityDefinition[] Definitions { get; }
        public bool? StoreUnlistedSetting { get; }
        public bool StoreUnlisted { get; }
        public Entry[] Entries { get; }
        public Dictionary<string, List<Entry>> ByPubsub { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, Entry> ByControlTopic { get; } = new(StringComparer.Ordinal);

        public List<Entry> Containing(string pubsubTopic, string contentTopic)
        {
            var result = new List<Entry>();
            if (ByPubsub.TryGetValue(pubsubTopic, out var candidates))
                foreach (var e in candidates)
                    if (e.Holds(pubsubTopic, contentTopic)) result.Add(e);
            return result;
        }

        /// <summary>The serving rule; <paramref name="blocking"/> names the community that makes the pair invisible, if one does.</summary>
        public bool Visible(string pubsubTopic, string contentTopic, out string reason, out string? blocking)
        {
            reason = "";
            blocking = null;
            // A control topic is served while its community is opted in, even when its owner switched serving off:
            // that is how the switch (and a later switch-on) keeps reaching other nodes.
            if (ByControlTopic.TryGetValue(contentTopic, out var owned) && owned.Pubsub.Contains(pubsubTopic))
            {
                if (owned.Definition.OptedIn) return true;
                blocking = owned.Definition.Name;
                reason = $"community {blocking} is not served by this node (not opted in)";
                return false;
            }
            if (!ByPubsub.TryGetValue(pubsubTopic, out var candidates))
            {
                if (StoreUnlisted) return true;
                reason = $"content topic {contentTopic} on {pubsubTopic} belongs to no community this node serves";
                return false;
            }
            Entry? optedIn = null, any = null;
            foreach (var e in candidates)
            {
                if (!e.Holds(pubsubTopic, contentTopic)) continue;
                any ??= e;
                if (e.Definition.OptedIn && !e.OwnerServing)
                {
                    blocking = e.Definition.Name;
                    reason = $"community {blocking} is not served: its owner switched serving off";
                    return false;
                }
                if (e.Definition.OptedIn) optedIn ??= e;
            }
            if (optedIn is not null) return true;
            if (any is not null)
            {
                blocking = any.Definition.Name;
                reason = $"community {blocking} is not served by this node (not opted in)";
                return false;
            }
            if (StoreUnlisted) return true;
            reason = $"content topic {contentTopic} on {pubsubTopic} belongs to no community this node serves";
            return false;
        }

        public bool IsSyncable(SyncScope scope)
        {
            var pubsubs = scope.PubsubTopics.Count > 0 ? scope.PubsubTopics : (IReadOnlyCollection<string>)_served.PubsubTopics;
            foreach (var p in pubsubs)
            {
                if (scope.ContentTopics.Count > 0)
                {
                    foreach (var c in scope.ContentTopics)
                        if (!Visible(p, c, out _, out _)) return false;
                }
                else if (!WholeTopicVisible(p)) return false;
            }
            return true;
        }

        /// <summary>Every content topic on <paramref name="pubsubTopic"/> visible: no hidden community there, and the rest is unlisted-and-stored or some visible community's.</summary>
        bool WholeTopicVisible(string pubsubTopic)
        {
            if (!ByPubsub.TryGetValue(pubsubTopic, out var entries)) return StoreUnlisted;
            bool covered = StoreUnlisted;
            foreach (var e in entries)
            {
                if (!e.Definition.OptedIn || !e.OwnerServing) return false;
                if (e.Content is null) covered = true;
            }
            return covered;
        }

        public IReadOnlyList<SyncScope> SyncScopes => _syncScopes ??= ComputeSyncScopes();

        IReadOnlyList<SyncScope> ComputeSyncScopes()
        {
            if (Entries.Length == 0) return StoreUnlisted ? [SyncScope.All] : [];
            var scopes = new List<SyncScope>();
            foreach (var e in Entries)
            {
                if (!e.Definition.OptedIn) continue;
                IReadOnlyList<string> content = !e.OwnerServing ? [e.ControlTopic!]
                    : e.Content is null ? []
                    : [.. e.Definition.ContentTopics, .. (e.ControlTopic is null ? Array.Empty<string>() : [e.ControlTopic])];
                // Keep only the pubsub topics over which the whole product may be synced (overlapping communities can hide parts).
                var pubsubs = e.Definition.PubsubTopics.Where(p => _served.Serves(p) && IsSyncable(new SyncScope([p], content))).ToArray();
                if (pubsubs.Length > 0) scopes.Add(new SyncScope(pubsubs, content));
            }
            if (StoreUnlisted)
            {
                var open = _served.PubsubTopics.Where(p => !ByPubsub.ContainsKey(p)).Order(StringComparer.Ordinal).ToArray();
                if (open.Length > 0) scopes.Add(new SyncScope(open, []));
            }
            return scopes.Distinct().ToList();
        }
    }
}

/// <summary>Whether a community is served now and why not.</summary>
public sealed record CommunityServingState(string Name, bool OptedIn, bool OwnerServing, long? OwnerSwitchTimestamp, int Members,
    long? MembersTimestamp, bool Serving, string Reason);
