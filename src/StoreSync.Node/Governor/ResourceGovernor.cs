using System.Collections.Concurrent;
using StoreSync.Libp2p.Bandwidth;
using StoreSync.Node.Hosting;
using StoreSync.Waku.Governor;

namespace StoreSync.Node.Governor;

/// <summary>The node's bandwidth limits and traffic accounts: global and per community (spec/node.md, "Bandwidth and figures").</summary>
/// <remarks>
/// History traffic is charged to the global bucket of its direction and to the bucket of every community its topics touch;
/// a chunk goes when all of them allow. Realtime traffic is charged to the global buckets without waiting, so history yields
/// to it. Limits change live (<see cref="SetLimits"/>); the change applies from the next chunk of every flow.
/// </remarks>
public sealed class ResourceGovernor : IResourceGovernor
{
    readonly ICommunityTopics _communities;
    readonly double _burstSeconds;
    readonly TimeProvider _clock;
    readonly ConcurrentDictionary<string, TrafficAccount> _accounts = new(StringComparer.Ordinal);
    readonly Dictionary<string, BandwidthLimitOptions> _communityLimits;
    readonly Lock _limitsLock = new();

    public ResourceGovernor(NodeOptions options, ICommunityTopics communities, TimeProvider? clock = null)
        : this(new BandwidthLimitOptions { UploadBytesPerSecond = options.UploadBytesPerSecond, DownloadBytesPerSecond = options.DownloadBytesPerSecond },
            options.CommunityBandwidth, options.BandwidthBurstSeconds, communities, clock)
    {
    }

    public ResourceGovernor(BandwidthLimitOptions global, IReadOnlyDictionary<string, BandwidthLimitOptions> perCommunity, double burstSeconds,
        ICommunityTopics communities, TimeProvider? clock = null)
    {
        _communities = communities;
        _burstSeconds = burstSeconds;
        _clock = clock ?? TimeProvider.System;
        Global = new TrafficAccount(null, global, burstSeconds, _clock);
        _communityLimits = perCommunity.ToDictionary(kv => kv.Key, kv => Copy(kv.Value), StringComparer.Ordinal);
    }

    public TrafficAccount Global { get; }

    public bool CpuSupported => ThreadCpuTime.Supported;

    /// <summary>The account of a community (created on first use; at most <see cref="GovernorLimits.MaxCommunityAccounts"/>).</summary>
    public TrafficAccount? Community(string name)
    {
        if (_accounts.TryGetValue(name, out var account)) return account;
        if (_accounts.Count >= GovernorLimits.MaxCommunityAccounts) return null;
        BandwidthLimitOptions limits;
        lock (_limitsLock) limits = Copy(_communityLimits.GetValueOrDefault(name) ?? new BandwidthLimitOptions());
        return _accounts.GetOrAdd(name, n => new TrafficAccount(n, limits, _burstSeconds, _clock));
    }

    /// <summary>Accounts of the current communities, in their order.</summary>
    public IReadOnlyList<TrafficAccount> CommunityAccounts =>
        [.. _communities.Communities.Select(c => Community(c.Name)).OfType<TrafficAccount>()];

    public IReadOnlyList<CommunityTopics> Communities => _communities.Communities;

    /// <summary>Sets the limits of the node (<paramref name="community"/> null) or of one community.</summary>
    public void SetLimits(string? community, BandwidthLimitOptions limits)
    {
        var errors = limits.Validate();
        if (errors.Count > 0) throw new ArgumentException(string.Join("; ", errors), nameof(limits));
        if (community is null)
        {
            Global.SetLimits(limits);
            return;
        }
        lock (_limitsLock) _communityLimits[community] = Copy(limits);
        Community(community)?.SetLimits(limits);
    }

    /// <summary>The limits of every community that has its own (live values).</summary>
    public IReadOnlyDictionary<string, BandwidthLimitOptions> CommunityLimits
    {
        get { lock (_limitsLock) return _communityLimits.ToDictionary(kv => kv.Key, kv => Copy(kv.Value), StringComparer.Ordinal); }
    }

    public BandwidthChain HistoryUpload(TrafficScope scope) => Chain(scope, a => a.Upload);

    public BandwidthChain HistoryDownload(TrafficScope scope) => Chain(scope, a => a.Download);

    public void RealtimeIn(int bytes) => Global.Download.Charge(bytes);

    public void RealtimeOut(int bytes) => Global.Upload.Charge(bytes);

    public void RecordCpu(string protocol, TrafficScope scope, long nanoseconds)
    {
        if (nanoseconds <= 0) return;
        Global.AddCpu(protocol, nanoseconds);
        foreach (var account in Touched(scope)) account.AddCpu(protocol, nanoseconds);
    }

    /// <summary>Takes one sample of every account's traffic (called once per <see cref="GovernorLimits.SampleInterval"/>).</summary>
    public void Sample()
    {
        Global.Sample();
        foreach (var account in CommunityAccounts) account.Sample();
    }

    BandwidthChain Chain(TrafficScope scope, Func<TrafficAccount, TokenBucket> bucket)
    {
        var buckets = new List<TokenBucket>(2);
        foreach (var account in Touched(scope)) buckets.Add(bucket(account));
        buckets.Add(bucket(Global));
        return new BandwidthChain(buckets);
    }

    IEnumerable<TrafficAccount> Touched(TrafficScope scope)
    {
        if (scope.PubsubTopic is not { } pubsub) yield break;
        foreach (var c in _communities.Communities)
            if (c.Touches(pubsub, scope.ContentTopics) && Community(c.Name) is { } account) yield return account;
    }

    static BandwidthLimitOptions Copy(BandwidthLimitOptions o) => new() { UploadBytesPerSecond = o.UploadBytesPerSecond, DownloadBytesPerSecond = o.DownloadBytesPerSecond };
}
