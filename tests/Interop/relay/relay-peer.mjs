// A js-waku node (@waku/sdk 0.0.36) running gossipsub as Waku relay, driven by StoreSync's relay interop tests.
// The published @waku/relay lags js-waku's repository, so the pubsub service is built here exactly as js-waku's
// wakuGossipSub builds it (packages/relay/src/relay.ts): msgIdFn = sha256(data), StrictNoSign, no floodsub fallback,
// multicodec /vac/waku/relay/2.0.0, and js-waku's message validator (reject undecodable, empty payload or content topic).
//   node --import ./withresolvers-polyfill.mjs relay-peer.mjs --dial MULTIADDR [--dial ...] --cluster C --shard S
//        --content-topic CT [--publish N] [--prefix TEXT] [--expect N] [--timeout MS] [--linger MS]
// Output, one JSON object per line:
//   {"event":"ready","peerId"}   after every dial, once a dialed peer is a subscriber of the topic
//   {"event":"published","hash","payload","timestamp","peers"} per own message
//   {"event":"received","hash","payload","from"} per message delivered to the application (duplicates included)
//   {"event":"done","received":N,"distinct":N,"duplicates":N}
// It stops once --expect distinct messages from others arrived (or, without --expect, after --linger ms), or fails
// after --timeout ms. Exit 0 on success, 1 on failure (reason on stderr), 2 on bad usage.
import { createLightNode, utf8ToBytes, bytesToUtf8, waku as core } from "@waku/sdk";
import { GossipSub } from "@chainsafe/libp2p-gossipsub";
import { SignaturePolicy } from "@chainsafe/libp2p-gossipsub/types";
import { TopicValidatorResult } from "@libp2p/interface";
import { proto_message as proto } from "@waku/proto";
import { sha256 } from "@noble/hashes/sha256";
import { tcp } from "@libp2p/tcp";
import { yamux } from "@chainsafe/libp2p-yamux";
import { multiaddr } from "@multiformats/multiaddr";

const args = process.argv.slice(2);
const opts = { dial: [], cluster: 16, shard: 32, publish: 0, prefix: "js", expect: undefined, timeout: 60000, linger: 3000 };
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  const next = () => args[++i];
  if (a === "--dial") opts.dial.push(next());
  else if (a === "--cluster") opts.cluster = Number(next());
  else if (a === "--shard") opts.shard = Number(next());
  else if (a === "--content-topic") opts.contentTopic = next();
  else if (a === "--publish") opts.publish = Number(next());
  else if (a === "--prefix") opts.prefix = next();
  else if (a === "--expect") opts.expect = Number(next());
  else if (a === "--timeout") opts.timeout = Number(next());
  else if (a === "--linger") opts.linger = Number(next());
  else { console.error(`unknown option ${a}`); process.exit(2); }
}
if (opts.dial.length === 0 || !opts.contentTopic) {
  console.error("usage: relay-peer.mjs --dial MULTIADDR --content-topic CT [...]");
  process.exit(2);
}
const pubsubTopic = `/waku/2/rs/${opts.cluster}/${opts.shard}`;
const overall = setTimeout(() => { console.error(`timeout after ${opts.timeout} ms`); process.exit(1); }, opts.timeout);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const print = (o) => console.log(JSON.stringify(o));

function wakuGossipSub(components) {
  const pubsub = new GossipSub(components, {
    msgIdFn: ({ data }) => sha256(data),
    globalSignaturePolicy: SignaturePolicy.StrictNoSign,
    fallbackToFloodsub: false,
  });
  pubsub.multicodecs = ["/vac/waku/relay/2.0.0"];
  return pubsub;
}

// js-waku's messageValidator (packages/relay/src/message_validator.ts).
function messageValidator(_peer, message) {
  try {
    const m = proto.WakuMessage.decode(message.data);
    if (!m.contentTopic || !m.contentTopic.length || !m.payload || !m.payload.length) return TopicValidatorResult.Reject;
    return TopicValidatorResult.Accept;
  } catch {
    return TopicValidatorResult.Reject;
  }
}

let node;
try {
  node = await createLightNode({
    networkConfig: { clusterId: opts.cluster },
    defaultBootstrap: false,
    libp2p: {
      transports: [tcp()], streamMuxers: [yamux()], addresses: { listen: ["/ip4/127.0.0.1/tcp/0"] }, hideWebSocketInfo: true,
      services: { pubsub: wakuGossipSub },
    },
  });
  await node.start();
  const gossipsub = node.libp2p.services.pubsub;
  const seen = new Map(); // message id (hex) -> deliveries
  let received = 0, duplicates = 0, fromOthers = 0;
  const own = new Set();
  gossipsub.topicValidators.set(pubsubTopic, messageValidator);
  gossipsub.addEventListener("gossipsub:message", (event) => {
    const { msg, msgId } = event.detail;
    if (msg.topic !== pubsubTopic) return;
    received++;
    const n = (seen.get(msgId) ?? 0) + 1;
    seen.set(msgId, n);
    if (n > 1) duplicates++;
    const m = proto.WakuMessage.decode(msg.data);
    const hash = core.messageHashStr(pubsubTopic, m);
    if (!own.has(hash) && n === 1) fromOthers++;
    print({ event: "received", hash, payload: bytesToUtf8(m.payload), from: event.detail.propagationSource.toString(), nanos: String(m.timestamp) });
  });
  gossipsub.subscribe(pubsubTopic);

  for (const address of opts.dial) {
    const ma = multiaddr(address);
    await node.libp2p.dial(ma);
    const peer = ma.getPeerId();
    for (;;) {
      if (gossipsub.getSubscribers(pubsubTopic).some((p) => p.toString() === peer)) break;
      await sleep(50);
    }
  }
  // Let a heartbeat graft the mesh before publishing.
  await sleep(1500);
  print({ event: "ready", peerId: node.libp2p.peerId.toString() });

  const encoder = node.createEncoder({ contentTopic: opts.contentTopic, shardId: opts.shard });
  for (let i = 0; i < opts.publish; i++) {
    const timestamp = new Date();
    const payload = utf8ToBytes(`${opts.prefix} ${i}`);
    const data = await encoder.toWire({ payload, timestamp });
    const hash = core.messageHashStr(pubsubTopic, { payload, contentTopic: opts.contentTopic, timestamp, meta: undefined });
    own.add(hash);
    const result = await gossipsub.publish(pubsubTopic, data);
    print({ event: "published", hash, payload: `${opts.prefix} ${i}`, timestamp: timestamp.getTime(), peers: result.recipients.length });
  }

  if (opts.expect !== undefined) {
    while (fromOthers < opts.expect) await sleep(50);
    await sleep(opts.linger); // late duplicates would show here
  } else {
    await sleep(opts.linger);
  }
  print({ event: "done", received, distinct: seen.size, duplicates });
  clearTimeout(overall);
  await node.stop();
  process.exit(0);
} catch (e) {
  console.error(e?.stack ?? String(e));
  process.exit(1);
}
