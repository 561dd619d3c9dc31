// A js-libp2p 3.x peer running @libp2p/gossipsub 17 configured as js-waku's relay (wakuGossipSub in js-waku
// packages/relay/src/relay.ts): msgIdFn = sha256(data), StrictNoSign, no floodsub fallback, protocol
// /vac/waku/relay/2.0.0, gossipsub's default parameters and score parameters (js-waku sets none). Driven by JSON lines
// on stdin for StoreSync's gossipsub interop tests. Usage:
//   node --import ../libp2p/withresolvers-polyfill.mjs peer.mjs [--sign] [--waku-validator] [--heartbeat MS] [--mesh-degree N]
// --sign: StrictSign instead (messages carry from, seqno, signature, key): a peer StoreSync must reject.
// --waku-validator: js-waku's messageValidator on every subscribed topic (reject undecodable, no content topic or payload).
// --mesh-degree N: D = Dlo = Dhi = Dscore = N, Dout = 0: once its mesh holds N peers it PRUNEs the GRAFT of a peer that
// dialled it (gossipsub keeps D_hi but for outbound peers), so that peer hears of messages by IHAVE only.
// First stdout line: {"event":"listening","peerId":…,"addrs":[…]}. Each command {"id":n,"cmd":…} gets one reply line
// {"id":n,"ok":true,…} or {"id":n,"ok":false,"error":…}. The process exits when stdin closes.
// Message ids in replies are hex SHA-256 of the data; data is base64.
import { createHash } from 'node:crypto'
import { createInterface } from 'node:readline'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { gossipsub, StrictNoSign, StrictSign, TopicValidatorResult } from '@libp2p/gossipsub'
import { identify } from '@libp2p/identify'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'

const RELAY = '/vac/waku/relay/2.0.0'
const argv = process.argv.slice(2)
const sign = argv.includes('--sign')
const wakuValidator = argv.includes('--waku-validator')
const heartbeatArg = argv.indexOf('--heartbeat')
const heartbeatInterval = heartbeatArg >= 0 ? Number(argv[heartbeatArg + 1]) : 1000
const degreeArg = argv.indexOf('--mesh-degree')
const d = degreeArg >= 0 ? Number(argv[degreeArg + 1]) : null
const degree = d === null ? {} : { D: d, Dlo: d, Dhi: d, Dscore: d, Dout: 0 }

const sha256 = (data) => new Uint8Array(createHash('sha256').update(data).digest())
const hex = (bytes) => Buffer.from(bytes).toString('hex')

function wakuGossipSub (components) {
  const pubsub = gossipsub({
    msgIdFn: ({ data }) => sha256(data),
    globalSignaturePolicy: sign ? StrictSign : StrictNoSign,
    fallbackToFloodsub: false,
    heartbeatInterval,
    // Tests publish before every peer is in the mesh; flood publish still reaches topic peers.
    allowPublishToZeroTopicPeers: true,
    ...degree
  })(components)
  // @libp2p/gossipsub 17 keeps the protocol list in `protocols` (js-waku's 14.x sets `multicodecs`).
  pubsub.protocols = [RELAY]
  return pubsub
}

const node = await createLibp2p({
  privateKey: await generateKeyPair('Ed25519'),
  addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
  transports: [tcp()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  connectionManager: { maxConnections: 1000, inboundConnectionThreshold: 100000 },
  services: { identify: identify(), pubsub: wakuGossipSub }
})
const pubsub = node.services.pubsub

// --- js-waku's message validator, on a hand-written WakuMessage decoder (14/WAKU2-MESSAGE fields 1 payload,
// 2 content_topic; others skipped): undecodable, no content topic or no payload => reject.
function readVarint (buf, at) {
  let value = 0n
  for (let shift = 0n; at < buf.length && shift < 70n; shift += 7n) {
    const b = buf[at++]
    value |= BigInt(b & 0x7f) << shift
    if ((b & 0x80) === 0) return [value, at]
  }
  throw new Error('bad varint')
}
function decodeWaku (buf) {
  const m = {}
  let at = 0
  while (at < buf.length) {
    let key
    [key, at] = readVarint(buf, at)
    const field = Number(key >> 3n)
    const wire = Number(key & 7n)
    if (field === 0) throw new Error('field 0')
    if (wire === 0) { let v; [v, at] = readVarint(buf, at); m[field] = v } else if (wire === 2) {
      let len; [len, at] = readVarint(buf, at)
      const end = at + Number(len)
      if (end > buf.length) throw new Error('truncated')
      m[field] = buf.subarray(at, end)
      at = end
    } else if (wire === 1) at += 8
    else if (wire === 5) at += 4
    else throw new Error(`wire type ${wire}`)
    if (at > buf.length) throw new Error('truncated')
  }
  return m
}
function messageValidator (_peer, message) {
  try {
    const m = decodeWaku(message.data)
    if (!(m[2]?.length > 0) || !(m[1]?.length > 0)) return TopicValidatorResult.Reject
    return TopicValidatorResult.Accept
  } catch {
    return TopicValidatorResult.Reject
  }
}

function varint (n) {
  const out = []
  let v = BigInt(n)
  do { let b = Number(v & 0x7fn); v >>= 7n; if (v > 0n) b |= 0x80; out.push(b) } while (v > 0n)
  return out
}
function field (number, bytes) { return [...varint((number << 3) | 2), ...varint(bytes.length), ...bytes] }
/** A WakuMessage: payload, content topic, timestamp (ns, sint64 zigzag) = now. */
function encodeWaku (contentTopic, payload, timestampNs) {
  const ts = BigInt(timestampNs)
  const zigzag = ts >= 0n ? ts << 1n : ((-ts) << 1n) - 1n
  return new Uint8Array([...field(1, payload), ...field(2, new TextEncoder().encode(contentTopic)), ...varint(10 << 3), ...varint(zigzag)])
}

// --- what the application saw: every 'message' event (gossipsub dispatches each accepted message once).
const delivered = new Map() // topic -> [{ id, data, from }]
const deliveries = new Map() // message id hex -> count
pubsub.addEventListener('gossipsub:message', (e) => {
  const { msg, propagationSource } = e.detail
  const id = hex(sha256(msg.data))
  deliveries.set(id, (deliveries.get(id) ?? 0) + 1)
  if (!delivered.has(msg.topic)) delivered.set(msg.topic, [])
  delivered.get(msg.topic).push({ id, data: Buffer.from(msg.data).toString('base64'), from: propagationSource.toString() })
})

async function waitFor (predicate, ms) {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    const v = predicate()
    if (v) return v
    await new Promise(resolve => setTimeout(resolve, 20))
  }
  throw new Error(`timed out after ${ms} ms`)
}

