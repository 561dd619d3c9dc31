using StoreSync.Core;
using StoreSync.Core.Proto;

namespace StoreSync.Waku.Ingress;

/// <summary>A policy consulted by <see cref="MessageIngress"/> after validation and the hash check: may this message be stored?</summary>
public interface IMessageAdmission
{
    /// <summary>Accepts (Rejection None) or refuses the message; may act on it (an owner's control message is applied here).</summary>
    Admission Admit(string pubsubTopic, WakuMessage message, in MessageHash hash, string source);
}

/// <summary>The answer of an <see cref="IMessageAdmission"/>.</summary>
public readonly record struct Admission(IngressRejection Rejection, string Error)
{
    public static Admission Accept => default;

    public bool Accepted => Rejection == IngressRejection.None;
}
