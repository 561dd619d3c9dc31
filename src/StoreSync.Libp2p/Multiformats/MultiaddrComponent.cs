using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using StoreSync.Core.Wire;
using StoreSync.Libp2p.Identity;

namespace StoreSync.Libp2p.Multiformats;

/// <summary>One protocol of a multiaddr with its value in binary form (empty for value-less protocols such as ws).</summary>
public sealed class MultiaddrComponent : IEquatable<MultiaddrComponent>
{
    /// <summary>Caps variable-length values (dns names, p2p multihashes) so hostile input cannot make us allocate much.</summary>
    public const int MaxValueLength = 512;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public MultiaddrProtocol Protocol { get; }
    public ReadOnlyMemory<byte> Value { get; }

    private MultiaddrComponent(MultiaddrProtocol protocol, byte[] value)
    {
        Protocol = protocol;
        Value = value;
    }

    public static MultiaddrComponent ForPeer(PeerId id) => new(MultiaddrProtocol.P2p, id.Multihash.ToArray());

    public static MultiaddrComponent ForIp(IPAddress address) => address.AddressFamily switch
    {
        AddressFamily.InterNetwork => new(MultiaddrProtocol.Ip4, address.GetAddressBytes()),
        AddressFamily.InterNetworkV6 => new(MultiaddrProtocol.Ip6, address.GetAddressBytes()),
        _ => throw new ArgumentException($"not an IP address family: {address.AddressFamily}", nameof(address)),
    };

