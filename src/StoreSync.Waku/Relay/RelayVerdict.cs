using StoreSync.Libp2p.Pubsub;

namespace StoreSync.Waku.Relay;

/// <summary>What Waku relay decides about one message: the gossipsub result (forward or not, penalise or not) and,
/// apart from it, whether the store keeps it.</summary>
/// <param name="Result">Accept (deliver, forward), Ignore (neither, no penalty) or Reject (neither, penalty).</param>
/// <param name="Store">Whether the message goes to the store (the archive's rules, the community policy).</param>
/// <param name="Reason">A fixed word for the metrics and the log (<see cref="RelayReasons"/>).</param>
public readonly record struct RelayVerdict(ValidationResult Result, bool Store, string Reason);

/// <summary>The reasons a verdict names: a fixed set, so the metric label stays bounded.</summary>
public static class RelayReasons
{
    public const string Stored = "stored";
    public const string Undecodable = "undecodable";
    public const string TooLarge = "too_large";
    public const string MetaTooLong = "meta_too_long";
    public const string NoContentTopic = "no_content_topic";
    public const string InvalidContentTopic = "invalid_content_topic";
    public const string Duplicate = "duplicate";
    public const string Ephemeral = "ephemeral";
    public const string OutsideTimestampWindow = "outside_timestamp_window";
    public const string NotStoredByPolicy = "not_stored_by_policy";
    public const string Unauthorised = "unauthorised";
    public const string ControlInvalid = "control_invalid";
    public const string RlnProofMissing = "rln_proof_missing";
    public const string RlnTimestamp = "rln_timestamp";
    public const string RlnUnverified = "rln_unverified";
}
