/* global console, process, setInterval, clearInterval, URL */
/**
 * Batch benchmark: `esms zalo send-batch` (the built bin, a process of its own) against the simulator
 * (bench/batch-server.mjs, another process) on loopback. Prints, per size, the messages per second and
 * the batch process's peak RSS, with RSS samples along the run to show whether memory stays flat.
 *
 *   node bench/batch.mjs [ROWS...]        default: 20000 100000
 *   BENCH_CONCURRENCY=32 node bench/batch.mjs 5000   (default 8, as the CLI)
 *   node bench/batch.mjs --before DIR 20000   also runs DIR's built esms on the same file, turn about
 *                                             (DIR: another checkout, installed and built)
 */
import { spawn } from "node:child_process"
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

const BIN = fileURLToPath(new URL("../packages/cli/bin/esms.js", import.meta.url))
const SERVER = fileURLToPath(new URL("./batch-server.mjs", import.meta.url))
const args = process.argv.slice(2)
const beforeAt = args.indexOf("--before")
const before = beforeAt === -1 ? undefined : args.splice(beforeAt, 2)[1]
const sizes = args.map(Number).filter((n) => n > 0)
// Which builds run: this checkout's, and another's (`--before DIR`) on the same CSV, measured in turn.
const bins = [
  ...(before === undefined ? [] : [["before", join(before, "packages/cli/bin/esms.js")]]),
  ["after", BIN]
]
const concurrency = process.env.BENCH_CONCURRENCY ?? "8"

const writeCsv = (file, rows) =>
  new Promise((resolve, reject) => {
    const out = createWriteStream(file)
    out.on("error", reject)
    out.write("user_id,text,image_url\n")
    let i = 0
    const more = () => {
      while (i < rows) {
        const line = `${String(5300000000000000000n + BigInt(i))},"Xin chào khách hàng ${i}, ảnh sản phẩm mới",` +
          `https://cdn.example.vn/p/${i % 100}.png\n`
        i++
        if (!out.write(line)) return out.once("drain", more)
      }
      out.end(resolve)
    }
    more()
  })

const startServer = () =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SERVER], { stdio: ["ignore", "pipe", "inherit"] })
    child.on("error", reject)
    child.stdout.setEncoding("utf8")
    let buffered = ""
    child.stdout.on("data", (chunk) => {
      buffered += chunk
      const line = buffered.split("\n").find((l) => l.includes("baseUrl"))
      if (line !== undefined) resolve({ child, baseUrl: JSON.parse(line).baseUrl })
    })
  })

const memory = (pid) => {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8")
    const kb = (name) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? 0)
    return { rss: kb("VmRSS") / 1024, hwm: kb("VmHWM") / 1024 }
  } catch {
    return undefined
  }
}

const runBatch = (bin, file, baseUrl) =>
  new Promise((resolve, reject) => {
    const started = Date.now()
    const child = spawn(process.execPath, [
      bin,
      "zalo",
      "send-batch",
      file,
      "--rate",
      "1000000",
      "--concurrency",
      concurrency,
      // The photos are placeholders (cdn.example.vn): the bench measures the sends, offline.
      "--no-check-image",
      "--json"
    ], {
      env: {
        PATH: process.env.PATH,
        ESMS_API_KEY: "SIMULATOR-API-KEY",
        ESMS_SECRET_KEY: "SIMULATOR-SECRET-KEY",
        ESMS_OAID: "1000000000000000001",
        ESMS_BASE_URL: baseUrl
      },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    child.stdout.setEncoding("utf8").on("data", (c) => (stdout += c))
    child.stderr.resume()
    const samples = []
    let peak = 0
    const timer = setInterval(() => {
      const m = memory(child.pid)
      if (m === undefined) return
      peak = Math.max(peak, m.hwm, m.rss)
      samples.push({ t: (Date.now() - started) / 1000, rss: m.rss })
    }, 100)
    child.on("error", reject)
    child.on("exit", (code) => {
      clearInterval(timer)
      resolve({ code, seconds: (Date.now() - started) / 1000, peak, samples, summary: stdout })
    })
  })

const { child: server, baseUrl } = await startServer()
const dir = mkdtempSync(join(tmpdir(), "esms-bench-batch-"))
try {
  console.log(`send-batch against the simulator on loopback, --concurrency ${concurrency}, no rate limit`)
  console.log(`node ${process.version}, ${process.platform}/${process.arch}`)
  for (const rows of sizes.length > 0 ? sizes : [20_000, 100_000]) {
    const file = join(dir, `rows-${rows}.csv`)
    await writeCsv(file, rows)
    for (const [label, bin] of bins) {
      const result = await runBatch(bin, file, baseUrl)
      const summary = JSON.parse(result.summary)
      // RSS at each tenth of the run: flat memory shows as a flat line after start-up.
      const tenths = Array.from({ length: 10 }, (_, k) => {
        const at = ((k + 1) / 10) * result.seconds
        const sample = result.samples.filter((s) => s.t <= at).at(-1)
        return sample === undefined ? "-" : sample.rss.toFixed(0)
      })
      console.log(
        `${bins.length > 1 ? `${label}: ` : ""}${rows} rows: exit ${result.code}, ${summary.accepted} accepted in ` +
          `${result.seconds.toFixed(1)} s = ${(rows / result.seconds).toFixed(0)} msgs/s (whole run: check pass, ` +
          `journal, sends); peak RSS ${result.peak.toFixed(0)} MB; RSS MB by tenth of the run: ${tenths.join(" ")}`
      )
    }
  }
} finally {
  server.kill("SIGTERM")
  rmSync(dir, { recursive: true, force: true })
}
