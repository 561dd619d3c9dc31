namespace StoreSync.Waku.Communities;

/// <summary>Whether a community is served now and why not.</summary>
public sealed record CommunityServingState(string Name, bool OptedIn, bool OwnerServing, long? OwnerSwitchTimestamp, int Members,
    long? MembersTimestamp, bool Serving, string Reason);
