// An open-loop load: requests start on a fixed schedule (rate per second, evenly spaced)
// whatever the answers do, over a pool of keep-alive connections, and each latency is counted
// from the request's scheduled start, so a stalled server is charged for the requests it held
// up (no coordinated omission). autocannon's rate option sends each second's quota in a burst,
// which measures the saturated latency again; this is the latency at a given offered load.
import http from 'node:http'

/**
 * @param {{ url: string, rate: number, seconds: number, connections: number, path: () => string }} o
 * @returns {Promise<{ offered: number, completed: number, errors: number, non2xx: number, requestsPerSecond: number, latencyMs: { p50: number, p90: number, p99: number, max: number, mean: number } }>}
 */
export async function openLoop(o) {
  const target = new URL(o.url)
  const agent = new http.Agent({ keepAlive: true, maxSockets: o.connections })
  const total = Math.round(o.rate * o.seconds)
  const latencies = []
  let errors = 0
  let non2xx = 0
  let done = 0
  const start = performance.now()
  await new Promise((resolve) => {
    const finish = () => {
      if (++done === total) resolve()
    }
    let sent = 0
    const tick = () => {
      const now = performance.now()
      while (sent < total && start + (sent * 1000) / o.rate <= now) {
        const scheduled = start + (sent * 1000) / o.rate
        sent++
        const req = http.get({ host: target.hostname, port: target.port, path: o.path(), agent }, (res) => {
          if (res.statusCode < 200 || res.statusCode > 299) non2xx++
          res.on('data', () => {})
          res.on('end', () => {
            latencies.push(performance.now() - scheduled)
            finish()
          })
        })
        req.on('error', () => {
          errors++
          finish()
        })
      }
      // Sleep until the next request is due (timers fire at millisecond granularity, which
      // can only add to the latencies counted): a spinning client would take a core from the
      // server it measures.
      if (sent < total) setTimeout(tick, Math.max(0, start + (sent * 1000) / o.rate - performance.now()))
    }
    tick()
  })
  const elapsed = (performance.now() - start) / 1000
  agent.destroy()
  latencies.sort((a, b) => a - b)
  const at = (q) => Number((latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN).toFixed(2))
  return {
    offered: o.rate,
    completed: latencies.length,
    errors,
    non2xx,
    requestsPerSecond: Number((latencies.length / elapsed).toFixed(1)),
    latencyMs: { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: at(1), mean: Number((latencies.reduce((a, b) => a + b, 0) / latencies.length).toFixed(2)) },
  }
}
