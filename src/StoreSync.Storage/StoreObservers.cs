using Microsoft.Extensions.Logging;

namespace StoreSync.Storage;

/// <summary>The observers of a message store, told of every committed batch in commit order.</summary>
/// <remarks>Not thread-safe on its own: the store adds and notifies under its write lock, which is what orders the
/// notifications as the commits.</remarks>
internal sealed class StoreObservers(ILogger logger)
{
    readonly List<IMessageStoreObserver> _observers = [];

    public void Add(IMessageStoreObserver observer) => _observers.Add(observer);

    /// <summary>Tells every observer of a committed batch.</summary>
    /// <remarks>
    /// The batch is already written: an observer that throws cannot undo it, and the writer must not be told its write failed
    /// (it would retry and count duplicates). The exception is logged with the observer's type, the other observers are still
    /// told, and the first exception is rethrown wrapped so that the fault is not hidden.
    /// </remarks>
    public void Notify(IReadOnlyList<StoreChange> changes, bool inserted)
    {
        List<Exception>? failures = null;
        foreach (var observer in _observers)
        {
            try
            {
                if (inserted) observer.OnInserted(changes);
                else observer.OnDeleted(changes);
            }
            catch (Exception e)
            {
                logger.LogError(e, "Store observer {Observer} failed on {Count} {Change} messages; the batch is committed", observer.GetType().Name, changes.Count, inserted ? "inserted" : "deleted");
                (failures ??= []).Add(e);
            }
        }
        if (failures is not null)
            throw new StoreObserverException($"{failures.Count} store observer(s) failed after the batch was committed (it is durable): {failures[0].Message}", new AggregateException(failures));
    }
}
