namespace StoreSync.Simulations.RealNodes;

/// <summary>A real-nodes run could not go on: a node did not start, or the scenario does not fit real processes.</summary>
public sealed class RealNodeException(string message) : Exception(message);
