namespace StoreSync.Libp2p.Identity;

/// <summary>libp2p key types, numbered as in the PublicKey/PrivateKey protobufs of the peer-ids spec.</summary>
public enum KeyType
{
    Rsa = 0,
    Ed25519 = 1,
    Secp256k1 = 2,
    Ecdsa = 3,
}
