/**
 * `esms zalo send-batch` as a real process (the built bin) against a simulator in this test: killed
 * with SIGKILL or stopped with Ctrl-C (SIGINT) mid-way, then run again. The simulator counts every row
 * accepted exactly once. Needs the build (`pnpm build`) first.
 */
import { assert, layer } from "@effect/vitest"
import { Fault, Simulator } from "@esms-effect/simulator"
import { Journal } from "@esms-effect/store"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"

const BIN = fileURLToPath(new URL("../bin/esms.js", import.meta.url))
const BUNDLE = fileURLToPath(new URL("../dist/esms.cjs", import.meta.url))

const account = Simulator.defaultAccount
const plain = (value: string | Redacted.Redacted<string>) => Redacted.isRedacted(value) ? Redacted.value(value) : value

interface Child {
  readonly process: ChildProcess.ChildProcess
  readonly exited: Promise<{ readonly code: number | null; readonly signal: string | null; readonly stdout: string }>
}

const spawn = (simulator: Simulator.Service, args: ReadonlyArray<string>): Child => {
  if (!Fs.existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run the build (npx -y pnpm@10.34.9 build) first`)
  const child = ChildProcess.spawn(process.execPath, [BIN, "zalo", "send-batch", ...args], {
    env: {
      PATH: process.env.PATH ?? "",
      ESMS_API_KEY: plain(account.apiKey),
      ESMS_SECRET_KEY: plain(account.secretKey),
      ESMS_OAID: account.oaids[0].oaid,
      ESMS_BASE_URL: simulator.baseUrl
    },
    stdio: ["ignore", "pipe", "pipe"]
  })
  let stdout = ""
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk))
  child.stderr.resume()
  const exited = new Promise<{ code: number | null; signal: string | null; stdout: string }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal, stdout }))
  )
  return { process: child, exited }
}

const runToEnd = (simulator: Simulator.Service, args: ReadonlyArray<string>) =>
  Effect.promise(() => spawn(simulator, args).exited)

const tempDir = Effect.acquireRelease(
  Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "esms-batch-proc-"))),
  (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
)

// `photo`: the simulator's real image (the checking pass fetches it once, over loopback).
const campaign = (dir: string, rows: number, photo: string) => {
  const file = Path.join(dir, "campaign.csv")
  Fs.writeFileSync(
    file,
    [
      "user_id,text,image_url",
      ...Array.from(
        { length: rows },
        (_, i) => `53086931669419${String(i).padStart(5, "0")},"Xin chào, khách hàng ${i}",${photo}`
      )
    ].join("\n") + "\n"
  )
  return file
}

const journalCounts = (file: string) =>
  Effect.orDie(Effect.flatMap(Journal.Journal, (j) => j.counts).pipe(Effect.provide(Journal.layerSqlite(file))))

/** Every row accepted exactly once: as many messages as rows, each RequestId once. */
const assertExactlyOnce = (simulator: Simulator.Service, rows: number) =>
  Effect.gen(function*() {
    const messages = yield* simulator.messages
    const requestIds = new Set(messages.map((m) => m.requestId))
    assert.strictEqual(messages.length, rows, "one message per row")
    assert.strictEqual(requestIds.size, rows, "no RequestId accepted twice")
    assert.strictEqual(new Set(messages.map((m) => m.userId)).size, rows, "no recipient got two")
  })

layer(Simulator.layer({ tps: 1000, callbackDelay: "1 hour" }), { timeout: "60 seconds", excludeTestServices: true })(
  "esms zalo send-batch as a process",
  (it) => {
    it.scoped("killed with SIGKILL mid-way, then run again: every row accepted exactly once", () =>
      Effect.gen(function*() {
        const simulator = yield* Simulator.Simulator
        yield* simulator.reset
        const dir = yield* tempDir
        const rows = 80
        const file = campaign(dir, rows, simulator.imageUrl("png"))
        // Every answer comes 300 ms after eSMS took the message: a kill always leaves sends in flight.
        yield* simulator.injectFault(Fault.delay(300), 1000)
        const child = spawn(simulator, [file, "--rate", "100", "--concurrency", "8"])
        yield* simulator.waitUntil((s) => s.messages.length >= 20)
        child.process.kill("SIGKILL")
        const killed = yield* Effect.promise(() => child.exited)
        assert.strictEqual(killed.signal, "SIGKILL")
        const before = (yield* simulator.messages).length
        assert.isBelow(before, rows)
        // Rows whose send started and whose answer never came: eSMS may have them.
        const journal = yield* journalCounts(`${file}.journal.sqlite`)
        assert.isAbove(journal.in_flight, 0)

        yield* simulator.clearFaults
        const again = yield* runToEnd(simulator, [file, "--rate", "200", "--json"])
        assert.strictEqual(again.code, 0)
        const summary = JSON.parse(again.stdout)
        assert.strictEqual(summary.accepted + summary.deduplicated, rows)
        assert.isAbove(summary.deduplicated, 0, "rows in flight at the kill came back 124: eSMS had them")
        yield* assertExactlyOnce(simulator, rows)
      }))

    it.scoped("Ctrl-C: no new row is taken, sends in flight finish and are journaled; a re-run completes", () =>
      Effect.gen(function*() {
        const simulator = yield* Simulator.Simulator
        yield* simulator.reset
        const dir = yield* tempDir
        const rows = 60
        const file = campaign(dir, rows, simulator.imageUrl("png"))
        yield* simulator.injectFault(Fault.delay(400), 1000)
        const child = spawn(simulator, [file, "--rate", "50", "--concurrency", "4", "--json"])
        yield* simulator.waitUntil((s) => s.messages.length >= 8)
        const stoppedAt = Date.now()
        child.process.kill("SIGINT")
        const stopped = yield* Effect.promise(() => child.exited)
        assert.strictEqual(stopped.code, 130)
        assert.isBelow(Date.now() - stoppedAt, 5000)
        const summary = JSON.parse(stopped.stdout)
        assert.strictEqual(summary.status, "interrupted")
        // Nothing was cut: every send that started has its outcome, and nothing was sent after the stop.
        const journal = yield* journalCounts(`${file}.journal.sqlite`)
        assert.strictEqual(journal.in_flight, 0)
        const taken = (yield* simulator.messages).length
        assert.strictEqual(journal.accepted, taken)
        assert.strictEqual(summary.accepted, taken)
        assert.isBelow(taken, rows)

        yield* simulator.clearFaults
        const again = yield* runToEnd(simulator, [file, "--rate", "200", "--json"])
        assert.strictEqual(again.code, 0)
        assert.deepInclude(JSON.parse(again.stdout), { accepted: rows, acceptedEarlier: taken, deduplicated: 0 })
        yield* assertExactlyOnce(simulator, rows)
      }))
  }
)
