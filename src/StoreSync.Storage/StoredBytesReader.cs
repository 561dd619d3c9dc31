using StoreSync.Core;

namespace StoreSync.Storage;

/// <summary>Reads messages by hash as they are stored (the WakuMessage bytes of their stored form, never parsed), from one
/// snapshot, without copying them: what a sync transfer frames. Asked newest first, as a transfer sends, the messages are
/// read by walking the <c>messages</c> family itself, one step per message and no point read. Dispose it: it holds a snapshot.</summary>
/// <remarks>
/// One backward cursor over the <c>messages</c> family per (pubsub, content) scope met (at most <see cref="MaxCursors"/>); a
/// hit is the very next entry of one of them, compared by hash, and its value is the message. A miss (a scattered difference,
/// a deleted message, a scope not met yet) locates the message in the <c>hashes</c> family and seeks that scope's cursor at it,
/// only while hits outnumber misses; after that, scattered requests cost what point reads cost (hash index, then the value).
/// So the answer never depends on the order asked (test <c>StoredBytesReadProperties</c>).
/// </remarks>
public sealed class StoredBytesReader : IDisposable
{
    /// <summary>Scopes walked at once; beyond, the least recently hit cursor is dropped.</summary>
    public const int MaxCursors = 8;

    sealed class Track(IndexCursor cursor, uint pubsubId, uint contentId)
    {
        public readonly IndexCursor Cursor = cursor;
        public readonly uint PubsubId = pubsubId, ContentId = contentId;
        public bool Consumed;   // the cursor's entry was returned (or sought): the next candidate is the one after it
        public long LastHit;
    }

    readonly StoreView _view;
    readonly List<Track> _tracks = [];
    Track? _current;          // the track the message read last came from; null when it came from a point read
    byte[]? _pointRead;
    int _hits, _misses;
    long _reads;

    internal StoredBytesReader(StoreView view) => _view = view;

    /// <summary>The pubsub topic of the message read last.</summary>
    public string PubsubTopic { get; private set; } = "";

    /// <summary>The content topic of the message read last.</summary>
    public string ContentTopic { get; private set; } = "";

    /// <summary>The timestamp of the message read last.</summary>
    public long Timestamp { get; private set; }

    /// <summary>The stored bytes of the message read last; valid until the next <see cref="TryRead"/> or <see cref="Dispose"/>.</summary>
    public ReadOnlySpan<byte> Message => _current is { } t ? t.Cursor.CurrentValue : _pointRead;

    /// <summary>Reads the message with <paramref name="hash"/>; false when it is not stored.</summary>
    /// <exception cref="StoreCorruptionException">The hash index points at no message.</exception>
    public bool TryRead(in MessageHash hash)
    {
        _reads++;
        if (TryNextEntry(hash)) return true;
        if (!_view.TryLocate(hash, out var location)) return false;
        if (_tracks.Count > 0) _misses++;
        if (_hits >= _misses)
        {
            var track = TrackOf(location);
            track.Cursor.Start(long.MinValue, long.MaxValue, (location.Timestamp, location.Hash), includeCursor: true);
            track.Consumed = true;
            if (!track.Cursor.Valid || track.Cursor.Current.Hash != hash)
                throw new StoreCorruptionException($"hash index points at a missing message {hash}");
            Select(track);
        }
        else
        {
            DropAll();   // neither count moves again: no seek from here on
            _pointRead = _view.GetMessageBytes(location) ?? throw new StoreCorruptionException($"hash index points at a missing message {hash}");
            _current = null;
            Timestamp = location.Timestamp;
            PubsubTopic = _view.Topics.PubsubName(location.PubsubId);
            ContentTopic = _view.Topics.ContentName(location.ContentId);
        }
        return true;
    }

    // The next entry of the track read last, else of any other: a hit costs one iterator step.
    bool TryNextEntry(in MessageHash hash)
    {
        if (_current is { } first && Step(first, hash)) return true;
        foreach (var track in _tracks)
            if (track != _current && Step(track, hash)) return true;
        return false;
    }

    bool Step(Track track, in MessageHash hash)
    {
        var cursor = track.Cursor;
        if (!cursor.Valid) return false;
        if (track.Consumed) cursor.Advance();
        track.Consumed = false;
        if (!cursor.Valid || cursor.Current.Hash != hash) return false;
        _hits++;
        track.Consumed = true;
        Select(track);
        return true;
    }

    void Select(Track track)
    {
        _current = track;
        _pointRead = null;
        track.LastHit = _reads;
        Timestamp = track.Cursor.Current.Timestamp;
        PubsubTopic = _view.Topics.PubsubName(track.PubsubId);
        ContentTopic = _view.Topics.ContentName(track.ContentId);
    }

    Track TrackOf(in MessageLocation location)
    {
        foreach (var track in _tracks)
            if (track.PubsubId == location.PubsubId && track.ContentId == location.ContentId) return track;
        if (_tracks.Count == MaxCursors)
        {
            var oldest = _tracks.MinBy(t => t.LastHit)!;
            oldest.Cursor.Dispose();
            _tracks.Remove(oldest);
            if (_current == oldest) _current = null;
        }
        var added = new Track(IndexCursor.ForContent(_view, location.PubsubId, location.ContentId, forward: false, reusable: true),
            location.PubsubId, location.ContentId);
        _tracks.Add(added);
        return added;
    }

    void DropAll()
    {
        foreach (var track in _tracks) track.Cursor.Dispose();
        _tracks.Clear();
        _current = null;
    }

    public void Dispose()
    {
        DropAll();
        _view.Dispose();
    }
}
