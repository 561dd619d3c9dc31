using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using Google.Protobuf;
using StoreSync.Core;
using StoreSync.Core.Wire;
using StoreSync.Node.Json;
using StoreSync.Waku.Proto;

namespace StoreSync.Node.Import;

/// <summary>Streams the records of an import file with bounded memory, reporting each bad record instead of stopping.</summary>
public sealed class MessageFileReader(Stream input, MessageFileFormat format, int maxMessageBytes = MessageValidator.DefaultMaxMessageBytes)
{
    // A JSON line carries base64 (4/3 of the payload) plus field names; twice the message limit is generous and still bounded.
    readonly int _maxRecordBytes = checked(maxMessageBytes * 2 + 4096);
    long _consumed;

    /// <summary>Bytes of the input consumed so far (for progress).</summary>
    public long BytesConsumed => Interlocked.Read(ref _consumed);

    /// <summary>Guesses the format from the first non-blank byte: '{' means JSON lines.</summary>
    public static MessageFileFormat Detect(ReadOnlySpan<byte> head)
    {
        foreach (byte b in head)
        {
            if (b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n') continue;
            return b == (byte)'{' ? MessageFileFormat.Ndjson : MessageFileFormat.Protobuf;
        }
        return MessageFileFormat.Ndjson;
    }

    public async IAsyncEnumerable<ImportRecord> ReadAsync([EnumeratorCancellation] CancellationToken ct = default)
    {
        var reader = PipeReader.Create(input, new StreamPipeReaderOptions(bufferSize: 1 << 16, leaveOpen: true));
        var mode = format;
        long position = 0;
        bool skippingOversized = false;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync(ct).ConfigureAwait(false);
                var buffer = result.Buffer;
                if (mode == MessageFileFormat.Auto && (buffer.Length >= 64 || result.IsCompleted))
                    mode = Detect(buffer.Slice(0, Math.Min(buffer.Length, 64)).ToArray());
                if (mode == MessageFileFormat.Auto) { reader.AdvanceTo(buffer.Start, buffer.End); continue; }

                var records = new List<ImportRecord>();
                SequencePosition consumedTo = mode == MessageFileFormat.Ndjson
                    ? ParseLines(ref buffer, result.IsCompleted, ref position, ref skippingOversized, records)
                    : ParseDelimited(ref buffer, result.IsCompleted, ref position, records);
                Interlocked.Add(ref _consumed, result.Buffer.Slice(0, consumedTo).Length);
                reader.AdvanceTo(consumedTo, result.Buffer.End);
                foreach (var record in records) yield return record;
                if (result.IsCompleted) yield break;
            }
        }
        finally
        {
            await reader.CompleteAsync().ConfigureAwait(false);
        }
    }

    SequencePosition ParseLines(ref ReadOnlySequence<byte> buffer, bool completed, ref long line, ref bool skipping, List<ImportRecord> records)
    {
        while (true)
        {
            var newline = buffer.PositionOf((byte)'\n');
            if (newline is null)
            {
                if (buffer.Length > _maxRecordBytes)
                {
                    if (!skipping) records.Add(ImportRecord.Rejected(line + 1, $"line is longer than {_maxRecordBytes} bytes"));
                    skipping = true;
                    return buffer.End; // drop what we have; keep dropping until the line ends
                }
                if (completed && buffer.Length > 0)
                {
                    line++;
                    if (!skipping) AddLine(buffer, line, records);
                    skipping = false;
                    return buffer.End;
                }
                return buffer.Start;
            }
            var lineBytes = buffer.Slice(0, newline.Value);
            line++;
            if (skipping) skipping = false;
            else if (lineBytes.Length > _maxRecordBytes) records.Add(ImportRecord.Rejected(line, $"line is longer than {_maxRecordBytes} bytes"));
            else AddLine(lineBytes, line, records);
            buffer = buffer.Slice(buffer.GetPosition(1, newline.Value));
        }
    }

    static void AddLine(ReadOnlySequence<byte> lineBytes, long line, List<ImportRecord> records)
    {
        var span = lineBytes.IsSingleSegment ? lineBytes.FirstSpan : lineBytes.ToArray();
        span = span.TrimEnd((byte)'\r');
        if (span.Trim((byte)' ').IsEmpty) return;
        records.Add(MessageJson.ParseRecord(span, line));
    }

    SequencePosition ParseDelimited(ref ReadOnlySequence<byte> buffer, bool completed, ref long index, List<ImportRecord> records)
    {
        Span<byte> head = stackalloc byte[10];
        while (buffer.Length > 0)
        {
            int headLength = (int)Math.Min(buffer.Length, head.Length);
            buffer.Slice(0, headLength).CopyTo(head);
            int prefix;
            ulong length;
            try { prefix = Varint.Read(head[..headLength], out length); }
            catch (FormatException e)
            {
                records.Add(ImportRecord.Rejected(index + 1, $"record {index + 1}: bad length prefix ({e.Message}); the rest of the file cannot be framed"));
                return buffer.End;
            }
            if (prefix == 0)
            {
                if (completed) records.Add(ImportRecord.Rejected(index + 1, $"record {index + 1}: file ends inside a length prefix"));
                return completed ? buffer.End : buffer.Start;
            }
            if (length > (ulong)_maxRecordBytes)
            {
                records.Add(ImportRecord.Rejected(index + 1, $"record {index + 1} claims {length} bytes, above the limit of {_maxRecordBytes}; the rest of the file cannot be trusted"));
                return buffer.End;
            }
            if ((ulong)(buffer.Length - prefix) < length)
            {
                if (completed)
                {
                    records.Add(ImportRecord.Rejected(index + 1, $"record {index + 1} is truncated: {buffer.Length - prefix} of {length} bytes"));
                    return buffer.End;
                }
                return buffer.Start;
            }
            index++;
            var body = buffer.Slice(prefix, (long)length);
            records.Add(ParseKeyValue(body, index));
            buffer = buffer.Slice(body.End);
        }
        return buffer.Start;
    }

    static ImportRecord ParseKeyValue(ReadOnlySequence<byte> body, long index)
    {
        try
        {
            var entry = WakuMessageKeyValue.Parser.ParseFrom(body);
            if (entry.Message is null) return ImportRecord.Rejected(index, $"record {index} has no message (field 2)");
            if (!entry.HasPubsubTopic) return ImportRecord.Rejected(index, $"record {index} has no pubsub topic (field 3)");
            MessageHash? claimed = null;
            if (entry.HasMessageHash)
            {
                if (!MessageHash.TryRead(entry.MessageHash.Span, out var h))
                    return ImportRecord.Rejected(index, $"record {index} has a message hash of {entry.MessageHash.Length} bytes");
                claimed = h;
            }
            return new ImportRecord(index, entry.PubsubTopic, entry.Message.WithPayloadPresent(), claimed, null);
        }
        catch (InvalidProtocolBufferException e)
        {
            return ImportRecord.Rejected(index, $"record {index} is not a WakuMessageKeyValue protobuf: {e.Message}");
        }
    }

    /// <summary>Writes records as varint-length-delimited WakuMessageKeyValue, the binary import format.</summary>
    public static void WriteDelimited(Stream output, WakuMessageKeyValue entry) => entry.WriteDelimitedTo(output);
}