    public static MultiaddrComponent ForPort(MultiaddrProtocol protocol, int port)
    {
        if (protocol != MultiaddrProtocol.Tcp && protocol != MultiaddrProtocol.Udp) throw new ArgumentException($"{protocol} has no port", nameof(protocol));
        ArgumentOutOfRangeException.ThrowIfNegative(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        var value = new byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(value, (ushort)port);
        return new(protocol, value);
    }

    /// <summary>Port of a tcp or udp component.</summary>
    public int Port => Protocol.Size == 2 ? BinaryPrimitives.ReadUInt16BigEndian(Value.Span) : throw new InvalidOperationException($"{Protocol} has no port");

    /// <summary>The value as it appears in the text form; empty for value-less protocols.</summary>
    public string ValueText
    {
        get
        {
            var p = Protocol;
            if (p == MultiaddrProtocol.Ip4 || p == MultiaddrProtocol.Ip6) return new IPAddress(Value.Span).ToString();
            if (p.Size == 2) return Port.ToString(CultureInfo.InvariantCulture);
            if (p == MultiaddrProtocol.P2p) return PeerId.FromMultihash(Value.Span).ToString();
            if (p.Size == MultiaddrProtocol.VariableSize) return StrictUtf8.GetString(Value.Span);
            return "";
        }
    }

    internal static MultiaddrComponent ParseValue(MultiaddrProtocol p, string text)
    {
        if (p.Size == 0) return new(p, []);
        if (p == MultiaddrProtocol.Ip4) return new(p, ParseIp4(text));
        if (p == MultiaddrProtocol.Ip6) return new(p, ParseIp6(text));
        if (p.Size == 2) return ForPort(p, ParsePort(p, text));
        if (p == MultiaddrProtocol.P2p)
        {
            try { return ForPeer(PeerId.Parse(text)); }
            catch (FormatException e) { throw new FormatException($"invalid peer id in /p2p/: {e.Message}", e); }
        }
        var bytes = Encoding.UTF8.GetBytes(text);
        ValidateName(p, bytes);
        return new(p, bytes);
    }

    /// <summary>Reads one component at the start of <paramref name="source"/>.</summary>
    /// <returns>Bytes consumed.</returns>
    internal static int Read(ReadOnlySpan<byte> source, out MultiaddrComponent component)
    {
        int n = Varint.Read(source, out ulong code);
        if (n == 0) throw new FormatException("multiaddr truncated in a protocol code");
        if (!MultiaddrProtocol.TryFromCode(code, out var p)) throw new FormatException($"unknown multiaddr protocol code 0x{code:x}");
        var rest = source[n..];
        int size = p.Size;
        if (size == MultiaddrProtocol.VariableSize)
        {
            int m = Varint.Read(rest, out ulong length);
            if (m == 0) throw new FormatException($"multiaddr truncated in the length of /{p.Name}");
            if (length > MaxValueLength) throw new FormatException($"/{p.Name} value length {length} exceeds {MaxValueLength}");
            n += m;
            rest = rest[m..];
            size = (int)length;
        }
        if (rest.Length < size) throw new FormatException($"multiaddr truncated in the value of /{p.Name}: {size} bytes needed, {rest.Length} present");
        var value = rest[..size].ToArray();
        if (p == MultiaddrProtocol.P2p)
        {
            try { PeerId.FromMultihash(value); }
            catch (FormatException e) { throw new FormatException($"invalid peer id in /p2p/: {e.Message}", e); }
        }
        else if (p.Size == MultiaddrProtocol.VariableSize) ValidateName(p, value);
        component = new(p, value);
        return n + size;
    }

    internal int BinaryLength => Varint.SizeOf(Protocol.Code)
        + (Protocol.Size == MultiaddrProtocol.VariableSize ? Varint.SizeOf((ulong)Value.Length) : 0) + Value.Length;

    internal int Write(Span<byte> destination)
    {
        int o = Varint.Write(destination, Protocol.Code);
        if (Protocol.Size == MultiaddrProtocol.VariableSize) o += Varint.Write(destination[o..], (ulong)Value.Length);
        Value.Span.CopyTo(destination[o..]);
        return o + Value.Length;
    }

    private static void ValidateName(MultiaddrProtocol p, byte[] utf8)
    {
        if (utf8.Length == 0) throw new FormatException($"/{p.Name} needs a non-empty name");
        if (utf8.Length > MaxValueLength) throw new FormatException($"/{p.Name} value is longer than {MaxValueLength} bytes");
        string text;
        try { text = StrictUtf8.GetString(utf8); }
        catch (DecoderFallbackException) { throw new FormatException($"/{p.Name} value is not valid UTF-8"); }
        if (text.Contains('/')) throw new FormatException($"/{p.Name} value must not contain '/'");
    }

    private static byte[] ParseIp4(string text)
    {
        // IPAddress.Parse also takes "1", "0x7f.1" and similar legacy forms; multiaddr wants exactly four decimal octets.
        var bytes = new byte[4];
        var parts = text.Split('.');
        if (parts.Length != 4) throw new FormatException($"invalid ip4 address '{text}'");
        for (int i = 0; i < 4; i++)
        {
            var part = parts[i];
            if (part.Length is 0 or > 3 || (part.Length > 1 && part[0] == '0') || !part.All(char.IsAsciiDigit)
                || !byte.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out bytes[i]))
                throw new FormatException($"invalid ip4 address '{text}'");
        }
        return bytes;
    }

    private static byte[] ParseIp6(string text)
    {
        if (text.Contains('%') || !text.Contains(':') || !IPAddress.TryParse(text, out var ip) || ip.AddressFamily != AddressFamily.InterNetworkV6)
            throw new FormatException($"invalid ip6 address '{text}'");
        return ip.GetAddressBytes();
    }

    private static int ParsePort(MultiaddrProtocol p, string text)
    {
        if (text.Length is 0 or > 18 || !text.All(char.IsAsciiDigit)) throw new FormatException($"invalid /{p.Name} port '{text}'");
        long port = long.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture);
        if (port > 65535) throw new FormatException($"/{p.Name} port {port} is greater than 65535");
        return (int)port;
    }

    public bool Equals(MultiaddrComponent? other) =>
        other is not null && other.Protocol == Protocol && other.Value.Span.SequenceEqual(Value.Span);

    public override bool Equals(object? obj) => Equals(obj as MultiaddrComponent);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(Protocol.Code);
        hash.AddBytes(Value.Span);
        return hash.ToHashCode();
    }

    public override string ToString() => Protocol.Size == 0 ? "/" + Protocol.Name : "/" + Protocol.Name + "/" + ValueText;
}
