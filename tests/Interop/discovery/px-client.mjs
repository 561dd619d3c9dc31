// A js-waku light client (@waku/sdk 0.0.36 with @waku/discovery 0.0.13's peer exchange) that knows one node only.
//   node --import ../waku/withresolvers-polyfill.mjs px-client.mjs BOOTSTRAP_MULTIADDR --cluster C --shard S
//        --content-topic CT --expect N [--timeout MS]
// It dials the bootstrap node, learns other peers only by peer exchange, waits until N of them are learned, then dials
// each learned peer and queries its store (that peer alone) for CT on shard S.
// Output, one JSON object per line: {"learned": peerId, "multiaddrs": [...]} per peer learned by peer exchange;
// {"from": peerId, "hash", "payload"} per message a learned peer's store returned; {"queried": peerId, "messages": n}.
// Exit 0 on success, 1 on failure (reason on stderr), 2 on bad usage. Every step has a timeout.
import { createLightNode, bytesToUtf8 } from "@waku/sdk";
import { tcp } from "@libp2p/tcp";
import { yamux } from "@chainsafe/libp2p-yamux";
import { multiaddr } from "@multiformats/multiaddr";

const [bootstrap, ...rest] = process.argv.slice(2);
const opts = { cluster: 1, shard: 0, expect: 1, timeout: 30000 };
for (let i = 0; i < rest.length; i++) {
  const a = rest[i], v = rest[++i];
  if (a === "--cluster") opts.cluster = Number(v);
  else if (a === "--shard") opts.shard = Number(v);
  else if (a === "--content-topic") opts.contentTopic = v;
  else if (a === "--expect") opts.expect = Number(v);
  else if (a === "--timeout") opts.timeout = Number(v);
  else { console.error(`unknown option ${a}`); process.exit(2); }
}
if (!bootstrap || !opts.contentTopic) {
  console.error("usage: px-client.mjs BOOTSTRAP_MULTIADDR --content-topic CT [--cluster C --shard S --expect N --timeout MS]");
  process.exit(2);
}

const overall = setTimeout(() => { console.error(`overall timeout after ${4 * opts.timeout} ms`); process.exit(1); }, 4 * opts.timeout);
const withTimeout = (promise, what) => Promise.race([
  promise,
  new Promise((_, reject) => setTimeout(() => reject(new Error(`${what}: timeout after ${opts.timeout} ms`)), opts.timeout)),
]);
const STORE = "/vac/waku/store-query/3.0.0";

let waku;
try {
  const bootstrapId = multiaddr(bootstrap).getPeerId();
  waku = await createLightNode({
    networkConfig: { clusterId: opts.cluster },
    defaultBootstrap: false,
    bootstrapPeers: [bootstrap],
    // Peer exchange is the only discovery: no DNS tree, no peer cache.
    discovery: { peerExchange: true, dns: false, peerCache: false },
    libp2p: { transports: [tcp()], streamMuxers: [yamux()], addresses: { listen: [] }, hideWebSocketInfo: true },
  });

  // Peer exchange announces each record it got as a libp2p "peer:discovery"; the bootstrap list announces its peer too.
  const learned = new Map();
  let learnedEnough;
  const enough = new Promise((resolve) => { learnedEnough = resolve; });
  waku.libp2p.addEventListener("peer:discovery", (event) => {
    const id = event.detail.id.toString();
    if (id === bootstrapId || learned.has(id)) return;
    learned.set(id, event.detail.id);
    console.log(JSON.stringify({ learned: id, multiaddrs: (event.detail.multiaddrs ?? []).map((m) => m.toString()) }));
    if (learned.size >= opts.expect) learnedEnough();
  });
  await waku.start();
  await withTimeout(enough, `learning ${opts.expect} peer(s) by peer exchange (have ${learned.size})`);

  const decoder = waku.createDecoder({ contentTopic: opts.contentTopic, shardId: opts.shard });
  for (const [id, peerId] of learned) {
    // The multiaddrs came from the peer exchange record only (merged into the peer store by @waku/discovery).
    await withTimeout(waku.libp2p.dial(peerId), `dial ${id}`);
    const identifyDeadline = Date.now() + opts.timeout;
    for (;;) {
      const known = await waku.libp2p.peerStore.get(peerId).catch(() => undefined);
      if (known?.protocols.includes(STORE)) break;
      if (Date.now() > identifyDeadline) throw new Error(`identify: ${id} did not announce ${STORE}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    let messages = 0;
    const query = waku.store.queryGenerator([decoder], { peerId, includeData: true, paginationForward: true });
    for await (const page of query) {
      for (const promise of page) {
        const m = await promise;
        if (!m) continue;
        messages++;
        console.log(JSON.stringify({ from: id, hash: m.hashStr, payload: bytesToUtf8(m.payload) }));
      }
      if (messages > 10000) throw new Error("more than 10000 messages; stopping");
    }
    console.log(JSON.stringify({ queried: id, messages }));
  }
  await waku.stop();
  clearTimeout(overall);
  process.exit(0);
} catch (e) {
  console.error(`FAILED: ${e?.stack ?? e}`);
  process.exit(1);
}
