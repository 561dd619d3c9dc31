// Promise.withResolvers arrived in Node 22; libp2p 3.x dependencies (it-queue, abort-error, ...) call it.
// Loaded with `node --import ./withresolvers-polyfill.mjs` so the same scripts run on Node 20 and 22.
if (typeof Promise.withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value: function withResolvers () {
      let resolve
      let reject
      const promise = new this((res, rej) => { resolve = res; reject = rej })
      return { promise, resolve, reject }
    }
  })
}
