using StoreSync.Simulations.Engine;

namespace StoreSync.Simulations.RealNodes;

/// <summary>A simulated run's schedule, recorded so real node processes can replay it: toggles and live receptions in time order.</summary>
internal sealed class ReplayPlan : IPlanRecorder
{
    /// <summary>One scheduled step: a node goes on- or offline, or a message reaches the listed nodes.</summary>
    public readonly record struct Step(long Time, int Node, bool Online, int Message, int[]? Receivers)
    {
        public bool IsPublish => Receivers is not null;
    }

    readonly List<Step> _steps = [];

    public IReadOnlyList<Step> Steps => _steps;

    public void Toggled(long time, int node, bool online) => _steps.Add(new Step(time, node, online, -1, null));

    public void Published(long time, int message, IReadOnlyList<int> receivers) => _steps.Add(new Step(time, -1, false, message, receivers.ToArray()));
}
