using StoreSync.Simulations.Model;

namespace StoreSync.Simulations.Engine;

/// <summary>Receives every sample of a run (the CSV writers; tests keep them in memory).</summary>
internal interface ISampleSink
{
    void Sample(SampleRow row, IReadOnlyList<SimNode> nodes, long now);
}
