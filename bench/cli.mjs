/* global console, process, URL */
/**
 * How fast `esms` starts, against a bare `node -e 0`: wall time of `esms --help` and of one
 * `esms zalo send-image` to the loopback server (bench/server.mjs), each run several times, the
 * commands interleaved so that load drifts hit them alike; medians.
 *
 * Options: --runs N (11); --esms PATH measures another esms, an installed one say
 * (`--esms "$(npm prefix -g)/bin/esms"`). Needs a build first (`pnpm bench` does it).
 */
import { spawnSync } from "node:child_process"
import { fork } from "node:child_process"
import { once } from "node:events"
import { fileURLToPath } from "node:url"
import { machine, median, option, printTable } from "./report.mjs"

const runs = Number(option("runs", "11"))
const HELP_TARGET = 3

const esms = option("esms", fileURLToPath(new URL("../packages/cli/bin/esms.js", import.meta.url)))
const unbundled = fileURLToPath(new URL("../packages/cli/dist/bin.js", import.meta.url))

const server = fork(fileURLToPath(new URL("./server.mjs", import.meta.url)), [], { stdio: "inherit" })
const [{ port }] = await once(server, "message")

const env = {
  ...process.env,
  ESMS_API_KEY: "bench-api-key",
  ESMS_SECRET_KEY: "bench-secret-key",
  ESMS_OAID: "4097311281936189049",
  ESMS_BASE_URL: `http://127.0.0.1:${port}`
}
const sendImage = [
  "zalo",
  "send-image",
  "--user-id",
  "5308693166941955879",
  "--text",
  "Xin chào!",
  "--image-url",
  "https://cdn.example.vn/p/photo.png",
  // A placeholder photo: the bench measures the send, offline (the image check is measured apart).
  "--no-check-image",
  "--json"
]

const COMMANDS = [
  { label: "node -e 0", args: ["-e", "0"] },
  { label: "esms --help", args: [esms, "--help"], target: HELP_TARGET },
  { label: "esms zalo send-image … --json", args: [esms, ...sendImage], expect: "\"status\":\"accepted\"" },
  { label: "  unbundled dist/bin.js --help (before)", args: [unbundled, "--help"] }
]

const times = COMMANDS.map(() => [])
try {
  for (let run = 0; run < runs; run++) {
    COMMANDS.forEach((command, i) => {
      const start = process.hrtime.bigint()
      const result = spawnSync(process.execPath, command.args, { env, encoding: "utf8" })
      times[i].push(Number(process.hrtime.bigint() - start) / 1e6)
      if (result.status !== 0 || (command.expect !== undefined && !result.stdout.includes(command.expect))) {
        throw new Error(`${command.label} failed (exit ${result.status}): ${result.stdout}${result.stderr}`)
      }
    })
  }
} finally {
  server.kill()
}

console.log(machine())
console.log(`${runs} runs of each command, interleaved; wall time from spawn to exit\n`)
const base = median(times[0])
let pass = true
printTable(
  ["command", "median ms", "min ms", "× node -e 0", "target", "result"],
  COMMANDS.map((command, i) => {
    const ratio = median(times[i]) / base
    const ok = command.target === undefined ? "" : ratio <= command.target ? "PASS" : "FAIL"
    if (ok === "FAIL") pass = false
    return [
      command.label,
      median(times[i]).toFixed(0),
      Math.min(...times[i]).toFixed(0),
      ratio.toFixed(2),
      command.target === undefined ? "" : `≤ ${command.target}`,
      ok
    ]
  })
)
console.log(pass ? "\nCLI start-up target met." : "\nCLI start-up target not met (see README, Performance).")
