namespace StoreSync.Libp2p.Discovery.Discv5;

/// <summary>A discv5 request that could not be made or was not answered (after its retries).</summary>
public class Discv5Exception(string message) : Exception(message);

/// <summary>No response within the request timeout, on every attempt.</summary>
public sealed class Discv5TimeoutException(string message) : Discv5Exception(message);
