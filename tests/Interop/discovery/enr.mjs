// js-waku's ENR codec (@waku/enr 0.0.33) driven by StoreSync's interop tests.
//   node enr.mjs decode ENR_TEXT
//     -> {"verified","seq","nodeId","peerId","ip","tcp","udp","waku2":{relay,store,filter,lightPush},"waku2Byte",
//         "clusterId","shards","multiaddrs":[...]} (a record that does not decode or verify: exit 1, reason on stderr)
//   node enr.mjs encode --ip IP --tcp PORT --udp PORT --waku2 BYTE --cluster C --shards 0,1 --multiaddr MA [--multiaddr MA]
//     -> {"enr","peerId","nodeId"}: a record js-waku made and signed with a fresh key
// Exit 0 on success, 1 on failure, 2 on bad usage.
import { EnrDecoder, EnrCreator } from "@waku/enr";
// The package root does not export the encoder: import it by path.
import { EnrEncoder } from "./node_modules/@waku/enr/dist/encoder.js";
import * as secp from "@noble/secp256k1";
import { multiaddr } from "@multiformats/multiaddr";

const [command, ...rest] = process.argv.slice(2);

async function decode(text) {
  const enr = await EnrDecoder.fromString(text);
  // fromString throws unless the signature verifies against the record's secp256k1 key, so reaching here means verified.
  const shards = enr.shardInfo;
  return {
    verified: true,
    seq: Number(enr.seq),
    nodeId: enr.nodeId,
    peerId: enr.peerId?.toString(),
    ip: enr.ip,
    tcp: enr.tcp,
    udp: enr.udp,
    waku2: enr.waku2,
    waku2Byte: enr.get("waku2")?.[0],
    clusterId: shards?.clusterId,
    shards: shards?.shards,
    multiaddrs: (enr.multiaddrs ?? []).map((m) => m.toString()),
  };
}

function rs(cluster, shards) {
  const value = new Uint8Array(3 + 2 * shards.length);
  new DataView(value.buffer).setUint16(0, cluster);
  value[2] = shards.length;
  shards.forEach((s, i) => new DataView(value.buffer).setUint16(3 + 2 * i, s));
  return value;
}

async function encode(args) {
  const o = { multiaddrs: [] };
  for (let i = 0; i < args.length; i++) {
    const a = args[i], v = args[++i];
    if (a === "--ip") o.ip = v;
    else if (a === "--tcp") o.tcp = Number(v);
    else if (a === "--udp") o.udp = Number(v);
    else if (a === "--waku2") o.waku2 = Number(v);
    else if (a === "--cluster") o.cluster = Number(v);
    else if (a === "--shards") o.shards = v.split(",").map(Number);
    else if (a === "--multiaddr") o.multiaddrs.push(multiaddr(v));
    else { console.error(`unknown option ${a}`); process.exit(2); }
  }
  const privateKey = secp.utils.randomPrivateKey();
  const enr = EnrCreator.fromPublicKey(secp.getPublicKey(privateKey, true));
  if (o.ip) enr.ip = o.ip;
  if (o.tcp) enr.tcp = o.tcp;
  if (o.udp) enr.udp = o.udp;
  if (o.waku2 !== undefined) enr.set("waku2", new Uint8Array([o.waku2]));
  if (o.cluster !== undefined) enr.set("rs", rs(o.cluster, o.shards ?? []));
  if (o.multiaddrs.length) enr.multiaddrs = o.multiaddrs;
  // Each set above bumped seq; EnrEncoder writes seq as one byte (0 as a non-canonical 0x00): seq 1 keeps it canonical.
  enr.seq = BigInt(1);
  const text = await EnrEncoder.toString(enr, privateKey);
  const back = await EnrDecoder.fromString(text);
  return { enr: text, peerId: back.peerId?.toString(), nodeId: back.nodeId };
}

try {
  if (command === "decode" && rest.length === 1) console.log(JSON.stringify(await decode(rest[0])));
  else if (command === "encode") console.log(JSON.stringify(await encode(rest)));
  else { console.error("usage: enr.mjs decode ENR | encode [--ip --tcp --udp --waku2 --cluster --shards --multiaddr]"); process.exit(2); }
  process.exit(0);
} catch (e) {
  console.error(`FAILED: ${e?.stack ?? e}`);
  process.exit(1);
}
