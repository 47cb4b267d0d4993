/**
 * `esms zalo send-batch --store postgres://… --campaign NAME` as real processes (the built bin) on a
 * real PostgreSQL server started here (`@esms-effect/pg-test`) and the simulator on loopback: several
 * workers on one campaign, one killed with SIGKILL, loads of the same and of another file, the shared
 * TPS budget. The simulator counts every row accepted exactly once. Needs the build first.
 */
import { assert, layer } from "@effect/vitest"
import * as PgServer from "@esms-effect/pg-test"
import { Fault, Simulator } from "@esms-effect/simulator"
import { Campaign, PgStore } from "@esms-effect/store-pg"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Fs from "node:fs"
import * as Path from "node:path"
import * as EsmsProcess from "./EsmsProcess.js"

interface Pg {
  readonly adminUrl: string
  readonly password: string
}

// One PostgreSQL server for this file; a fresh database per test.
let pg: Pg | undefined
const server = Effect.acquireRelease(
  Effect.promise(() => PgServer.start()),
  (s) => Effect.promise(() => s.stop())
)

const freshDb = Effect.promise(() => PgServer.createDatabase(pg!.adminUrl, "campaign"))

// Everything every process printed: the URL's password must be in none of it.
const outputs: Array<string> = []

const sendBatch = (simulator: Simulator.Service, args: ReadonlyArray<string>, env: Record<string, string> = {}) => {
  const child = EsmsProcess.spawn(["zalo", "send-batch", ...args], { ...EsmsProcess.envFor(simulator.baseUrl), ...env })
  return {
    ...child,
    exited: child.exited.then((exited) => {
      outputs.push(exited.stdout, exited.stderr)
      return exited
    })
  }
}
const runToEnd = (simulator: Simulator.Service, args: ReadonlyArray<string>, env?: Record<string, string>) =>
  Effect.promise(() => sendBatch(simulator, args, env).exited)

const campaignFile = (dir: string, rows: number, photo: string, name = "campaign.csv", text = "Xin chào") => {
  const file = Path.join(dir, name)
  Fs.writeFileSync(
    file,
    [
      "user_id,text,image_url",
      ...Array.from(
        { length: rows },
        (_, i) => `53086931669419${String(i).padStart(5, "0")},"${text}, khách hàng ${i}",${photo}`
      )
    ].join("\n") + "\n"
  )
  return file
}

/** Every row accepted exactly once: as many messages as rows, each RequestId once. */
const assertExactlyOnce = (simulator: Simulator.Service, rows: number) =>
  Effect.gen(function*() {
    const messages = yield* simulator.messages
    assert.strictEqual(messages.length, rows, "one message per row")
    assert.strictEqual(new Set(messages.map((m) => m.requestId)).size, rows, "no RequestId accepted twice")
    assert.strictEqual(new Set(messages.map((m) => m.userId)).size, rows, "no recipient got two")
  })

const reportLines = (file: string) =>
  Fs.existsSync(file) ? Fs.readFileSync(file, "utf8").split("\n").filter((l) => l !== "").length : 0

const serverLayer = Layer.scopedDiscard(Effect.map(server, (s) => {
  pg = { adminUrl: s.url, password: s.password }
}))

