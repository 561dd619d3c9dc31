// A js-waku (@waku/sdk) light client driven by StoreSync's interop tests.
//   node --import ./withresolvers-polyfill.mjs waku-client.mjs push  MULTIADDR --cluster C --shard S --content-topic CT --count N [--legacy]
//   node --import ./withresolvers-polyfill.mjs waku-client.mjs query MULTIADDR --cluster C --shard S --content-topic CT[,CT2] [--page-size N] [--backward] [--time-start MS] [--time-end MS] [--hashes HEX,HEX]
// Output: one JSON object per line. push: {"hash","timestamp"} per message; query: {"hash","timestamp","contentTopic","payload","page"}
// per message in the order js-waku yields them (page counts from 1), then {"pages":N}. Exit 0 on success, 1 on failure (reason on stderr), 2 on bad usage. Every step has a timeout.
import { createLightNode, Protocols, utf8ToBytes, bytesToUtf8 } from "@waku/sdk";
import { tcp } from "@libp2p/tcp";
import { yamux } from "@chainsafe/libp2p-yamux";
import { multiaddr } from "@multiformats/multiaddr";
import { hexToBytes } from "@waku/utils/bytes";

const [command, address, ...rest] = process.argv.slice(2);
const opts = { cluster: 1, shard: 0, count: 1, pageSize: undefined, backward: false, legacy: false, timeout: 20000 };
for (let i = 0; i < rest.length; i++) {
  const a = rest[i];
  const next = () => rest[++i];
  if (a === "--cluster") opts.cluster = Number(next());
  else if (a === "--shard") opts.shard = Number(next());
  else if (a === "--content-topic") opts.contentTopics = next().split(",");
  else if (a === "--count") opts.count = Number(next());
  else if (a === "--page-size") opts.pageSize = Number(next());
  else if (a === "--backward") opts.backward = true;
  else if (a === "--legacy") opts.legacy = true;
  else if (a === "--time-start") opts.timeStart = new Date(Number(next()));
  else if (a === "--time-end") opts.timeEnd = new Date(Number(next()));
  else if (a === "--timeout") opts.timeout = Number(next());
  else if (a === "--hashes") opts.hashes = next().split(",");
  else { console.error(`unknown option ${a}`); process.exit(2); }
}
if (!["push", "query"].includes(command) || !address || !opts.contentTopics) {
  console.error("usage: waku-client.mjs push|query MULTIADDR --content-topic CT [...]");
  process.exit(2);
}

const overall = setTimeout(() => { console.error(`overall timeout after ${4 * opts.timeout} ms`); process.exit(1); }, 4 * opts.timeout);
const withTimeout = (promise, what) => Promise.race([
  promise,
  new Promise((_, reject) => setTimeout(() => reject(new Error(`${what}: timeout after ${opts.timeout} ms`)), opts.timeout)),
]);

let waku;
try {
  waku = await createLightNode({
    networkConfig: { clusterId: opts.cluster },
    defaultBootstrap: false,
    libp2p: { transports: [tcp()], streamMuxers: [yamux()], addresses: { listen: [] }, hideWebSocketInfo: true },
  });
  await waku.start();
  const ma = multiaddr(address);
  const expected = ma.getPeerId();
  const connection = await withTimeout(waku.libp2p.dial(ma), "dial");
  if (expected && connection.remotePeer.toString() !== expected) throw new Error(`peer id mismatch: dialed ${expected}, Noise proved ${connection.remotePeer}`);
  // The sdk selects peers from the peer store's protocol list, filled by the automatic identify on connect, which may
  // still be running when waitForPeers returns: wait (bounded) until the needed codec is listed.
  const needed = command === "push" ? "/vac/waku/lightpush/3.0.0" : "/vac/waku/store-query/3.0.0";
  const identifyDeadline = Date.now() + opts.timeout;
  for (;;) {
    const known = await waku.libp2p.peerStore.get(connection.remotePeer).catch(() => undefined);
    if (known?.protocols.includes(needed)) break;
    if (Date.now() > identifyDeadline) throw new Error(`identify: peer did not announce ${needed} within ${opts.timeout} ms (has: ${known?.protocols.join(" ")})`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await withTimeout(waku.waitForPeers([command === "push" ? Protocols.LightPush : Protocols.Store]), "waitForPeers");

  const pubsubShard = opts.shard;
  if (command === "push") {
    const encoder = waku.createEncoder({ contentTopic: opts.contentTopics[0], shardId: pubsubShard });
    for (let i = 0; i < opts.count; i++) {
      const timestamp = new Date(Date.now() - (opts.count - i)); // distinct, increasing millisecond timestamps
      const payload = utf8ToBytes(`interop message ${i}`);
      const result = await withTimeout(waku.lightPush.send(encoder, { payload, timestamp }, { autoRetry: false, useLegacy: opts.legacy }), `push ${i}`);
      if (result.failures?.length || !result.successes?.length)
        throw new Error(`push ${i} failed: ${JSON.stringify(result.failures?.map((f) => f.error))}`);
      const { messageHashStr } = await import("@waku/core");
      const hash = messageHashStr(encoder.pubsubTopic, { payload, contentTopic: opts.contentTopics[0], timestamp, meta: undefined });
      console.log(JSON.stringify({ hash, timestamp: timestamp.getTime() }));
    }
  } else {
    const decoders = opts.contentTopics.map((contentTopic) => waku.createDecoder({ contentTopic, shardId: pubsubShard }));
    const query = { paginationForward: !opts.backward, peerId: connection.remotePeer, includeData: true };
    if (opts.pageSize) query.paginationLimit = opts.pageSize;
    if (opts.timeStart) query.timeStart = opts.timeStart;
    if (opts.timeEnd) query.timeEnd = opts.timeEnd;
    // A hash lookup: js-waku sends the decoders' pubsub topic with the hashes, no content topics or times.
    if (opts.hashes) query.messageHashes = opts.hashes.map((h) => hexToBytes(h));
    let pages = 0;
    for await (const page of waku.store.queryGenerator(decoders, query)) {
      pages++;
      for (const promise of page) {
        const m = await promise;
        if (!m) continue;
        console.log(JSON.stringify({ hash: m.hashStr, timestamp: m.timestamp?.getTime(), contentTopic: m.contentTopic, payload: bytesToUtf8(m.payload), page: pages }));
      }
      if (pages > 10000) throw new Error("more than 10000 pages; stopping");
    }
    console.log(JSON.stringify({ pages }));
  }
  await waku.stop();
  clearTimeout(overall);
  process.exit(0);
} catch (e) {
  console.error(`FAILED: ${e?.stack ?? e}`);
  process.exit(1);
}
