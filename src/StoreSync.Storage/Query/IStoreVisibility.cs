namespace StoreSync.Storage.Query;

/// <summary>Which stored messages a query may return: rows of an invisible (pubsub, content) pair are skipped as if absent.</summary>
/// <remarks>Called per row of a walk over a whole pubsub topic, so it must be cheap and must not allocate.</remarks>
public interface IStoreVisibility
{
    bool IsVisible(string pubsubTopic, string contentTopic);
}
