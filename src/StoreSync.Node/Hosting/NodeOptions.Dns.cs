using System.Net;
using StoreSync.Libp2p.Discovery.Dns;

namespace StoreSync.Node.Hosting;

/// <summary>DNS discovery's settings (EIP-1459, spec/discovery.md "DNS discovery in the node"), named as nwaku's flags.</summary>
public sealed partial class NodeOptions
{
    /// <summary>The tree to bootstrap from, <c>enrtree://&lt;key&gt;@&lt;domain&gt;</c> (nwaku's --dns-discovery-url; set, it turns
    /// DNS discovery on, as in nwaku since v0.37). Empty: off.</summary>
    public string DnsDiscoveryUrl { get; set; } = "";

    /// <summary>nwaku's deprecated --dns-discovery: accepted and ignored there and here; the URL alone turns discovery on.</summary>
    public bool DnsDiscovery { get; set; }

    /// <summary>Name servers asked for the tree's TXT records (nwaku's --dns-addrs-name-server, once --dns-discovery-name-server;
    /// default 1.1.1.1 and 1.0.0.1 as there). Each is an IP address, here optionally with a port (<c>127.0.0.1:5353</c>,
    /// <c>[::1]:5353</c>), which nwaku does not take: the port is what lets a test point the node at its own server.</summary>
    public List<string> DnsAddrsNameServers { get; set; } = [.. DefaultNameServers];

    /// <summary>nwaku's default name servers (Cloudflare).</summary>
    public static readonly IReadOnlyList<string> DefaultNameServers = ["1.1.1.1", "1.0.0.1"];

    /// <summary>Seconds between walks of the tree after the first (go-ethereum rechecks its trees every 30 min).</summary>
    public int DnsDiscoveryInterval { get; set; } = 1800;

    /// <summary>The parsed tree URL (--dns-discovery-url or an enrtree: entry node), or null when DNS discovery is off.</summary>
    public EnrTreeUrl? DnsDiscoveryTree() => DnsDiscoveryTreeUrl() is { Length: > 0 } url ? EnrTreeUrl.Parse(url) : null;

    /// <summary>The name servers as endpoints (port 53 when none is given).</summary>
    public IReadOnlyList<IPEndPoint> DnsNameServerEndPoints() => [.. DnsAddrsNameServers.Select(s => TryParseNameServer(s, out var e) ? e! : throw new FormatException(s))];

    /// <summary>An IP address, or an IP address and port (IPv6 in brackets when a port follows).</summary>
    public static bool TryParseNameServer(string text, out IPEndPoint? endPoint)
    {
        endPoint = null;
        if (IPAddress.TryParse(text, out var address) && !text.StartsWith('['))
        {
            endPoint = new IPEndPoint(address, 53);
            return true;
        }
        if (!IPEndPoint.TryParse(text, out var parsed) || parsed.Port == 0) return false;
        endPoint = parsed;
        return true;
    }

    /// <summary>Why <paramref name="url"/> is not an <c>enrtree://</c> URL; null when it is.</summary>
    static string? TreeUrlError(string url)
    {
        try { EnrTreeUrl.Parse(url); }
        catch (FormatException e) { return e.Message; }
        return null;
    }

    IEnumerable<string> DnsDiscoveryErrors()
    {
        if (DnsDiscoveryUrl.Length > 0 && TreeUrlError(DnsDiscoveryUrl) is { } why)
            yield return $"DnsDiscoveryUrl (--dns-discovery-url) '{DnsDiscoveryUrl}': {why}";
        if (DnsDiscoveryTreeUrl().Length > 0 && DnsAddrsNameServers.Count == 0)
            yield return "DnsAddrsNameServers (--dns-addrs-name-server) is empty: DNS discovery needs a name server";
        foreach (var server in DnsAddrsNameServers)
            if (!TryParseNameServer(server, out _))
                yield return $"DnsAddrsNameServers (--dns-addrs-name-server) '{server}' is not an IP address or IP:port";
        if (DnsDiscoveryInterval is < 10 or > 7 * 86_400)
            yield return $"DnsDiscoveryInterval {DnsDiscoveryInterval} is outside 10 s..7 days";
    }
}
