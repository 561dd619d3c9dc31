// The js reference of StoreSync's relay benchmark (tests/StoreSync.Benchmarks/RelayBenchmark.cs): js-libp2p 3.3.11 with
// @libp2p/gossipsub 17.1.1 configured as js-waku configures Waku relay (protocol /vac/waku/relay/2.0.0, message id
// sha256(data), StrictNoSign, no floodsub fallback), over TCP, Noise and yamux on 127.0.0.1.
//   node bench-relay.mjs --role node                      the node under test: subscribes, validates, counts
//   node bench-relay.mjs --role peers --count 6 --dial A  six load peers in one process, each dialing only A
// First stdout line: {"peerId","addrs"} (node) or {"peers":n} (peers). Each stdin command {"id","cmd",...} gets one reply
// line {"id","ok":true,...} or {"id","ok":false,"error"}. Commands: node: stats; peers: ready, publish. Exit when stdin ends.
// Messages: an encoded WakuMessage (payload, content topic, timestamp) whose payload starts with (publisher int32 LE,
// sequence int32 LE, 8 bytes of time), byte for byte as RelayBenchMessage.cs builds them.

// Promise.withResolvers arrived in Node 22 and libp2p 3.x calls it: the polyfill loads before the modules below (hence
// dynamic imports), so the script runs as `node bench-relay.mjs` on Node 20 and 22.
await import('../libp2p/withresolvers-polyfill.mjs')
const { createHash, randomBytes } = await import('node:crypto')
const { createInterface } = await import('node:readline')
const { createLibp2p } = await import('libp2p')
const { tcp } = await import('@libp2p/tcp')
const { noise } = await import('@chainsafe/libp2p-noise')
const { yamux } = await import('@chainsafe/libp2p-yamux')
const { identify } = await import('@libp2p/identify')
const { gossipsub, StrictNoSign, TopicValidatorResult } = await import('@libp2p/gossipsub')
const { multiaddr } = await import('@multiformats/multiaddr')

const TOPIC = '/waku/2/rs/16/32'
const RELAY_CODEC = '/vac/waku/relay/2.0.0'
const CONTENT_TOPIC = new TextEncoder().encode('/bench/1/relay/proto')
const HEADER = 16
const STALL_MS = 5000

const args = process.argv.slice(2)
const opt = (name, fallback) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : fallback }
const role = opt('--role', 'node')
const print = (o) => process.stdout.write(JSON.stringify(o) + '\n')
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

function wakuRelay () {
  const make = gossipsub({
    msgIdFn: (msg) => createHash('sha256').update(msg.data).digest(),
    globalSignaturePolicy: StrictNoSign,
    fallbackToFloodsub: false,
    // All benchmark nodes share 127.0.0.1 (the C# side exempts loopback from P6 the same way).
    scoreParams: { IPColocationFactorWhitelist: new Set(['127.0.0.1']) }
  })
  return (components) => {
    const pubsub = make(components)
    pubsub.protocols = [RELAY_CODEC]
    return pubsub
  }
}

async function start () {
  const node = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionManager: { maxConnections: 1000, inboundConnectionThreshold: 100000, maxIncomingPendingConnections: 1000 },
    services: { identify: identify(), pubsub: wakuRelay() }
  })
  await node.start()
  return node
}

// One protobuf varint at data[at]: [value, next offset], or null when malformed.
function varint (data, at) {
  let value = 0
  let scale = 1
  for (let i = 0; i < 10 && at < data.length; i++) {
    const b = data[at++]
    value += (b & 0x7f) * scale
    if (b < 0x80) return [value, at]
    scale *= 128
  }
  return null
}

// js-waku's rule for relayed messages: a WakuMessage with a payload and a content topic, else reject.
function wakuValidator (_peer, msg) {
  const data = msg.data
  let payload = 0
  let contentTopic = 0
  for (let at = 0; at < data.length;) {
    const tag = varint(data, at)
    if (tag === null) return TopicValidatorResult.Reject
    at = tag[1]
    const wire = tag[0] % 8
    const field = Math.floor(tag[0] / 8)
    if (wire === 0) {
      const v = varint(data, at)
      if (v === null) return TopicValidatorResult.Reject
      at = v[1]
    } else if (wire === 2) {
      const len = varint(data, at)
      if (len === null || len[1] + len[0] > data.length) return TopicValidatorResult.Reject
      if (field === 1) payload = len[0]
      if (field === 2) contentTopic = len[0]
      at = len[1] + len[0]
    } else if (wire === 5) at += 4
    else if (wire === 1) at += 8
    else return TopicValidatorResult.Reject
  }
  return payload > 0 && contentTopic > 0 ? TopicValidatorResult.Accept : TopicValidatorResult.Reject
}

function header (data) {
  // 0x0a, varint length, payload...
  if (data.length < 3 || data[0] !== 0x0a) return null
  const len = varint(data, 1)
  if (len === null || len[0] < HEADER) return null
  const view = new DataView(data.buffer, data.byteOffset + len[1], HEADER)
  return { publisher: view.getInt32(0, true), seq: view.getInt32(4, true) }
}

function writeVarint (out, at, value) {
  // value < 2^63 as a BigInt-free double is not exact for nanosecond zigzag: use BigInt there.
  let v = BigInt(value)
  while (v >= 0x80n) { out[at++] = Number(v & 0x7fn) | 0x80; v >>= 7n }
  out[at++] = Number(v)
  return at
}

