using StoreSync.Testing.Storage;

namespace StoreSync.Storage.Tests;

/// <summary>The families ingest writes take their memtable arena blocks from malloc's free lists, not from mmap (real RocksDB: the
/// options file it writes at open says what it runs with).</summary>
public sealed class MemtableArenaTests
{
    [Fact]
    public void Messages_hashes_and_time_families_use_arena_blocks_below_the_mmap_threshold()
    {
        using var t = new TempStore();
        string options = Directory.EnumerateFiles(t.Path, "OPTIONS-*").OrderBy(f => f, StringComparer.Ordinal).Last();
        var sections = File.ReadAllText(options).Split("[CFOptions \"");
        foreach (string family in new[] { "messages", "hashes", "time" })
        {
            string section = sections.Single(s => s.StartsWith(family + "\"", StringComparison.Ordinal));
            Assert.Contains("arena_block_size=262144", section, StringComparison.Ordinal);
        }
    }
}
