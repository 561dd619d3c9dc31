namespace StoreSync.Libp2p.Identity;

/// <summary>An identity key file that group or other users could read or change, so it is not trusted as our identity.</summary>
public sealed class InsecureKeyFileException : IOException
{
    public InsecureKeyFileException(string message) : base(message) { }
}
