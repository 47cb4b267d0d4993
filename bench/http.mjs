/* global console, process, URL */
/**
 * What EsmsClient adds on top of the HTTP stack. Starts the loopback server (bench/server.mjs) in a
 * process of its own, then runs each scenario (bench/http-worker.mjs) in a fresh process, at each
 * concurrency, for several interleaved rounds, and prints the medians:
 *
 *   (a) undici.request POST + JSON.parse, the floor
 *   (b) EsmsClient.sendZaloImage on NodeEsmsClient.layer, validation, encoding and decoding included,
 *       inside an Effect program, and (b') as a Promise caller uses it (one ManagedRuntime.runPromise per send)
 *   (c) fetch + an AbortController timeout, the way the Stainless SDKs (openai-node, telnyx) send
 *   (d) an axios instance with a keep-alive http.Agent, the way twilio-node (and n8n's eSMS node) send
 *
 * Options: --rounds N (3), --seconds S measured per run (2), --warmup S (1), --concurrency 1,64,
 * --detail (adds rows that split the cost: Effect alone, each HttpClient alone, EsmsClient before).
 * Needs a build first (`pnpm bench` does it).
 */
import { execFile, fork } from "node:child_process"
import { once } from "node:events"
import { cpus } from "node:os"
import { fileURLToPath } from "node:url"
import { machine, median, option, printTable } from "./report.mjs"

const rounds = Number(option("rounds", "3"))
const measureMs = Number(option("seconds", "2")) * 1000
const warmupMs = Number(option("warmup", "1")) * 1000
const concurrencies = option("concurrency", "1,64").split(",").map(Number)
const detail = process.argv.includes("--detail")
// A checkout of the repository, built, whose EsmsClient runs as an extra row ("before").
const before = option("before", "")

// Throughput against (a), per concurrency (issue 13); CPU per send: at most 2.5x (a)'s at 64, and at
// most half the cheaper of (c) and (d).
const TARGETS = { 1: 0.7, 64: 0.4 }
const CPU_TO_FLOOR = 2.5
const CPU_TO_PEERS = 0.5

const SCENARIOS = [
  { id: "undici", label: "(a) undici.request + JSON.parse" },
  { id: "esms", label: "(b) EsmsClient.sendZaloImage, NodeEsmsClient.layer", target: true },
  { id: "esms-promise", label: "(b') the same, one ManagedRuntime.runPromise per send", target: true },
  ...before === "" ? [] : [{ id: "esms-before", label: `    (b) as built in ${before}` }],
  { id: "fetch", label: "(c) fetch + AbortController (Stainless style)" },
  { id: "axios", label: "(d) axios, keep-alive http.Agent (twilio-node style)" },
  ...detail
    ? [
      { id: "effect-undici", label: "    Effect.tryPromise(undici.request)" },
      { id: "client", label: "    HttpClient: UndiciHttpClient" },
      { id: "platform-client", label: "    HttpClient: NodeHttpClient.layerUndici" },
      { id: "esms-platform", label: "    (b) on NodeHttpClient.layerUndici (before)" }
    ]
    : []
]

const worker = fileURLToPath(new URL("./http-worker.mjs", import.meta.url))

const server = fork(fileURLToPath(new URL("./server.mjs", import.meta.url)), [], { stdio: "inherit" })
const [{ port }] = await once(server, "message")
const baseUrl = `http://127.0.0.1:${port}`

const runWorker = (scenario, concurrency) =>
  new Promise((resolve, reject) =>
    execFile(
      process.execPath,
      [worker, scenario, String(concurrency), String(warmupMs), String(measureMs), baseUrl],
      { env: { ...process.env, ESMS_BENCH_BEFORE: before } },
      (error, stdout, stderr) =>
        error ? reject(new Error(`${scenario}: ${stderr || error.message}`)) : resolve(JSON.parse(stdout))
    )
  )

