// A @chainsafe/discv5 node on 127.0.0.1 driven by JSON lines on stdin (one command per line, one reply per line on
// stdout). The C# interop tests (tests/StoreSync.Testing/Interop/JsDiscv5Peer.cs) start it; it exits when stdin closes.
import { createInterface } from "node:readline";
import { Discv5 } from "@chainsafe/discv5";
import { ENR, SignableENR } from "@chainsafe/enr";
import { generateKeyPair } from "@libp2p/crypto/keys";
import { multiaddr } from "@multiformats/multiaddr";

const args = process.argv.slice(2);
const port = Number(args[args.indexOf("--port") + 1]);
if (!Number.isInteger(port) || port <= 0) throw new Error("usage: peer.mjs --port N");

const privateKey = await generateKeyPair("secp256k1");
const enr = SignableENR.createFromPrivateKey(privateKey);
const bind = multiaddr(`/ip4/127.0.0.1/udp/${port}`);
enr.setLocationMultiaddr(bind);
const discv5 = Discv5.create({
  enr,
  privateKey,
  bindAddrs: { ip4: bind },
  // Our loaded test machines answer slower than chainsafe's 1 s default; enrUpdate off keeps the record's 127.0.0.1.
  config: { requestTimeout: 3000, enrUpdate: false, lookupTimeout: 20000 },
});
await discv5.start();
const discovered = new Map();
discv5.on("discovered", (e) => discovered.set(e.nodeId, e));

const out = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");
out({ enr: discv5.enr.encodeTxt(), nodeId: discv5.enr.nodeId });

const describe = (e) => ({ nodeId: e.nodeId, seq: Number(e.seq), ip: e.ip ?? null, udp: e.udp ?? null, enr: e.encodeTxt() });

async function run(msg) {
  switch (msg.cmd) {
    case "addEnr":
      discv5.addEnr(msg.enr);
      return {};
    case "ping": {
      const pong = await discv5.sendPing(ENR.decodeTxt(msg.enr));
      return { enrSeq: Number(pong.enrSeq), ip: pong.addr.ip.host ?? null, port: pong.addr.port };
    }
    case "findNode": {
      const enrs = await discv5.sendFindNode(ENR.decodeTxt(msg.enr), msg.distances);
      return { enrs: enrs.map(describe) };
    }
    case "lookup": {
      const enrs = msg.target ? await discv5.findNode(msg.target) : await discv5.findRandomNode();
      return { enrs: enrs.map(describe) };
    }
    case "talk": {
      const response = await discv5.sendTalkReq(ENR.decodeTxt(msg.enr), new TextEncoder().encode("hello"), "storesync-test");
      return { length: response.length };
    }
    case "table":
      return { enrs: discv5.kadValues().map(describe), discovered: [...discovered.values()].map(describe) };
    case "decode": {
      const e = ENR.decodeTxt(msg.enr);
      const kvs = {};
      for (const [k, v] of e.kvs) kvs[k] = Buffer.from(v).toString("hex");
      return { ...describe(e), kvs, publicKey: Buffer.from(e.publicKey).toString("hex") };
    }
    default:
      throw new Error(`unknown command ${msg.cmd}`);
  }
}

const lines = createInterface({ input: process.stdin });
lines.on("line", async (line) => {
  let msg;
  try {
    msg = JSON.parse(line);
    const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error(`timed out after ${msg.timeoutMs} ms`)), msg.timeoutMs ?? 30000));
    const result = await Promise.race([run(msg), timeout]);
    out({ id: msg.id, ok: true, ...result });
  } catch (e) {
    out({ id: msg?.id, ok: false, error: String(e?.stack ?? e) });
  }
});
lines.on("close", async () => {
  await discv5.stop();
  process.exit(0);
});
