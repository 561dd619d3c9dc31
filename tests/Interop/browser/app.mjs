// The browser page's script (bundled by build.mjs with esbuild): a js-waku light node in the page dials a StoreSync node's
// /ws address, pages through its history forward and backward, publishes one message by light push, and reports the
// hashes in window.storesyncResult (and on the page, for the screenshot). Parameters come from the page's query string:
//   ?addr=MULTIADDR&cluster=1&shard=0&contentTopic=CT&pageSize=20&timeout=20000
import { createLightNode, Protocols, utf8ToBytes, waku as core } from "@waku/sdk";
import { yamux } from "@chainsafe/libp2p-yamux";
import { multiaddr } from "@multiformats/multiaddr";

const params = new URLSearchParams(location.search);
const addr = params.get("addr");
const clusterId = Number(params.get("cluster") ?? 1);
const shardId = Number(params.get("shard") ?? 0);
const contentTopic = params.get("contentTopic");
const pageSize = Number(params.get("pageSize") ?? 20);
const timeout = Number(params.get("timeout") ?? 20000);
const MaxPages = 1000;

const show = (id, text) => { document.getElementById(id).textContent = text; };
const short = (hash) => `${hash.slice(0, 10)}…${hash.slice(-6)}`;
const withTimeout = (promise, what) => Promise.race([
  promise,
  new Promise((_, reject) => setTimeout(() => reject(new Error(`${what}: timeout after ${timeout} ms`)), timeout)),
]);

async function pages(waku, decoder, peerId, forward) {
  const result = [];
  for await (const page of waku.store.queryGenerator([decoder], { paginationForward: forward, paginationLimit: pageSize, peerId, includeData: true })) {
    const hashes = [];
    for (const promise of page) {
      const m = await promise;
      if (m) hashes.push(m.hashStr);
    }
    result.push(hashes);
    show(forward ? "forward" : "backward", `${result.length} pages, ${result.flat().length} messages`);
    if (result.length > MaxPages) throw new Error(`more than ${MaxPages} pages; stopping`);
  }
  return result;
}

async function run() {
  show("address", addr);
  show("agent", navigator.userAgent);
  // js-waku's browser defaults: WebSocket only, and only /wss unless filterMultiaddrs is false (plain ws is allowed to
  // localhost, which is all this page dials); mplex by default, but the node speaks yamux.
  const waku = await createLightNode({
    networkConfig: { clusterId },
    defaultBootstrap: false,
    libp2p: { filterMultiaddrs: false, hideWebSocketInfo: true, streamMuxers: [yamux()] },
  });
  await waku.start();
  const ma = multiaddr(addr);
  const connection = await withTimeout(waku.libp2p.dial(ma), "dial");
  if (connection.remotePeer.toString() !== ma.getPeerId()) throw new Error(`dialed ${ma.getPeerId()}, Noise proved ${connection.remotePeer}`);
  show("connection", `${connection.remoteAddr} (${connection.encryption}, ${connection.multiplexer})`);
  show("status", "connected; querying the store");
  // The sdk picks peers by the protocols identify stored; wait (bounded) until both are listed.
  const deadline = Date.now() + timeout;
  for (;;) {
    const known = await waku.libp2p.peerStore.get(connection.remotePeer).catch(() => undefined);
    if (known?.protocols.includes("/vac/waku/store-query/3.0.0") && known.protocols.includes("/vac/waku/lightpush/3.0.0")) break;
    if (Date.now() > deadline) throw new Error(`identify: store and light push not announced within ${timeout} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await withTimeout(waku.waitForPeers([Protocols.Store, Protocols.LightPush]), "waitForPeers");

  const decoder = waku.createDecoder({ contentTopic, shardId });
  const forward = await pages(waku, decoder, connection.remotePeer, true);
  const backward = await pages(waku, decoder, connection.remotePeer, false);
  const all = forward.flat();
  show("first", all.length ? `${short(all[0])} … ${short(all[all.length - 1])}` : "none");

  const encoder = waku.createEncoder({ contentTopic, shardId });
  const payload = utf8ToBytes(`hello from ${navigator.userAgent.includes("Headless") ? "headless " : ""}Chromium`);
  const timestamp = new Date();
  const sent = await withTimeout(waku.lightPush.send(encoder, { payload, timestamp }, { autoRetry: false }), "light push");
  if (sent.failures?.length || !sent.successes?.length) throw new Error(`light push failed: ${JSON.stringify(sent.failures?.map((f) => f.error))}`);
  const pushed = core.messageHashStr(encoder.pubsubTopic, { payload, contentTopic, timestamp, meta: undefined });
  show("pushed", short(pushed));
  await waku.stop();
  return { peer: connection.remotePeer.toString(), remoteAddr: connection.remoteAddr.toString(), encryption: connection.encryption,
    multiplexer: connection.multiplexer, userAgent: navigator.userAgent, forward, backward, pushed, pushedTimestamp: timestamp.getTime() };
}

run().then(
  (result) => { window.storesyncResult = result; show("status", `done: ${result.forward.flat().length} messages forward, ${result.backward.flat().length} backward, 1 pushed`); document.body.dataset.done = "ok"; },
  (error) => { window.storesyncResult = { error: String(error?.stack ?? error) }; show("status", `FAILED: ${error}`); document.body.dataset.done = "failed"; },
);
