using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StoreSync.Core;
using StoreSync.Core.Proto;
using StoreSync.Reconciliation;
using StoreSync.Storage.Query;
using StoreSync.Waku.Ingress;
using StoreSync.Waku.Proto;

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
    volatile CommunitySnapshot _snapshot;

    public CommunityPolicy(IServedTopics served, CommunityMetrics? metrics = null, ILogger<CommunityPolicy>? logger = null)
    {
        _served = served;
        _metrics = metrics;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _snapshot = new CommunitySnapshot([], null, _owners, served);
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
        lock (_lock) _snapshot = new CommunitySnapshot([.. communities], storeUnlisted, _owners, _served);
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
        CommunityEntry? optedIn = null;
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

    Admission AdmitControl(CommunityEntry community, WakuMessage message, string source)
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

    Admission InvalidControl(CommunityEntry community, string why)
    {
        string name = community.Definition.Name;
        CountersOf(name).CountControlInvalid();
        _metrics?.Control.Add(1, Tag(name), new KeyValuePair<string, object?>("outcome", "invalid"));
        return new Admission(IngressRejection.ControlInvalid, $"control message of community {name} ignored: {why}");
    }

    void Count(CommunityEntry community, IngressRejection reason)
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
            _snapshot = new CommunitySnapshot(current.Definitions, current.StoreUnlistedSetting, _owners, _served);
        }
        if (raiseApplied) ControlApplied?.Invoke(control);
        Changed?.Invoke();
        return true;
    }
}
