namespace StoreSync.Simulations.Engine;

/// <summary>Told of the run's schedule (who is online when, who stored which message live), so real processes can replay it.</summary>
internal interface IPlanRecorder
{
    void Toggled(long time, int node, bool online);

    void Published(long time, int message, IReadOnlyList<int> receivers);
}
