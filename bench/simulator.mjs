/* global Buffer, console, process, setTimeout, URL */
/**
 * What the simulator costs per request under the campaign's load (issue 15: 5,000 sends at 200/s): the
 * simulator (bench/simulator-server.mjs) runs in a child process; this process sends it N valid
 * SendZaloFollowerMessage requests, each with its own RequestId and recipient, paced at R/s from C
 * keep-alive connections, and prints the simulator's CPU per request (user + system, process.cpuUsage)
 * and its event-loop delay (perf_hooks.monitorEventLoopDelay, 10 ms resolution: how late its ticks came)
 * p50/p99/max, the codes
 * it answered, and the busiest 1,000 ms window of the sends as written to the wire (the senders start at
 * most R a second, but a send waiting for a free connection goes out with the others once one frees)
 * and as the simulator stamped them (TPS is set to R: more there than on the wire is a 160 the
 * simulator made up).
 *
 *   node bench/simulator.mjs [--requests 5000] [--rate 200] [--concurrency 32] [--rounds 1]
 *                            [--before DIR] [--floor] [--profile DIR] [--trace-gc]
 *
 * `--before DIR`: a built checkout (packages/simulator/dist) whose simulator runs too, interleaved with
 * this one in each round; the ratios compare the medians. `--floor` adds bench/simulator-floor.mjs: a
 * bare @effect/platform-node route that answers "accepted" (what the platform alone costs). `--profile DIR`: the simulators run with
 * --cpu-prof into DIR. Needs a build first.
 */
import { fork } from "node:child_process"
import { once } from "node:events"
import { Agent, request } from "node:http"
import { resolve } from "node:path"
import { performance } from "node:perf_hooks"
import { fileURLToPath } from "node:url"
import { machine, median, option, printTable } from "./report.mjs"
import { busiest } from "./windows.mjs"

const REQUESTS = Number(option("requests", "5000"))
const RATE = Number(option("rate", "200"))
const CONCURRENCY = Number(option("concurrency", "32"))
const ROUNDS = Number(option("rounds", "1"))
const before = option("before", "")
const profile = option("profile", "")

const here = fileURLToPath(new URL("..", import.meta.url))
const BUILDS = [
  { id: "after", label: "this checkout", root: here },
  ...before === "" ? [] : [{ id: "before", label: `before (${before})`, root: resolve(before) }],
  ...process.argv.includes("--floor") ? [{ id: "floor", label: "floor: a bare platform route", root: "floor" }] : []
]
const server = fileURLToPath(new URL("./simulator-server.mjs", import.meta.url))

const body = (i) =>
  Buffer.from(JSON.stringify({
    ApiKey: "SIMULATOR-API-KEY",
    SecretKey: "SIMULATOR-SECRET-KEY",
    OAID: "1000000000000000001",
    RequestId: `bench-simulator-${i}`,
    Payload: {
      recipient: { user_id: String(5300000000000000000n + BigInt(i)) },
      message: {
        text: `Xin chào khách hàng ${i}`,
        attachment: {
          type: "template",
          payload: {
            template_type: "media",
            elements: [{ media_type: "image", url: `https://cdn.example.vn/p/${i % 100}.png` }]
          }
        }
      }
    }
  }))