const findPeer = (peer) => node.getConnections().find(c => c.remotePeer.toString() === peer)?.remotePeer

async function publishOne (topic, data) {
  const result = await pubsub.publish(topic, data)
  return { msgId: hex(sha256(data)), recipients: result.recipients.map(p => p.toString()) }
}

const commands = {
  async dial ({ addr }, signal) {
    const conn = await node.dial(multiaddr(addr), { signal })
    return { remotePeer: conn.remotePeer.toString() }
  },
  async subscribe ({ topic }) {
    if (wakuValidator) pubsub.topicValidators.set(topic, messageValidator)
    pubsub.subscribe(topic)
    return {}
  },
  async unsubscribe ({ topic }) {
    pubsub.unsubscribe(topic)
    return {}
  },
  async mesh ({ topic }) {
    return { peers: pubsub.getMeshPeers(topic), subscribers: pubsub.getSubscribers(topic).map(p => p.toString()) }
  },
  /** Waits until `peer` is in js's mesh of `topic`. */
  async waitMesh ({ topic, peer, timeoutMs }) {
    await waitFor(() => pubsub.getMeshPeers(topic).includes(peer), timeoutMs ?? 20000)
    return { peers: pubsub.getMeshPeers(topic) }
  },
  async publish ({ topic, data }) {
    return await publishOne(topic, Buffer.from(data, 'base64'))
  },
  /** `count` WakuMessages with payload "<prefix> <i>" (padded to `size` bytes when given) on `contentTopic`; their ids and (when small) data. */
  async publishWaku ({ topic, contentTopic, prefix, count, size, delayMs }) {
    const ids = []
    const data = []
    for (let i = 0; i < count; i++) {
      let payload = new TextEncoder().encode(`${prefix} ${i} `)
      if (size && size > payload.length) payload = new Uint8Array([...payload, ...new Uint8Array(size - payload.length).fill(0x2e)])
      const nowNs = BigInt(Date.now()) * 1000000n + BigInt(i % 1000000)
      const bytes = encodeWaku(contentTopic, payload, nowNs)
      ids.push((await publishOne(topic, bytes)).msgId)
      if (size < 4096) data.push(Buffer.from(bytes).toString('base64'))
      if (delayMs) await new Promise(resolve => setTimeout(resolve, delayMs))
    }
    return { ids, data }
  },
  /** Messages the application received on `topic` (ids, data, propagation source) and how often each id came. */
  async received ({ topic }) {
    const list = delivered.get(topic) ?? []
    let duplicates = 0
    for (const n of deliveries.values()) if (n > 1) duplicates += n - 1
    return { count: list.length, messages: list, duplicates }
  },
  async score ({ peer }) {
    return { score: pubsub.getScore(peer) }
  },
  /** Writes raw bytes (base64 frames, each prefixed with its uvarint length unless `raw`) on a new relay stream. */
  async rawFrames ({ peer, frames, raw }, signal) {
    const id = findPeer(peer) ?? multiaddr(`/p2p/${peer}`)
    const stream = await node.dialProtocol(id, RELAY, { signal })
    for (const f of frames) {
      const body = Buffer.from(f, 'base64')
      const bytes = raw ? body : new Uint8Array([...varint(body.length), ...body])
      if (!stream.send(bytes)) await stream.onDrain()
    }
    await stream.close({ signal }).catch(() => {})
    return {}
  },
  async hangup ({ peer }) {
    const id = findPeer(peer)
    if (id) await node.hangUp(id)
    return {}
  },
  async connections () {
    return { peers: node.getConnections().map(c => c.remotePeer.toString()) }
  }
}

function reply (obj) {
  process.stdout.write(JSON.stringify(obj) + '\n')
}

reply({ event: 'listening', peerId: node.peerId.toString(), addrs: node.getMultiaddrs().map(a => a.toString()) })

const lines = createInterface({ input: process.stdin })
lines.on('line', async (line) => {
  let id = null
  try {
    const msg = JSON.parse(line)
    id = msg.id
    const run = commands[msg.cmd]
    if (!run) throw new Error(`unknown command ${msg.cmd}`)
    const signal = AbortSignal.timeout(msg.timeoutMs ?? 60000)
    reply({ id, ok: true, ...(await run(msg, signal)) })
  } catch (err) {
    reply({ id, ok: false, error: `${err.name}: ${err.message}` })
  }
})
lines.on('close', async () => {
  await node.stop()
  process.exit(0)
})
