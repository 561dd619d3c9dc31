using System.Net;
using System.Net.Sockets;
using StoreSync.Libp2p.Identity;

namespace StoreSync.Libp2p.Multiformats;

/// <summary>A self-describing network address (multiformats multiaddr) in its text and binary forms.</summary>
public sealed class Multiaddr : IEquatable<Multiaddr>
{
    /// <summary>Longest text accepted by <see cref="Parse"/>; real addresses are well under 300 characters.</summary>
    public const int MaxTextLength = 4096;

    /// <summary>Longest binary form accepted by <see cref="FromBytes"/>.</summary>
    public const int MaxBinaryLength = 2048;

    /// <summary>Bounds the component loop independently of the byte limit.</summary>
    public const int MaxComponents = 64;

    private readonly MultiaddrComponent[] _components;
    private string? _text;

    public IReadOnlyList<MultiaddrComponent> Components => _components;

    public Multiaddr(IEnumerable<MultiaddrComponent> components)
    {
        _components = components.ToArray();
        if (_components.Length > MaxComponents) throw new ArgumentException($"more than {MaxComponents} components", nameof(components));
    }

    /// <exception cref="FormatException">Says which part of <paramref name="text"/> is wrong.</exception>
    public static Multiaddr Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length > MaxTextLength) throw new FormatException($"multiaddr longer than {MaxTextLength} characters");
        if (text.Length == 0 || text[0] != '/') throw new FormatException($"multiaddr '{Shorten(text)}' must start with '/'");
        // A single trailing '/' is tolerated as other implementations do; empty inner parts are not.
        var body = text.Length > 1 && text[^1] == '/' ? text[1..^1] : text[1..];
        var components = new List<MultiaddrComponent>();
        if (body.Length == 0) return new Multiaddr(components);
        var parts = body.Split('/');
        for (int i = 0; i < parts.Length; i++)
        {
            if (components.Count == MaxComponents) throw new FormatException($"multiaddr has more than {MaxComponents} components");
            var name = parts[i];
            if (name.Length == 0) throw new FormatException($"multiaddr '{Shorten(text)}' has an empty protocol name");
            if (!MultiaddrProtocol.TryFromName(name, out var protocol)) throw new FormatException($"unknown multiaddr protocol '{Shorten(name)}'");
            if (protocol.Size == 0)
            {
                components.Add(MultiaddrComponent.ParseValue(protocol, ""));
                continue;
            }
            if (++i == parts.Length) throw new FormatException($"multiaddr '{Shorten(text)}' ends before the value of /{protocol.Name}");
            components.Add(MultiaddrComponent.ParseValue(protocol, parts[i]));
        }
        return new Multiaddr(components);
    }

    public static bool TryParse(string text, out Multiaddr? addr) => Multiformats.TryParse.With(Parse, text, out addr);

    /// <exception cref="FormatException">Truncated input, unknown codes, oversized lengths or invalid values.</exception>
    public static Multiaddr FromBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length > MaxBinaryLength) throw new FormatException($"binary multiaddr longer than {MaxBinaryLength} bytes");
        var components = new List<MultiaddrComponent>();
        while (!bytes.IsEmpty)
        {
            if (components.Count == MaxComponents) throw new FormatException($"multiaddr has more than {MaxComponents} components");
            bytes = bytes[MultiaddrComponent.Read(bytes, out var component)..];
            components.Add(component);
        }
        return new Multiaddr(components);
    }

    public byte[] ToBytes()
    {
        var result = new byte[_components.Sum(c => c.BinaryLength)];
        int o = 0;
        foreach (var c in _components) o += c.Write(result.AsSpan(o));
        return result;
    }

    public override string ToString() => _text ??= _components.Length == 0 ? "/" : string.Concat(_components.Select(c => c.ToString()));

    /// <summary>The peer of a trailing /p2p/ component, if any.</summary>
    public PeerId? PeerId =>
        _components.Length > 0 && _components[^1].Protocol == MultiaddrProtocol.P2p ? Identity.PeerId.FromMultihash(_components[^1].Value.Span) : null;

    /// <summary>This address with its trailing /p2p/ replaced by (or extended with) <paramref name="id"/>.</summary>
    public Multiaddr WithPeerId(PeerId id) => new(WithoutPeerId()._components.Append(MultiaddrComponent.ForPeer(id)));

    public Multiaddr WithoutPeerId() =>
        _components.Length > 0 && _components[^1].Protocol == MultiaddrProtocol.P2p ? new Multiaddr(_components[..^1]) : this;

    /// <summary>/ip4 or /ip6 plus /tcp; IPv4-mapped IPv6 addresses (dual-mode sockets) become /ip4.</summary>
    public static Multiaddr FromEndPoint(IPEndPoint ep)
    {
        var ip = ep.Address.IsIPv4MappedToIPv6 ? ep.Address.MapToIPv4() : ep.Address;
        return new Multiaddr([MultiaddrComponent.ForIp(ip), MultiaddrComponent.ForPort(MultiaddrProtocol.Tcp, ep.Port)]);
    }

    /// <summary>Host, port and address family to open a TCP connection to; an optional trailing /p2p/ is allowed.</summary>
    /// <exception cref="UnsupportedTransportException">Anything but ip4/ip6/dns/dns4/dns6 followed by tcp.</exception>
    public (string Host, int Port, AddressFamily Family) ToTcpDialTarget()
    {
        var transport = WithoutPeerId()._components;
        if (transport.Length != 2 || transport[1].Protocol != MultiaddrProtocol.Tcp)
            throw new UnsupportedTransportException($"unsupported transport {this}: only ip4/ip6/dns/dns4/dns6 + tcp can be dialled");
        var host = transport[0];
        var family = host.Protocol.Name switch
        {
            "ip4" or "dns4" => AddressFamily.InterNetwork,
            "ip6" or "dns6" => AddressFamily.InterNetworkV6,
            "dns" => AddressFamily.Unspecified,
            _ => throw new UnsupportedTransportException($"unsupported transport {this}: only ip4/ip6/dns/dns4/dns6 + tcp can be dialled"),
        };
        return (host.ValueText, transport[1].Port, family);
    }

    public bool Equals(Multiaddr? other) => other is not null && _components.AsSpan().SequenceEqual(other._components);

    public override bool Equals(object? obj) => Equals(obj as Multiaddr);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var c in _components) hash.Add(c);
        return hash.ToHashCode();
    }

    private static string Shorten(string s) => s.Length <= 80 ? s : s[..80] + "...";
}
