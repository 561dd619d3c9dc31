using System.Globalization;
using System.Text.Json;
using Google.Protobuf;
using StoreSync.Core;
using StoreSync.Core.Proto;
using StoreSync.Node.Import;
using StoreSync.Waku.Proto;

namespace StoreSync.Node.Json;

/// <summary>Messages as JSON in the shape of nwaku's REST store API (<c>messageHash</c>, <c>message</c>, <c>pubsubTopic</c>):
/// hashes and cursors as 0x-prefixed hex (nwaku's <c>toHex</c> response form), payload, meta and the RLN proof in base64, meta and
/// proof only when present, as nwaku writes them.</summary>
/// <remarks>
/// The CLI writes this shape and reads it back, so `storesync query --all` output can be imported elsewhere; a
/// <c>messageHash</c> is read as hex or base64 (older nwaku REST versions wrote base64).
/// The reader also takes a flat record (<c>pubsubTopic</c>, <c>contentTopic</c>, <c>payload</c>, ...) for hand-made files.
/// </remarks>
public static class MessageJson
{
    public static void WriteKeyValue(Utf8JsonWriter json, WakuMessageKeyValue entry)
    {
        json.WriteStartObject();
        WriteHash(json, "messageHash", entry.MessageHash.Span);
        if (entry.Message is { } message)
        {
            json.WritePropertyName("message");
            WriteMessage(json, message);
        }
        if (entry.HasPubsubTopic) json.WriteString("pubsubTopic", entry.PubsubTopic);
        json.WriteEndObject();
    }

    public static void WriteMessage(Utf8JsonWriter json, WakuMessage message)
    {
        json.WriteStartObject();
        json.WriteBase64String("payload", message.Payload.Span);
        json.WriteString("contentTopic", message.ContentTopic);
        if (message.Meta.Length > 0) json.WriteBase64String("meta", message.Meta.Span);
        json.WriteNumber("version", message.Version);
        json.WriteNumber("timestamp", message.Timestamp);
        json.WriteBoolean("ephemeral", message.Ephemeral);
        if (message.RateLimitProof.Length > 0) json.WriteBase64String("proof", message.RateLimitProof.Span);
        json.WriteEndObject();
    }

    public static void WriteResponse(Utf8JsonWriter json, StoreQueryResponse response)
    {
        json.WriteStartObject();
        json.WriteString("requestId", response.RequestId);
        json.WriteNumber("statusCode", response.StatusCode);
        json.WriteString("statusDesc", response.StatusDesc);
        json.WriteStartArray("messages");
        foreach (var entry in response.Messages) WriteKeyValue(json, entry);
        json.WriteEndArray();
        if (response.HasPaginationCursor) WriteHash(json, "paginationCursor", response.PaginationCursor.Span);
        json.WriteEndObject();
    }

    /// <summary>"0x" + lower-case hex, as nwaku's to0xHex; written from a stack buffer (a hash or cursor is 32 bytes).</summary>
    static void WriteHash(Utf8JsonWriter json, string name, ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length > MaxHashBytes)
        {
            json.WriteString(name, "0x" + Convert.ToHexStringLower(bytes));
            return;
        }
        Span<char> text = stackalloc char[2 + 2 * MaxHashBytes];
        text[0] = '0';
        text[1] = 'x';
        Convert.TryToHexStringLower(bytes, text[2..], out int written);
        json.WriteString(name, text[..(2 + written)]);
    }

    const int MaxHashBytes = 64;

    /// <summary>Parses one JSON record; never throws for bad content, it reports the reason instead.</summary>
    public static ImportRecord ParseRecord(ReadOnlySpan<byte> utf8, long position)
    {
        try
        {
            var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { MaxDepth = 8, CommentHandling = JsonCommentHandling.Skip });
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return ImportRecord.Rejected(position, "record is not a JSON object");

            string? pubsubTopic = OptionalString(root, "pubsubTopic") ?? OptionalString(root, "pubsub_topic");
            if (pubsubTopic is null) return ImportRecord.Rejected(position, "missing \"pubsubTopic\"");
            var body = root.TryGetProperty("message", out var nested) && nested.ValueKind == JsonValueKind.Object ? nested : root;

            var message = ReadMessage(body, defaultContentTopic: null);
            MessageHash? claimed = null;
            if (OptionalString(root, "messageHash") is { } hashText)
                claimed = MessageHash.TryParse(hashText, out var h) ? h : throw new FormatException($"\"messageHash\" is not a 32-byte hash: '{hashText}'");
            return new ImportRecord(position, pubsubTopic, message, claimed, null);
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException)
        {
            return ImportRecord.Rejected(position, e.Message);
        }
    }

    /// <summary>Parses the body of nwaku's relay REST publish (<c>RelayWakuMessage</c>: <c>payload</c> required, the other fields
    /// optional); null with the reason when it is not one.</summary>
    public static WakuMessage? ParseRelayMessage(ReadOnlySpan<byte> utf8, string? defaultContentTopic, out string error)
    {
        error = "";
        try
        {
            var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { MaxDepth = 8, CommentHandling = JsonCommentHandling.Skip });
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new FormatException("the body is not a JSON object");
            if (!root.TryGetProperty("payload", out _)) throw new FormatException("missing \"payload\"");
            return ReadMessage(root, defaultContentTopic);
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException)
        {
            error = e.Message;
            return null;
        }
    }

    static WakuMessage ReadMessage(JsonElement body, string? defaultContentTopic)
    {
        var message = new WakuMessage
        {
            Payload = ByteString.CopyFrom(OptionalBase64(body, "payload") ?? []),
            ContentTopic = OptionalString(body, "contentTopic") ?? OptionalString(body, "content_topic") ?? defaultContentTopic
                ?? throw new FormatException("missing \"contentTopic\""),
        };
        if (OptionalInt64(body, "timestamp") is { } ts) message.Timestamp = ts;
        if (OptionalInt64(body, "version") is { } version)
            message.Version = version is >= 0 and <= uint.MaxValue ? (uint)version : throw new FormatException("\"version\" out of range");
        if (OptionalBase64(body, "meta") is { } meta) message.Meta = ByteString.CopyFrom(meta);
        if (OptionalBase64(body, "proof") is { Length: > 0 } proof) message.RateLimitProof = ByteString.CopyFrom(proof);
        if (body.TryGetProperty("ephemeral", out var eph) && eph.ValueKind == JsonValueKind.True) message.Ephemeral = true;
        return message;
    }

    static string? OptionalString(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null
            ? (v.ValueKind == JsonValueKind.String ? v.GetString() : throw new FormatException($"\"{name}\" must be a string"))
            : null;

    static byte[]? OptionalBase64(JsonElement obj, string name)
    {
        if (!obj.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind != JsonValueKind.String) throw new FormatException($"\"{name}\" must be a base64 string");
        var text = v.GetString()!;
        try { return Convert.FromBase64String(text.Replace('-', '+').Replace('_', '/').PadRight((text.Length + 3) / 4 * 4, '=')); }
        catch (FormatException) { throw new FormatException($"\"{name}\" is not valid base64"); }
    }

    static long? OptionalInt64(JsonElement obj, string name)
    {
        if (!obj.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out long n)) return n;
        if (v.ValueKind == JsonValueKind.String && long.TryParse(v.GetString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out n)) return n;
        throw new FormatException($"\"{name}\" must be an integer (nanoseconds for timestamps)");
    }
}