const filler = randomBytes(64 * 1024)
function message (publisher, seq, payloadBytes) {
  const nanos = BigInt(Date.now()) * 1000000n
  const zigzag = nanos << 1n
  const out = new Uint8Array(1 + 3 + payloadBytes + 1 + 1 + CONTENT_TOPIC.length + 1 + 10)
  let at = 0
  out[at++] = 0x0a
  at = writeVarint(out, at, payloadBytes)
  const offset = (publisher * 97 + seq * 31) % (filler.length - payloadBytes)
  out.set(filler.subarray(offset, offset + payloadBytes), at)
  const view = new DataView(out.buffer, at, HEADER)
  view.setInt32(0, publisher, true)
  view.setInt32(4, seq, true)
  view.setFloat64(8, performance.now(), true)
  at += payloadBytes
  out[at++] = 0x12
  at = writeVarint(out, at, CONTENT_TOPIC.length)
  out.set(CONTENT_TOPIC, at)
  at += CONTENT_TOPIC.length
  out[at++] = 0x50
  at = writeVarint(out, at, zigzag)
  return out.subarray(0, at)
}

const handlers = {}
let hello

if (role === 'node') {
  const node = await start()
  const pubsub = node.services.pubsub
  let validated = 0
  let delivered = 0
  pubsub.topicValidators.set(TOPIC, (peer, msg) => { validated++; return wakuValidator(peer, msg) })
  pubsub.addEventListener('message', () => { delivered++ })
  pubsub.subscribe(TOPIC)
  hello = { peerId: node.peerId.toString(), addrs: node.getMultiaddrs().map((a) => a.toString()) }
  handlers.stats = async () => {
    const cpu = process.cpuUsage()
    const usage = process.resourceUsage()
    return {
      validated,
      delivered,
      cpuMicros: cpu.user + cpu.system,
      maxRssBytes: usage.maxRSS * 1024,
      rssBytes: process.memoryUsage().rss,
      mesh: pubsub.getMeshPeers(TOPIC).length,
      seenIds: pubsub.seenCache?.size ?? -1,
      cachedMessages: pubsub.mcache?.size ?? -1
    }
  }
  handlers.stop = async () => { await node.stop(); return {} }
} else {
  const count = Number(opt('--count', '6'))
  const target = multiaddr(opt('--dial'))
  const peers = []
  for (let i = 0; i < count; i++) peers.push(await start())
  const windows = peers.map(() => ({ free: 0, waiters: [] }))
  let deliveredTotal = 0
  const release = (w) => { const next = w.waiters.shift(); if (next) next(true); else w.free++ }
  const acquire = (w) => {
    if (w.free > 0) { w.free--; return Promise.resolve(true) }
    return new Promise((resolve) => {
      const timer = setTimeout(() => { const i = w.waiters.indexOf(done); if (i >= 0) w.waiters.splice(i, 1); resolve(false) }, STALL_MS)
      const done = (v) => { clearTimeout(timer); resolve(v) }
      w.waiters.push(done)
    })
  }
  peers.forEach((p, receiver) => {
    p.services.pubsub.addEventListener('message', (event) => {
      const h = header(event.detail.data)
      if (h === null || h.publisher === receiver) return
      deliveredTotal++
      if ((h.publisher + 1) % count === receiver) release(windows[h.publisher])
    })
    p.services.pubsub.subscribe(TOPIC)
  })
  for (const p of peers) await p.dial(target)
  hello = { peers: count }
  handlers.ready = async (cmd) => {
    const deadline = Date.now() + (cmd.timeoutMs ?? 30000)
    const nodeId = target.getComponents().find((c) => c.name === 'p2p')?.value
    while (!peers.every((p) => p.services.pubsub.getMeshPeers(TOPIC).some((id) => id.toString() === nodeId))) {
      if (Date.now() > deadline) throw new Error('the node under test did not join every peer\'s mesh')
      await sleep(50)
    }
    return {}
  }
  handlers.publish = async (cmd) => {
    const { messages, window, rate, payloadBytes } = cmd
    const expected = deliveredTotal + messages * (count - 1)
    for (const w of windows) { w.free = window; w.waiters = [] }
    let stalls = 0
    const started = performance.now()
    await Promise.all(peers.map(async (p, j) => {
      const share = Math.floor(messages / count) + (j < messages % count ? 1 : 0)
      const perPublisher = rate > 0 ? rate / count : 0
      for (let seq = 0; seq < share; seq++) {
        if (perPublisher > 0) {
          const wait = seq / perPublisher * 1000 - (performance.now() - started)
          if (wait > 1) await sleep(wait)
        }
        if (!await acquire(windows[j])) stalls++
        await p.services.pubsub.publish(TOPIC, message(j, seq, payloadBytes))
      }
    }))
    let last = deliveredTotal
    let lastChange = performance.now()
    while (deliveredTotal < expected && performance.now() - lastChange < 30000) {
      await sleep(1)
      if (deliveredTotal !== last) { last = deliveredTotal; lastChange = performance.now() }
    }
    return { ms: performance.now() - started, stalls, complete: deliveredTotal >= expected, delivered: deliveredTotal }
  }
  handlers.stop = async () => { await Promise.all(peers.map((p) => p.stop())); return {} }
}

print(hello)
const lines = createInterface({ input: process.stdin })
lines.on('line', async (line) => {
  let cmd
  try {
    cmd = JSON.parse(line)
    const handler = handlers[cmd.cmd]
    if (!handler) throw new Error(`unknown command ${cmd.cmd}`)
    print({ id: cmd.id, ok: true, ...(await handler(cmd)) })
  } catch (e) {
    print({ id: cmd?.id, ok: false, error: String(e?.stack ?? e) })
  }
})
lines.on('close', () => process.exit(0))
