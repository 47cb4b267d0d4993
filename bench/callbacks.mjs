/* global console, process, setTimeout, URL */
/**
 * Load check of the callback receiver, black box: runs `esms callbacks serve` (the built CLI, as a user
 * would) on a fresh store, then fires 10,000 callbacks over loopback at concurrency 50 — 80 % valid
 * and distinct, 10 % repeats of valid ones (eSMS's retries, interleaved), 10 % garbage (broken
 * queries, wrong tokens, oversized URLs). It checks that every valid report is stored exactly once,
 * every repeat is answered 200 and stored nothing, every garbage request is refused with a 4xx, and
 * the server still answers afterwards; then prints throughput and latency percentiles.
 *
 * Run after a build: `npx -y pnpm@10.34.9 bench:callbacks` (builds first). Options:
 * `node bench/callbacks.mjs [--total N] [--concurrency N]`.
 */
import { spawn } from "node:child_process"
import * as Fs from "node:fs"
import * as Http from "node:http"
import { createRequire } from "node:module"
import * as Os from "node:os"
import * as Path from "node:path"
import { performance } from "node:perf_hooks"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("..", import.meta.url))
const arg = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`)
  return at === -1 ? fallback : Number(process.argv[at + 1])
}
const TOTAL = arg("total", 10_000)
const CONCURRENCY = arg("concurrency", 50)

// better-sqlite3, as the store package resolves it, to count what was stored.
const storeRequire = createRequire(Path.join(root, "packages/store/package.json"))
const Database = createRequire(storeRequire.resolve("@effect/sql-sqlite-node/package.json"))("better-sqlite3")

const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "esms-bench-callbacks-"))
const store = Path.join(dir, "esms.sqlite")

// --- the receiver ------------------------------------------------------------------------------

const server = spawn(
  process.execPath,
  [Path.join(root, "packages/cli/bin/esms.js"), "callbacks", "serve", "--port", "0", "--store", store],
  { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ESMS_CALLBACK_TOKEN: "" } }
)
let serverErr = ""
server.stderr.on("data", (chunk) => (serverErr += chunk))
let exited = null
server.on("exit", (code, signal) => (exited = { code, signal }))

const callbackUrl = await new Promise((resolve, reject) => {
  let out = ""
  server.stdout.on("data", (chunk) => {
    out += chunk
    const match = /^export ESMS_CALLBACK_URL=(\S+)$/m.exec(out)
    if (match) resolve(new URL(match[1]))
  })
  server.on("exit", () => reject(new Error(`esms callbacks serve exited early:\n${serverErr}`)))
  setTimeout(() => reject(new Error("esms callbacks serve printed no URL within 10 s")), 10_000)
})
const port = Number(callbackUrl.port)
const goodPath = callbackUrl.pathname // holds the token: used, never printed

// --- the workload --------------------------------------------------------------------------------

const twice = (json, time) => encodeURIComponent(encodeURI(`${json}____${time}`))
const validQuery = (i) => {
  const smsId = `bench${String(i).padStart(27, "0")}`
  const failed = i % 5 === 0
  const json = failed
    ? JSON.stringify({ error: -213, message: "User has not followed the OA" })
    : JSON.stringify({ data: { message_id: `m${i}`, user_id: "5308693166941955879" }, error: 0, message: "Success" })
  return `SMSID=${smsId}&SendFailed=${failed ? 1 : 0}&SendStatus=5&SendSuccess=${failed ? 0 : 1}` +
    `&TotalPrice=60.0000&TotalReceiver=1&TotalSent=${failed ? 0 : 1}&RequestId=bench-${i}&TypeId=26` +
    `&phonenumber=5308693166941955879&error_info=${twice(json, "27/11/2026 09:00:00")}` +
    `&oaid=4097311281936189049&partnerids=${failed ? "" : `m${i}`}`
}
const garbage = [
  (i) => ({ path: `${goodPath}?SMSID=g${i}&SendStatus=five`, expect: 400 }),
  (i) => ({ path: `${goodPath}?SendStatus=5&SendSuccess=1&n=${i}`, expect: 400 }),
  (i) => ({ path: `${goodPath}?%E2%82=%ZZ&SMSID=&x=${i}`, expect: 400 }),
  (i) => ({ path: `/esms/callback/not-the-token-${i}?${validQuery(1_000_000 + i)}`, expect: 403 }),
  (i) => ({ path: `/esms/callback?${validQuery(2_000_000 + i)}`, expect: 403 }),
  (i) => ({ path: `${goodPath}?${validQuery(3_000_000 + i)}&pad=${"x".repeat(9000)}`, expect: 414 })
]

const duplicates = Math.round(TOTAL * 0.1)
const garbageCount = Math.round(TOTAL * 0.1)
const validCount = TOTAL - duplicates - garbageCount
const jobs = []
for (let i = 0; i < validCount; i++) jobs.push({ kind: "valid", path: `${goodPath}?${validQuery(i)}`, expect: 200 })
for (let i = 0; i < duplicates; i++) {
  const of = Math.floor(Math.random() * validCount)
  jobs.push({ kind: "duplicate", path: `${goodPath}?${validQuery(of)}`, expect: 200 })
}
for (let i = 0; i < garbageCount; i++) jobs.push({ kind: "garbage", ...garbage[i % garbage.length](i) })
for (let i = jobs.length - 1; i > 0; i--) {
  const j = Math.floor(Math.random() * (i + 1))
  ;[jobs[i], jobs[j]] = [jobs[j], jobs[i]]
}

// --- the load ------------------------------------------------------------------------------------

const agent = new Http.Agent({ keepAlive: true, maxSockets: CONCURRENCY })
const get = (path) =>
  new Promise((resolve) => {
    const started = performance.now()
    const req = Http.request({ host: "127.0.0.1", port, path, agent }, (res) => {
      res.resume()
      res.on("end", () => resolve({ status: res.statusCode, millis: performance.now() - started }))
    })
    req.on("error", (error) => resolve({ status: 0, millis: performance.now() - started, error: error.code }))
    req.end()
  })

const results = new Array(jobs.length)
let next = 0
const startedAt = performance.now()
await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
  while (next < jobs.length) {
    const index = next++
    results[index] = await get(jobs[index].path)
  }
}))
const elapsed = (performance.now() - startedAt) / 1000
const after = await get(`${goodPath}?${validQuery(9_999_999)}`)

// --- the checks ----------------------------------------------------------------------------------

const problems = []
const byKind = { valid: {}, duplicate: {}, garbage: {} }
jobs.forEach((job, i) => {
  const { status } = results[i]
  byKind[job.kind][status] = (byKind[job.kind][status] ?? 0) + 1
  if (status !== job.expect) problems.push(`${job.kind} answered ${status}, expected ${job.expect}`)
})
if (after.status !== 200) problems.push(`the server did not answer a valid callback after the load (${after.status})`)
if (exited !== null) problems.push(`the server exited during the load: ${JSON.stringify(exited)}`)

const db = new Database(store, { readonly: true })
const rows = db.prepare("SELECT count(*) AS n, count(DISTINCT sms_id) AS distinctIds FROM delivery_reports").get()
const strays = db.prepare("SELECT count(*) AS n FROM delivery_reports WHERE sms_id NOT LIKE 'bench%'").get().n
db.close()
const expectedRows = validCount + 1 // and the one sent after the load
if (rows.n !== expectedRows) problems.push(`stored ${rows.n} reports, expected ${expectedRows}`)
if (rows.distinctIds !== rows.n) problems.push(`${rows.n - rows.distinctIds} reports stored more than once`)
if (strays !== 0) problems.push(`${strays} reports stored from garbage requests`)

server.kill("SIGINT")
await new Promise((resolve) => (exited === null ? server.on("exit", resolve) : resolve()))
agent.destroy()
Fs.rmSync(dir, { recursive: true, force: true })

const millis = results.map((r) => r.millis).sort((a, b) => a - b)
const pct = (p) => millis[Math.min(millis.length - 1, Math.ceil((p / 100) * millis.length) - 1)].toFixed(2)
const unique = [...new Set(problems)]
console.log(
  [
    `callbacks: ${TOTAL} requests at concurrency ${CONCURRENCY} over loopback ` +
    `(${validCount} valid, ${duplicates} repeats, ${garbageCount} garbage)`,
    `  answers   valid ${JSON.stringify(byKind.valid)}  repeats ${JSON.stringify(byKind.duplicate)}  ` +
    `garbage ${JSON.stringify(byKind.garbage)}`,
    `  stored    ${rows.n} reports, ${rows.distinctIds} distinct SMSIDs (expected ${expectedRows})`,
    `  throughput ${(TOTAL / elapsed).toFixed(0)} requests/s (${elapsed.toFixed(2)} s)`,
    `  latency   p50 ${pct(50)} ms  p90 ${pct(90)} ms  p99 ${pct(99)} ms  max ${pct(100)} ms`,
    unique.length === 0 ? "  OK" : `  FAILED:\n    ${unique.slice(0, 20).join("\n    ")}`
  ].join("\n")
)
process.exitCode = unique.length === 0 ? 0 : 1
