using System.CommandLine;

namespace StoreSync.Node.Cli;

/// <summary>
/// <c>storesync community ...</c>: manage the communities of a running node through its admin REST API (list, show, add,
/// set, remove, enable, disable, settings), and, offline, the owner's and authors' tools (keygen, sign-switch,
/// sign-members, sign-message).
/// </summary>
/// <remarks>
/// The management commands talk to the running node only (one writer: the node; the change is live at once). To set
/// communities up before the first start, write them in the configuration file.
/// </remarks>
internal static class CommunityCommand
{
    public static Command Create()
    {
        var command = new Command("community", """
            Manage the communities of a running node (through its REST admin API, --node, default http://127.0.0.1:8645),
            and sign owner control messages and authored messages offline. See spec/communities.md.
            """)
        {
            CommunityAdminClient.Node,
        };
        foreach (var c in CommunityAdminCommands.Create()) command.Subcommands.Add(c);
        foreach (var c in CommunitySigningCommands.Create()) command.Subcommands.Add(c);
        return command;
    }
}
