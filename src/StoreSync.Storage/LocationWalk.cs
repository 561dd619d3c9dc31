using StoreSync.Core;

namespace StoreSync.Storage;

/// <summary>
/// Finds the locations of messages asked for in time-index order (newest first) by stepping one time-index iterator instead of
/// one hash-index lookup per message: what a sync transfer reads when a peer lacks a whole stretch of history.
/// </summary>
/// <remarks>
/// A hit is the very next entry of the walk, compared by hash, so the result never depends on the order it is asked in: a miss
/// (another content topic in between, a scattered difference, an evicted message) falls back to the hash index, and the walk
/// re-seeks at the located message only while hits outnumber misses. Scattered requests therefore cost what point lookups
/// cost, plus one failed step each.
/// </remarks>
internal sealed class LocationWalk(StoreView view) : IDisposable
{
    IndexCursor? _cursor;
    uint _pubsubId;
    int _hits, _misses;
    bool _consumed;   // the cursor's entry was returned (or sought): the next candidate is the one after it

    public bool TryLocate(in MessageHash hash, out MessageLocation location)
    {
        if (_cursor is { Valid: true })
        {
            if (_consumed) _cursor.Advance();
            _consumed = false;
            if (_cursor.Valid && _cursor.Current.Hash == hash)
            {
                _hits++;
                _consumed = true;
                location = _cursor.Current;
                return true;
            }
        }
        if (!view.TryLocate(hash, out location)) return false;
        if (_cursor is not null) _misses++;
        if (_hits >= _misses) SeekTo(location);
        else if (_cursor is not null) { _cursor.Dispose(); _cursor = null; }   // neither count moves again: no seek from here on
        return true;
    }

    void SeekTo(in MessageLocation location)
    {
        if (_cursor is null || _pubsubId != location.PubsubId)
        {
            _cursor?.Dispose();
            _cursor = IndexCursor.ForPubsub(view, location.PubsubId, forward: false, reusable: true);
            _pubsubId = location.PubsubId;
        }
        _cursor.Start(long.MinValue, long.MaxValue, (location.Timestamp, location.Hash), includeCursor: true);
        _consumed = true;
    }

    public void Dispose() => _cursor?.Dispose();
}
