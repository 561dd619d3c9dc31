namespace StoreSync.Waku.Communities;

/// <summary>The newest valid control messages of one owner key: the switch and the member list (immutable; replaced on change).</summary>
public sealed class OwnerState
{
    public static OwnerState Empty { get; } = new(null, null);

    readonly HashSet<string> _members;

    OwnerState(CommunityControl? switchControl, CommunityControl? members)
    {
        Switch = switchControl;
        MemberList = members;
        _members = members is null ? [] : new HashSet<string>(members.Members.Select(Convert.ToHexStringLower), StringComparer.Ordinal);
    }

    /// <summary>The newest valid switch, or null if none was seen (serving is on until the owner says otherwise).</summary>
    public CommunityControl? Switch { get; }

    /// <summary>The newest valid member list, or null (then only the owner may author under the authorship policy).</summary>
    public CommunityControl? MemberList { get; }

    public bool Serving => Switch?.Serving ?? true;

    public int MemberCount => _members.Count;

    public bool IsMember(string keyHex) => _members.Contains(keyHex);

    /// <summary>The state with <paramref name="control"/> applied, or null when it does not supersede what is known (older, or the same).</summary>
    public OwnerState? With(CommunityControl control) => control.Kind switch
    {
        CommunityControlKind.Switch when control.Supersedes(Switch) => new OwnerState(control, MemberList),
        CommunityControlKind.Members when control.Supersedes(MemberList) => new OwnerState(Switch, control),
        _ => null,
    };

    /// <summary>The controls to persist: replaying them through <see cref="With"/> rebuilds this state.</summary>
    public IEnumerable<CommunityControl> Controls()
    {
        if (Switch is not null) yield return Switch;
        if (MemberList is not null) yield return MemberList;
    }
}