layer(
  Layer.merge(Simulator.layer({ tps: 1000, callbackDelay: "1 hour" }), serverLayer),
  { timeout: "120 seconds", excludeTestServices: true }
)("esms zalo send-batch --store postgres://… --campaign", (it) => {
  it.scoped("two workers on one campaign: each row accepted exactly once, the summary the whole campaign's", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.Simulator
      yield* simulator.reset
      const dir = yield* EsmsProcess.tempDir
      const url = yield* freshDb
      const rows = 120
      const file = campaignFile(dir, rows, simulator.imageUrl("png"))
      // Answers 200 ms after eSMS took the message, 4 at a time: one worker alone would take 6 s.
      yield* simulator.injectFault(Fault.delay(200), 1000)
      const first = sendBatch(simulator, [
        file,
        "--store",
        url,
        "--campaign",
        "spring",
        "--concurrency",
        "4",
        "--rate",
        "200",
        "--json",
        "--report",
        Path.join(dir, "a.jsonl")
      ])
      yield* simulator.waitUntil((s) => s.messages.length >= 1)
      // The second joins from "another machine": no FILE, the store from ESMS_STORE.
      const second = sendBatch(simulator, [
        "--campaign",
        "spring",
        "--concurrency",
        "4",
        "--rate",
        "200",
        "--json",
        "--report",
        Path.join(dir, "b.jsonl")
      ], { ESMS_STORE: url })
      const [a, b] = yield* Effect.promise(() => Promise.all([first.exited, second.exited]))
      assert.strictEqual(a.code, 0, a.stderr)
      assert.strictEqual(b.code, 0, b.stderr)
      for (const out of [a, b]) {
        const summary = JSON.parse(out.stdout)
        assert.strictEqual(summary.campaign, "spring")
        assert.strictEqual(summary.rows, rows)
        assert.strictEqual(summary.accepted + summary.deduplicated, rows, "the whole campaign's count")
      }
      const byA = reportLines(Path.join(dir, "a.jsonl"))
      const byB = reportLines(Path.join(dir, "b.jsonl"))
      assert.isAbove(byA, 0)
      assert.isAbove(byB, 0, "the joining worker sent rows too")
      assert.strictEqual(byA + byB, rows, "no row sent by both")
      yield* assertExactlyOnce(simulator, rows)
    }))

  it.scoped("a worker killed with SIGKILL: the other sends its rows with the same RequestIds (124, no second message)", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.Simulator
      yield* simulator.reset
      const dir = yield* EsmsProcess.tempDir
      const url = yield* freshDb
      const rows = 80
      const file = campaignFile(dir, rows, simulator.imageUrl("png"))
      // Every answer 300 ms after eSMS took the message: the kill leaves sends in flight.
      yield* simulator.injectFault(Fault.delay(300), 1000)
      const args = ["--store", url, "--campaign", "killed", "--rate", "100", "--lease", "2", "--json"]
      const victim = sendBatch(simulator, [file, ...args])
      yield* simulator.waitUntil((s) => s.messages.length >= 1)
      const survivor = sendBatch(simulator, args)
      yield* simulator.waitUntil((s) => s.messages.length >= 25)
      victim.process.kill("SIGKILL")
      const killed = yield* Effect.promise(() => victim.exited)
      assert.strictEqual(killed.signal, "SIGKILL")
      const done = yield* Effect.promise(() => survivor.exited)
      assert.strictEqual(done.code, 0, done.stderr)
      const summary = JSON.parse(done.stdout)
      assert.strictEqual(summary.accepted + summary.deduplicated, rows)
      assert.isAbove(summary.deduplicated, 0, "rows in flight at the kill came back 124: eSMS had them")
      const attempts = yield* simulator.attempts
      assert.isAbove(attempts.filter((a) => a.codeResult === "124").length, 0, "re-sent with the same RequestId")
      yield* assertExactlyOnce(simulator, rows)
    }))

  it.scoped("Ctrl-C: no new send starts, the worker's claimed rows go back at once; a join finishes them", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.Simulator
      yield* simulator.reset
      const dir = yield* EsmsProcess.tempDir
      const url = yield* freshDb
      const rows = 80
      const file = campaignFile(dir, rows, simulator.imageUrl("png"))
      yield* simulator.injectFault(Fault.delay(300), 1000)
      const args = ["--store", url, "--campaign", "stopped", "--rate", "100", "--json"]
      const worker = sendBatch(simulator, [file, ...args])
      yield* simulator.waitUntil((s) => s.messages.length >= 10)
      worker.process.kill("SIGINT")
      const stopped = yield* Effect.promise(() => worker.exited)
      assert.strictEqual(stopped.code, 130, stopped.stderr)
      assert.strictEqual(JSON.parse(stopped.stdout).status, "interrupted")
      const atStop = (yield* simulator.messages).length
      assert.isBelow(atStop, rows)
      yield* Effect.sleep("1 second")
      assert.strictEqual((yield* simulator.messages).length, atStop, "nothing sent after the stop")
      const counts = yield* Effect.flatMap(Campaign.Campaign, (c) => c.join("stopped")).pipe(
        Effect.flatMap((handle) => handle.counts),
        Effect.provide(Campaign.layer.pipe(Layer.provideMerge(PgStore.layer(Redacted.make(url))))),
        Effect.orDie
      )
      assert.strictEqual(counts.leased, 0, "claimed rows not started were given back")
      yield* simulator.clearFaults
      const started = Date.now()
      const join = yield* runToEnd(simulator, args)
      assert.strictEqual(join.code, 0, join.stderr)
      // Well under the 15 s lease: nothing of the stopped worker's was left to expire.
      assert.isBelow(Date.now() - started, 12_000)
      yield* assertExactlyOnce(simulator, rows)
    }))

  it.scoped("the same file again is a no-op; another file under the same name exits 2 with one clear line", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.Simulator
      yield* simulator.reset
      const dir = yield* EsmsProcess.tempDir
      const url = yield* freshDb
      const rows = 10
      const file = campaignFile(dir, rows, simulator.imageUrl("png"))
      const args = ["--store", url, "--campaign", "once", "--rate", "200", "--json"]
      const first = yield* runToEnd(simulator, [file, ...args])
      assert.strictEqual(first.code, 0, first.stderr)
      const again = yield* runToEnd(simulator, [file, ...args])
      assert.strictEqual(again.code, 0, again.stderr)
      assert.strictEqual(JSON.parse(again.stdout).accepted, rows, "the campaign's rows, not loaded twice")
      yield* assertExactlyOnce(simulator, rows)

      const other = campaignFile(dir, rows, simulator.imageUrl("png"), "other.csv", "Khuyến mãi")
      const clash = yield* runToEnd(simulator, [other, "--store", url, "--campaign", "once"])
      assert.strictEqual(clash.code, 2)
      assert.strictEqual(clash.stdout, "")
      assert.include(clash.stderr, "--campaign")
      assert.include(clash.stderr, "another file")
      assert.notInclude(clash.stderr, "    at ", "no stack trace")
      yield* assertExactlyOnce(simulator, rows)
    }))

  it.scoped("--rate with a PostgreSQL store is the account's total: two workers together keep it", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.Simulator
      yield* simulator.reset
      const dir = yield* EsmsProcess.tempDir
      const url = yield* freshDb
      const rows = 60
      const rate = 20
      const file = campaignFile(dir, rows, simulator.imageUrl("png"))
      const args = ["--store", url, "--campaign", "paced", "--rate", String(rate), "--json"]
      const first = sendBatch(simulator, [file, ...args])
      yield* simulator.waitUntil((s) => s.messages.length >= 1)
      const second = sendBatch(simulator, args)
      const [a, b] = yield* Effect.promise(() => Promise.all([first.exited, second.exited]))
      assert.strictEqual(a.code, 0, a.stderr)
      assert.strictEqual(b.code, 0, b.stderr)
      const at = (yield* simulator.messages).map((m) => m.acceptedAt).sort((x, y) => x - y)
      assert.strictEqual(at.length, rows)
      // Each worker at 20/s on its own would take 1.5 s for 60 rows; the shared budget takes ~3 s.
      const span = (at[at.length - 1]! - at[0]!) / 1000
      assert.isAtLeast(span, ((rows - 1) / rate) * 0.9, `60 rows at 20/s in ${span}s`)
      // Never more than the rate in any one second.
      let max = 0
      for (let i = 0, j = 0; i < at.length; i++) {
        while (at[i]! - at[j]! >= 1000) j++
        max = Math.max(max, i - j + 1)
      }
      // Measured where eSMS sees them: the permits are never above the rate (PgRateLimiter's own test), the
      // arrivals add each send's jitter (a loaded machine); two paces of 20/s each would put ~40 in a second.
      assert.isAtMost(max, rate + 4, "sends in any one-second window")
    }))

  it.scoped("usage: --campaign needs a PostgreSQL store, a PostgreSQL store needs --campaign; exit 2 naming it", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.Simulator
      yield* simulator.reset
      const dir = yield* EsmsProcess.tempDir
      const url = yield* freshDb
      const file = campaignFile(dir, 3, simulator.imageUrl("png"))
      const noStore = yield* runToEnd(simulator, [file, "--campaign", "x"])
      assert.strictEqual(noStore.code, 2)
      assert.match(noStore.stderr, /--campaign.*PostgreSQL store/)
      const sqlite = yield* runToEnd(simulator, [file, "--campaign", "x", "--store", Path.join(dir, "s.sqlite")])
      assert.strictEqual(sqlite.code, 2)
      assert.match(sqlite.stderr, /--campaign.*PostgreSQL store/)
      const noCampaign = yield* runToEnd(simulator, [file], { ESMS_STORE: url })
      assert.strictEqual(noCampaign.code, 2)
      assert.match(noCampaign.stderr, /--campaign.*required.*ESMS_STORE/)
      const overwrite = yield* runToEnd(simulator, [file, "--store", url, "--campaign", "x", "--report", file])
      assert.strictEqual(overwrite.code, 2)
      assert.include(overwrite.stderr, "--report")
      assert.isTrue(Fs.readFileSync(file, "utf8").startsWith("user_id,text,image_url"), "the input is intact")
      const noFile = yield* runToEnd(simulator, ["--store", url])
      assert.strictEqual(noFile.code, 2)
      const unknown = yield* runToEnd(simulator, ["--store", url, "--campaign", "nobody", "--json"])
      assert.strictEqual(unknown.code, 2)
      assert.include(unknown.stdout, "--campaign")
      assert.include(unknown.stdout, "not in the store")
      // A server that refuses the password: exit 2 naming --store, the URL masked.
      const wrong = new URL(url)
      wrong.password = "wrong-" + pg!.password
      const refused = yield* runToEnd(simulator, ["--store", wrong.toString(), "--campaign", "x"])
      assert.strictEqual(refused.code, 2)
      assert.include(refused.stderr, "--store")
      assert.include(refused.stderr, "***")
      assert.strictEqual((yield* simulator.messages).length, 0, "nothing sent")
    }))

  it.scoped("the database goes away mid-run: the worker stops with exit 4 and one line, the password masked", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.Simulator
      yield* simulator.reset
      const dir = yield* EsmsProcess.tempDir
      // A server of its own, stopped under the worker.
      const own = yield* Effect.promise(() => PgServer.start())
      const url = yield* Effect.promise(() => PgServer.createDatabase(own.url, "gone"))
      const file = campaignFile(dir, 200, simulator.imageUrl("png"))
      yield* simulator.injectFault(Fault.delay(100), 1000)
      const worker = sendBatch(simulator, [file, "--store", url, "--campaign", "gone", "--rate", "50"])
      yield* simulator.waitUntil((s) => s.messages.length >= 10)
      yield* Effect.promise(() => own.stop())
      const ended = yield* Effect.promise(() => worker.exited)
      assert.strictEqual(ended.code, 4, ended.stderr)
      assert.include(ended.stderr, "stopped answering")
      assert.include(ended.stderr, "***")
      assert.notInclude(ended.stderr, own.password)
      assert.notInclude(ended.stderr, "    at ", "no stack trace")
      const messages = yield* simulator.messages
      assert.isBelow(messages.length, 200)
      assert.strictEqual(new Set(messages.map((m) => m.requestId)).size, messages.length, "none twice")
    }))

  it.effect("the URL's password is in no output of any run above", () =>
    Effect.sync(() => {
      assert.isAbove(outputs.length, 10)
      for (const out of outputs) assert.notInclude(out, pg!.password)
    }))
})