console.log(machine())
console.log(
  `${SCENARIOS.length} scenarios × concurrency ${concurrencies.join(", ")} × ${rounds} rounds, ` +
    `${warmupMs / 1000} s warm-up + ${measureMs / 1000} s measured each; medians over rounds\n`
)

// results[concurrency][scenario] = one run per round; rounds interleave, so load drifts hit all alike.
const results = Object.fromEntries(concurrencies.map((c) => [c, Object.fromEntries(SCENARIOS.map((s) => [s.id, []]))]))
try {
  for (let round = 1; round <= rounds; round++) {
    for (const concurrency of concurrencies) {
      for (const scenario of SCENARIOS) {
        if (process.stderr.isTTY) {
          process.stderr.write(`\rround ${round}/${rounds}, concurrency ${concurrency}, ${scenario.id}`.padEnd(60))
        }
        results[concurrency][scenario.id].push(await runWorker(scenario.id, concurrency))
      }
    }
  }
} finally {
  if (process.stderr.isTTY) process.stderr.write("\r".padEnd(61) + "\r")
  server.kill()
}

const rows = []
const verdicts = []
let allPass = true
const medianOf = (concurrency, id, field) => median(results[concurrency][id].map((run) => run[field]))
for (const concurrency of concurrencies) {
  const floor = results[concurrency].undici
  const peerCpu = Math.min(
    medianOf(concurrency, "fetch", "cpuMicrosPerMessage"),
    medianOf(concurrency, "axios", "cpuMicrosPerMessage")
  )
  const floorCpu = medianOf(concurrency, "undici", "cpuMicrosPerMessage")
  for (const scenario of SCENARIOS) {
    const runs = results[concurrency][scenario.id]
    // Each round's ratio pairs runs made a few seconds apart, then the median of those.
    const ratio = median(runs.map((run, i) => run.perSecond / floor[i].perSecond))
    const cpu = medianOf(concurrency, scenario.id, "cpuMicrosPerMessage")
    const target = scenario.target ? TARGETS[concurrency] : undefined
    const pass = target === undefined ? "" : ratio >= target ? "PASS" : "FAIL"
    if (pass === "FAIL") allPass = false
    if (scenario.target) {
      const toPeers = cpu / peerCpu
      const peersPass = toPeers <= CPU_TO_PEERS
      if (!peersPass) allPass = false
      let line = `${scenario.id} at ${concurrency}: CPU ${(cpu / floorCpu).toFixed(2)}x (a)'s, ` +
        `${toPeers.toFixed(2)}x the cheaper peer's (target ≤ ${CPU_TO_PEERS}: ${peersPass ? "PASS" : "FAIL"})`
      if (concurrency === 64) {
        const floorPass = cpu / floorCpu <= CPU_TO_FLOOR
        if (!floorPass) allPass = false
        line += `; to (a) target ≤ ${CPU_TO_FLOOR}: ${floorPass ? "PASS" : "FAIL"}`
      }
      verdicts.push(line)
    }
    rows.push([
      scenario.label,
      String(concurrency),
      median(runs.map((run) => run.perSecond)).toFixed(0),
      cpu.toFixed(0),
      scenario.id === "undici" ? "1.00" : ratio.toFixed(2),
      (cpu / floorCpu).toFixed(2),
      target === undefined ? "" : `≥ ${target.toFixed(1)}`,
      pass,
      runs.some((run) => run.failed > 0) ? `${runs.reduce((n, run) => n + run.failed, 0)} failed` : ""
    ])
  }
}
const header = [
  "scenario",
  "concurrency",
  "msg/s",
  "CPU µs/msg",
  "msg/s to (a)",
  "CPU to (a)",
  "target",
  "result",
  "errors"
]
printTable(rows.some((row) => row[8] !== "") ? header : header.slice(0, 8), rows.map((row) => row.slice(0, 9)))
console.log("")
for (const line of verdicts) console.log(line)
console.log(`\nCPU µs/msg: the client process only (user + system). ${cpus().length} cores shared with the server.`)
console.log(allPass ? "All HTTP targets met." : "Some HTTP targets are not met (see README, Performance).")
