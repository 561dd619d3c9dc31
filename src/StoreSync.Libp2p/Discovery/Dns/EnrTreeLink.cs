namespace StoreSync.Libp2p.Discovery.Dns;

/// <summary><c>enrtree://key@domain</c>: a link to another tree, signed by its own key.</summary>
public sealed record EnrTreeLink(EnrTreeUrl Url) : EnrTreeEntry
{
    public override string ToString() => Url.ToString();
}
