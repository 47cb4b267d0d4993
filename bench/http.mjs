/* global console, process, URL */
/**
 * What EsmsClient adds on top of the HTTP stack. Starts the loopback server (bench/server.mjs) in a
 * process of its own, then runs each scenario (bench/http-worker.mjs) in a fresh process, at each
 * concurrency, for several interleaved rounds, and prints the medians:
 *
 *   (a) undici.request POST + JSON.parse, the floor
 *   (b) EsmsClient.sendZaloImage on NodeEsmsClient.layer, validation, encoding and decoding included
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

const TARGETS = { 1: 0.8, 64: 0.9 }

const SCENARIOS = [
  { id: "undici", label: "(a) undici.request + JSON.parse" },
  { id: "esms", label: "(b) EsmsClient.sendZaloImage, NodeEsmsClient.layer", target: true },
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
let allPass = true
for (const concurrency of concurrencies) {
  const floor = results[concurrency].undici
  for (const scenario of SCENARIOS) {
    const runs = results[concurrency][scenario.id]
    // Each round's ratio pairs runs made a few seconds apart, then the median of those.
    const ratio = median(runs.map((run, i) => run.perSecond / floor[i].perSecond))
    const target = scenario.target ? TARGETS[concurrency] : undefined
    const pass = target === undefined ? "" : ratio >= target ? "PASS" : "FAIL"
    if (pass === "FAIL") allPass = false
    rows.push([
      scenario.label,
      String(concurrency),
      median(runs.map((run) => run.perSecond)).toFixed(0),
      median(runs.map((run) => run.cpuMicrosPerMessage)).toFixed(0),
      scenario.id === "undici" ? "1.00" : ratio.toFixed(2),
      target === undefined ? "" : `≥ ${target.toFixed(1)}`,
      pass,
      runs.some((run) => run.failed > 0) ? `${runs.reduce((n, run) => n + run.failed, 0)} failed` : ""
    ])
  }
}
const header = ["scenario", "concurrency", "msg/s", "CPU µs/msg", "ratio to (a)", "target", "result", "errors"]
printTable(rows.some((row) => row[7] !== "") ? header : header.slice(0, 7), rows.map((row) => row.slice(0, 8)))
console.log(`\nCPU µs/msg: the client process only (user + system). ${cpus().length} cores shared with the server.`)
console.log(allPass ? "All HTTP targets met." : "Some HTTP targets are not met (see README, Performance).")
