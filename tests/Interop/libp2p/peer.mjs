// A js-libp2p 3.x peer (TCP and WebSocket, Noise, Yamux, identify, ping) driven by JSON lines on stdin; used by the C#
// interop tests and the libp2p benchmark. Usage:
//   node --experimental-websocket --import ./withresolvers-polyfill.mjs peer.mjs [--key ed25519|secp256k1] [--ws]
// It always dials /tcp, /ws and /wss; with --ws it listens on /ws too (after its /tcp address). Dialing WebSocket uses
// the runtime's global WebSocket, which Node 20 exposes only with --experimental-websocket (Node 22 by default).
// First stdout line: {"event":"listening","peerId":…,"addrs":[…]}. Each command {"id":n,"cmd":…} gets one reply line
// {"id":n,"ok":true,…} or {"id":n,"ok":false,"error":…}. The process exits when stdin closes.
import { createHash, randomBytes } from 'node:crypto'
import { createInterface } from 'node:readline'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { webSockets } from '@libp2p/websockets'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'

const ECHO = '/storesync/test/echo/1.0.0'
const SINK = '/storesync/test/sink/1.0.0'
const STREAM_LIMITS = { maxInboundStreams: 256, maxOutboundStreams: 256 }

const keyArg = process.argv.indexOf('--key')
const keyType = keyArg > 0 ? process.argv[keyArg + 1] : 'ed25519'
const privateKey = await generateKeyPair(keyType === 'secp256k1' ? 'secp256k1' : 'Ed25519')
const listenWs = process.argv.includes('--ws')
if (typeof WebSocket === 'undefined') throw new Error('no global WebSocket: run node 20 with --experimental-websocket')

const node = await createLibp2p({
  privateKey,
  addresses: { listen: ['/ip4/127.0.0.1/tcp/0', ...(listenWs ? ['/ip4/127.0.0.1/tcp/0/ws'] : [])] },
  // @libp2p/websockets 10.x dials and listens on both /ws and /wss (the older `filters` option, whose default refused
  // plain /ws outside browsers, is gone).
  transports: [tcp(), webSockets()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  // Benchmarks open connections back to back; js otherwise rate-limits inbound connections per host.
  connectionManager: { maxConnections: 10000, inboundConnectionThreshold: 100000, maxIncomingPendingConnections: 1000 },
  services: { identify: identify(), ping: ping() }
})

const identified = new Map()
node.addEventListener('peer:identify', (e) => {
  const r = e.detail
  identified.set(r.peerId.toString(), {
    protocols: r.protocols,
    agentVersion: r.agentVersion,
    protocolVersion: r.protocolVersion,
    listenAddrs: r.listenAddrs.map(a => a.toString()),
    observedAddr: r.observedAddr?.toString()
  })
})
const connected = []
node.addEventListener('peer:connect', (e) => connected.push(e.detail.toString()))

async function send (stream, data) {
  if (!stream.send(data)) await stream.onDrain()
}

await node.handle(ECHO, async (stream) => {
  try {
    for await (const chunk of stream) await send(stream, chunk)
    await stream.close()
  } catch (err) {
    stream.abort(err)
  }
}, STREAM_LIMITS)

// Reads everything, then answers with the byte count as text and closes: a one-way throughput target.
await node.handle(SINK, async (stream) => {
  try {
    let total = 0
    for await (const chunk of stream) total += chunk.byteLength
    await send(stream, new TextEncoder().encode(String(total)))
    await stream.close()
  } catch (err) {
    stream.abort(err)
  }
}, STREAM_LIMITS)

async function readAll (stream, onChunk) {
  for await (const chunk of stream) onChunk(chunk.subarray ? chunk.subarray() : chunk)
}

// Sends `size` random bytes on a new echo stream while reading the echo; compares SHA-256 of both.
async function echoOnce (addr, size, signal) {
  const stream = await node.dialProtocol(multiaddr(addr), ECHO, { signal, ...STREAM_LIMITS })
  const sent = createHash('sha256')
  const received = createHash('sha256')
  let receivedBytes = 0
  const reading = readAll(stream, (c) => { received.update(c); receivedBytes += c.byteLength })
  for (let at = 0; at < size; at += 65536) {
    const chunk = randomBytes(Math.min(65536, size - at))
    sent.update(chunk)
    await send(stream, chunk)
  }
  await stream.close({ signal })
  await reading
  const same = sent.digest('hex') === received.digest('hex')
  if (!same || receivedBytes !== size) throw new Error(`echo mismatch: sent ${size} bytes, got ${receivedBytes} (hash equal: ${same})`)
  return receivedBytes
}

async function sink (addr, size, signal) {
  const stream = await node.dialProtocol(multiaddr(addr), SINK, { signal })
  const chunk = randomBytes(65536)
  const started = performance.now()
  let reply = ''
  const reading = readAll(stream, (c) => { reply += new TextDecoder().decode(c) })
  for (let at = 0; at < size; at += chunk.byteLength) await send(stream, at + chunk.byteLength <= size ? chunk : chunk.subarray(0, size - at))
  await stream.close({ signal })
  await reading
  const ms = performance.now() - started
  if (Number(reply) !== size) throw new Error(`sink acknowledged ${reply} of ${size} bytes`)
  return { ms, bytes: size }
}

async function waitFor (predicate, ms) {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    const v = predicate()
    if (v) return v
    await new Promise(resolve => setTimeout(resolve, 20))
  }
  throw new Error(`timed out after ${ms} ms`)
}

const commands = {
  async dial ({ addr }, signal) {
    const conn = await node.dial(multiaddr(addr), { signal })
    return { remotePeer: conn.remotePeer.toString(), encryption: conn.encryption, multiplexer: conn.multiplexer }
  },
  async ping ({ addr }, signal) {
    return { rtt: await node.services.ping.ping(multiaddr(addr), { signal }) }
  },
  async identify ({ peer, timeoutMs }) {
    return await waitFor(() => identified.get(peer), timeoutMs ?? 10000)
  },
  async connected ({ peer, timeoutMs }) {
    await waitFor(() => connected.includes(peer), timeoutMs ?? 10000)
    return {}
  },
  async echo ({ addr, size }, signal) {
    return { bytes: await echoOnce(addr, size, signal) }
  },
  async concurrent ({ addr, streams, size }, signal) {
    await node.dial(multiaddr(addr), { signal })
    const results = await Promise.all(Array.from({ length: streams }, () => echoOnce(addr, size, signal)))
    return { streams: results.length, connections: node.getConnections().length }
  },
  async sink ({ addr, size }, signal) {
    return await sink(addr, size, signal)
  },
  // Sequential fresh connections (dial, then close): handshake throughput.
  async handshakes ({ addr, count }, signal) {
    const started = performance.now()
    for (let i = 0; i < count; i++) {
      const conn = await node.dial(multiaddr(addr), { signal, force: true })
      await conn.close()
    }
    return { ms: performance.now() - started, count }
  },
  async cpu () {
    const u = process.cpuUsage()
    return { userMicros: u.user, systemMicros: u.system }
  },
  async hangup ({ peer }) {
    await node.hangUp(peerFromString(peer))
    return {}
  }
}

function peerFromString (peer) {
  return node.getConnections().find(c => c.remotePeer.toString() === peer)?.remotePeer ?? multiaddr(`/p2p/${peer}`)
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
