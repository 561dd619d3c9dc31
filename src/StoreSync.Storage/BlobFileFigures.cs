namespace StoreSync.Storage;

/// <summary>The messages family's blob files: live file bytes, the part of them that is garbage, and whether blob GC is on.</summary>
public readonly record struct BlobFileFigures(long TotalBytes, long GarbageBytes, bool CollectingGarbage);
