namespace StoreSync.Libp2p.Tests.Noise;

/// <summary>The js-libp2p-noise XX transcript of noise-xx-vector.txt (fixed X25519 keys, Ed25519 identities).</summary>
public sealed record NoiseXxVector(
    string Name, string[]? StreamMuxers,
    string InitiatorPayload, string ResponderPayload,
    string Msg1Wire, string Msg2Wire, string Msg3Wire, string HandshakeHash)
{
    public const string InitiatorIdentitySeed = "0000000000000000000000000000000000000000000000000000000000000002";
    public const string ResponderIdentitySeed = "0000000000000000000000000000000000000000000000000000000000000001";
    public const string InitiatorPeerId = "12D3KooWHdiAxVd8uMQR1hGWXccidmfCwLqcMpGwR6QcTP6QRMuD";
    public const string ResponderPeerId = "12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp";
    public const string InitiatorStatic = "1111111111111111111111111111111111111111111111111111111111111111";
    public const string InitiatorEphemeral = "2222222222222222222222222222222222222222222222222222222222222222";
    public const string ResponderStatic = "3333333333333333333333333333333333333333333333333333333333333333";
    public const string ResponderEphemeral = "4444444444444444444444444444444444444444444444444444444444444444";
    public const string InitiatorStaticPublic = "7b4e909bbe7ffe44c465a220037d608ee35897d31ef972f07f74892cb0f73f13";
    public const string ResponderStaticPublic = "7b0d47d93427f8311160781c7c733fd89f88970aef490d8aa0ee19a4cb8a1b14";
    public const string InitiatorEphemeralPublic = "0faa684ed28867b97f4a6a2dee5df8ce974e76b7018e3f22a1c4cf2678570f20";
    public const string ResponderEphemeralPublic = "ff2ee45601ec1b67310c7790404585ae697331eee1c1f8cf2419731c1fff3e6b";
    public const string K1 = "141399b149034c671cc52b0ec1fcb71262d7ad66908d693bebe61b7b96344a35";
    public const string K2 = "60527cc7e2d79cdaddd51660085b843ccd6f6c53947fc6c3cf13a11b0eb9af74";
    public const string TransportPlaintext = "132f6d756c746973747265616d2f312e302e300a0d2f79616d75782f312e302e300a";
    public const string TransportInitiatorToResponderWire = "0032 3469d5d5ed0fb8e43091bad6b10d3f2ca6878b965905c10a6faf2b52acd484beef38a2eb373855dce2a780d52e049d06894c";
    public const string TransportResponderToInitiatorWire = "0032 6bb1613dc69245e9c4232cf657ccdd68595420d1a413ea4a021d2a6275d36898164cddd6f314802aae9c89052112c2eb0085";

    private const string Msg1 = "0020 0faa684ed28867b97f4a6a2dee5df8ce974e76b7018e3f22a1c4cf2678570f20";

    public static readonly NoiseXxVector WithoutExtensions = new(
        "without extensions", null,
        InitiatorPayload: "0a24080112207422b9887598068e32c4448a949adb290d0f4e35b9e01b0ee5f1a1e600fe26741240262e45ad10091c9d8815738a88c03ab8fdb06974c9af1585468fe119e804461735529f4a1cc050dc1aced565baac6d2b56cbbd7244b4c058e37a859754638701",
        ResponderPayload: "0a24080112204cb5abf6ad79fbf5abbccafcc269d85cd2651ed4b885b5869f241aedf0a5ba2912405b509d211b7fbff77dde1637368a83bf7b899004b12f7d0aed83a89f68225837f442d9c6614a64a4429c28afc561db130ea6bbbf6d388f673cbb15841c40b600",
        Msg1Wire: Msg1,
        Msg2Wire: "00c8 ff2ee45601ec1b67310c7790404585ae697331eee1c1f8cf2419731c1fff3e6b5cda1c2d8029877d73fad62823946ccd0c5da35c129100f43d33a59cf19ea8fcdcc0e3e57a6099ef8d8c471633442810f7b53910cdb55d60701691aa40e9755db69c8d23a4e4476aef1ead1d859126ac2a97989b8bf66d6c7a715740ce7b289cd8800f4e8fef525d7d70d96b4e444c8b5cc9109e0ec8501ad9abe7ca2e8e00bc448ddb63ac03c7c59017361db8642ff600d721f7197603511e70596b50c6435a424546fb97c6b713",
        Msg3Wire: "00a8 f4e4988e97bdcbf0f799d02dd2242624bda72d200e97e322c4f723213896a31e1126600ee2e0dcbd7c003b34ce08636ff12958cf4fae592f2db28957aeec49436a6c8ab1c37932c0f3902b6ecf070c06893b7a299896aff5800e83d20e91cb48fca370cac8d94ea64919de1e9d0fbc32a5861bbcefd1dca9606871d4b919cc2fa31445f9eec4378d7140785e03bf7cabdd19fc247c7e67ef5d1ad98ebf7a72eeed902263b12340b4",
        HandshakeHash: "40eba04dc267c48094a5f6ad2b3e4e235c6e8ed8aab5c573fcae32521e623b31");

    public static readonly NoiseXxVector WithExtensions = new(
        "with stream_muxers", ["/yamux/1.0.0"],
        InitiatorPayload: "0a24080112207422b9887598068e32c4448a949adb290d0f4e35b9e01b0ee5f1a1e600fe26741240262e45ad10091c9d8815738a88c03ab8fdb06974c9af1585468fe119e804461735529f4a1cc050dc1aced565baac6d2b56cbbd7244b4c058e37a859754638701220e120c2f79616d75782f312e302e30",
        ResponderPayload: "0a24080112204cb5abf6ad79fbf5abbccafcc269d85cd2651ed4b885b5869f241aedf0a5ba2912405b509d211b7fbff77dde1637368a83bf7b899004b12f7d0aed83a89f68225837f442d9c6614a64a4429c28afc561db130ea6bbbf6d388f673cbb15841c40b600220e120c2f79616d75782f312e302e30",
        Msg1Wire: Msg1,
        Msg2Wire: "00d8 ff2ee45601ec1b67310c7790404585ae697331eee1c1f8cf2419731c1fff3e6b5cda1c2d8029877d73fad62823946ccd0c5da35c129100f43d33a59cf19ea8fcdcc0e3e57a6099ef8d8c471633442810f7b53910cdb55d60701691aa40e9755db69c8d23a4e4476aef1ead1d859126ac2a97989b8bf66d6c7a715740ce7b289cd8800f4e8fef525d7d70d96b4e444c8b5cc9109e0ec8501ad9abe7ca2e8e00bc448ddb63ac03c7c59017361db8642ff600d721f719760351e02de5f6ec38d2feae8b1261809b0168d6aea9665c08d0845d8c767bb289a811",
        Msg3Wire: "00b8 f4e4988e97bdcbf0f799d02dd2242624bda72d200e97e322c4f723213896a31e74f542dea37c79e40f826c773fd57fb2f12958cf4fae592f2db28957aeec49436a6c8ab1c37932c0f3902b6ecf070c06893b7a299896aff5800e83d20e91cb48fca370cac8d94ea64919de1e9d0fbc32a5861bbcefd1dca9606871d4b919cc2fa31445f9eec4378d7140785e03bf7cabdd19fc247c7e67efcb53c556766e9dbdb180b847a167b49fad1821b7b6ae9f047355f6e15058cf1f",
        HandshakeHash: "795066c1c001ccf5534eaa7240c2c0ec12442bb35ffc940da1a4c45afcad6770");

    public static TheoryData<string> Names => new() { WithoutExtensions.Name, WithExtensions.Name };

    public static NoiseXxVector Named(string name) => name == WithExtensions.Name ? WithExtensions : WithoutExtensions;

    public override string ToString() => Name;
}
