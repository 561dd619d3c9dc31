using FsCheck;
using FsCheck.Xunit;
using Microsoft.Extensions.Time.Testing;
using StoreSync.Libp2p.Identity;
using StoreSync.Libp2p.Multiformats;
using StoreSync.Waku.Enr;
using StoreSync.Waku.Peers;

namespace StoreSync.Waku.Tests.Peers;

/// <summary>Bounds that hold whatever happens: the backoff never exceeds its cap and never shrinks as failures grow; the book never
/// holds more than its capacity nor more addresses per peer than its limit, never evicts a static or connected peer, and the
/// file gives back what was saved.</summary>
public class PeerBookProperties
{
    [Property(MaxTest = 300)]
    public void Backoff_grows_and_stays_bounded(PositiveInt initialSeconds, PositiveInt factor, PositiveInt maxAttempts, NonNegativeInt failures)
    {
        var backoff = new DialBackoff(TimeSpan.FromSeconds(initialSeconds.Get % 100_000), 1 + factor.Get % 10, 1 + maxAttempts.Get % 12);
        int f = failures.Get % 10_000;
        var delay = backoff.Delay(f);
        Assert.True(delay >= TimeSpan.Zero);
        Assert.True(delay <= backoff.Cap || f == 0);
        Assert.True(backoff.Delay(f + 1) >= delay);
        Assert.True(backoff.GivesUp(f, isStatic: false) == (f >= backoff.MaxFailedAttempts));
        Assert.False(backoff.GivesUp(f, isStatic: true));
        var last = DateTimeOffset.UnixEpoch.AddYears(40);
        if (!backoff.GivesUp(f, false)) Assert.True(backoff.MayDial(f, last, false, last + delay));
        Assert.True(backoff.MayDial(f, last, true, last + DialBackoff.StaticCap));
    }

    /// <summary>A random run of offers (some static, some with too many addresses), connections, failures, disconnections and
    /// clock steps over a pool of peers larger than the book.</summary>
    [Property(MaxTest = 100)]
    public void The_book_stays_within_its_bounds_and_keeps_static_and_connected_peers(PositiveInt seed)
    {
        var r = new Random(seed.Get);
        int capacity = r.Next(1, 12);
        var clock = new FakeTimeProvider(DateTimeOffset.UnixEpoch.AddYears(40));
        var book = new PeerBook(PeerBookTests.NewPeer(), cluster: 1, capacity: capacity, clock: clock);
        var pool = Enumerable.Range(0, capacity * 3).Select(_ => PeerBookTests.NewPeer()).ToArray();
        var statics = new HashSet<PeerId>();
        var connected = new HashSet<PeerId>();
        for (int step = 0; step < 200; step++)
        {
            var peer = pool[r.Next(pool.Length)];
            switch (r.Next(6))
            {
                case 0:
                case 1:
                    var source = statics.Count < capacity / 2 && r.Next(5) == 0 ? PeerSources.Static : PeerSources.Discv5;
                    var addresses = Enumerable.Range(0, r.Next(0, 12)).Select(i => Multiaddr.Parse($"/ip4/127.0.0.1/tcp/{1000 + r.Next(20)}")).ToList();
                    var shards = r.Next(4) == 0 ? RelayShards.Create((ushort)r.Next(3), [0]) : null;
                    bool taken = book.Offer(new DiscoveredPeer(peer, addresses, source, Shards: shards));
                    if (taken && source == PeerSources.Static) statics.Add(peer);
                    break;
                case 2:
                    if (book.Find(peer) is not null) { book.Connected(peer, Multiaddr.Parse("/ip4/127.0.0.1/tcp/999")); connected.Add(peer); }
                    break;
                case 3:
                    book.Disconnected(peer);
                    connected.Remove(peer);
                    break;
                case 4:
                    book.DialFailed(peer);
                    break;
                default:
                    clock.Advance(TimeSpan.FromSeconds(r.Next(0, 10_000)));
                    break;
            }
            Assert.True(book.Count <= capacity);
            var snapshot = book.Snapshot();
            Assert.All(snapshot, e => Assert.True(e.Addresses.Count <= PeerBook.MaxAddressesPerPeer));
            Assert.All(snapshot, e => Assert.True(e.Shards is null || e.Shards.ClusterId == 1));
            foreach (var s in statics) Assert.NotNull(book.Find(s));
            foreach (var c in connected) Assert.NotNull(book.Find(c));
        }

        var dir = Path.Combine(Path.GetTempPath(), "storesync-peers-" + Guid.NewGuid().ToString("N"));
        try
        {
            var path = Path.Combine(dir, PeerBookFile.FileName);
            PeerBookFile.Save(path, book.Snapshot());
            var again = new PeerBook(PeerBookTests.NewPeer(), cluster: 1, capacity: capacity);
            again.Restore(PeerBookFile.Load(path));
            Assert.Equal(book.Snapshot().Where(e => e.Addresses.Count > 0).Select(e => e.Id).ToHashSet(), again.Snapshot().Select(e => e.Id).ToHashSet());
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }
}