/** POSTs `bytes`; `onWritten` is called once the request is on the wire (not when queued in the agent). */
const post = (agent, url, bytes, onWritten) =>
  new Promise((resolve, reject) => {
    const req = request(url, {
      method: "POST",
      agent,
      headers: { "content-type": "application/json", "content-length": String(bytes.length) }
    }, (res) => {
      const chunks = []
      res.on("data", (chunk) => chunks.push(chunk))
      res.on("end", () => resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")).CodeResult))
      res.on("error", reject)
    })
    req.on("error", reject)
    req.on("finish", onWritten)
    req.end(bytes)
  })

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

const runOnce = async (build) => {
  const child = fork(server, [build.root, String(RATE)], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
    execArgv: [
      ...profile === ""
        ? []
        : ["--cpu-prof", `--cpu-prof-dir=${resolve(profile)}`, `--cpu-prof-name=${build.id}-${Date.now()}.cpuprofile`],
      ...process.argv.includes("--trace-gc") ? ["--trace-gc"] : []
    ]
  })
  const [{ baseUrl }] = await once(child, "message")
  const url = `${baseUrl}/SendZaloFollowerMessage_V5_post_json/`
  // FIFO: every connection takes its turn, so none idles into the server's keep-alive timeout.
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY, scheduling: "fifo" })
  const bodies = Array.from({ length: REQUESTS }, (_, i) => body(i))
  child.send("start")
  const started = performance.now()
  let next = 0
  const answered = {}
  const sentAt = []
  const wroteAt = []
  // C senders take the next request in turn, each at its slot (i / R seconds after the start) and never
  // within 1,000 ms of the request R before it: a late sender catches up without a burst, so no 1,000 ms
  // window holds more than R sends (as the campaign's shared limiter does).
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    for (let i = next++; i < REQUESTS; i = next++) {
      for (;;) {
        const previous = i < RATE ? -Infinity : sentAt[i - RATE]
        if (previous === undefined) {
          await sleep(1)
          continue
        }
        const wait = Math.max(started + (i * 1000) / RATE, previous + 1001) - performance.now()
        if (wait <= 0) break
        await sleep(wait)
      }
      sentAt[i] = performance.now()
      const written = () => (wroteAt[i] = performance.now())
      // A connection the server closed as it was reused: sent again, and counted.
      const code = await post(agent, url, bodies[i], written).catch((error) => {
        if (error.code !== "ECONNRESET") throw error
        answered.reset = (answered.reset ?? 0) + 1
        return post(agent, url, bodies[i], written)
      })
      answered[code] = (answered[code] ?? 0) + 1
    }
  }))
  const seconds = (performance.now() - started) / 1000
  child.send("stop")
  const [measured] = await once(child, "message")
  agent.destroy()
  child.disconnect()
  await once(child, "exit")
  return { ...measured, seconds, answered, sentBusiest: busiest([...wroteAt].sort((x, y) => x - y)) }
}

console.log(machine())
console.log(
  `${REQUESTS} requests at ${RATE}/s from ${CONCURRENCY} keep-alive connections, simulator TPS ${RATE}, ` +
    `${ROUNDS} round(s); medians over rounds\n`
)
const results = Object.fromEntries(BUILDS.map((b) => [b.id, []]))
for (let round = 0; round < ROUNDS; round++) {
  // Alternate which build goes first, so a drift in the machine's load hits both alike.
  for (const build of round % 2 === 0 ? BUILDS : [...BUILDS].reverse()) results[build.id].push(await runOnce(build))
}

const summary = (runs) => ({
  seconds: median(runs.map((r) => r.seconds)),
  cpuPerRequest: median(runs.map((r) => r.cpuMicros / REQUESTS)),
  p50: median(runs.map((r) => r.delayMillis.p50)),
  p99: median(runs.map((r) => r.delayMillis.p99)),
  max: median(runs.map((r) => r.delayMillis.max)),
  busiest: median(runs.map((r) => r.busiestSecond)),
  sentBusiest: median(runs.map((r) => r.sentBusiest)),
  codes: runs.at(-1).codes,
  resets: runs.at(-1).answered.reset ?? 0
})
const summaries = Object.fromEntries(BUILDS.map((b) => [b.id, summary(results[b.id])]))
printTable(
  [
    "simulator",
    "s",
    "CPU µs/req",
    "loop delay p50 ms",
    "p99 ms",
    "max ms",
    "busiest 1 s on the wire",
    "stamped",
    "codes (last round)"
  ],
  BUILDS.map((b) => {
    const s = summaries[b.id]
    return [
      b.label,
      s.seconds.toFixed(1),
      s.cpuPerRequest.toFixed(0),
      s.p50.toFixed(1),
      s.p99.toFixed(1),
      s.max.toFixed(1),
      String(s.sentBusiest),
      String(s.busiest),
      Object.entries(s.codes).map(([code, n]) => `${code}: ${n}`).join(", ") +
      (s.resets === 0 ? "" : `; ${s.resets} reset, sent again`)
    ]
  })
)
for (const other of BUILDS.slice(1)) {
  const [a, b] = [summaries.after, summaries[other.id]]
  console.log(
    `${other === BUILDS[1] ? "\n" : ""}after / ${other.id}: CPU per request ` +
      `${(a.cpuPerRequest / b.cpuPerRequest).toFixed(2)}, ` +
      `loop delay p99 ${(a.p99 / b.p99).toFixed(2)}, max ${(a.max / b.max).toFixed(2)}`
  )
}
