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
import * as Schedule from "effect/Schedule"
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
const exited = (child: EsmsProcess.Child) => Effect.promise(() => child.exited)
const runToEnd = (simulator: Simulator.Service, args: ReadonlyArray<string>, env?: Record<string, string>) =>
  exited(sendBatch(simulator, args, env))

/** A reset simulator, a temporary directory, a fresh database and a campaign file of `rows`. */
const setup = (rows: number) =>
  Effect.gen(function*() {
    const simulator = yield* Simulator.Simulator
    yield* simulator.reset
    const dir = yield* EsmsProcess.tempDir
    const url = yield* freshDb
    const file = EsmsProcess.campaign(dir, rows, "campaign.csv", simulator.imageUrl("png"))
    return { simulator, dir, url, file }
  })

/** `setup(rows)` with every answer `delay` ms after eSMS took the message; the flags of campaign `name` on it. */
const slowCampaign = (rows: number, delay: number, name: string, flags: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const fixture = yield* setup(rows)
    yield* fixture.simulator.injectFault(Fault.delay(delay), 1000)
    return { ...fixture, args: ["--store", fixture.url, "--campaign", name, ...flags] }
  })

/** Waits until the worker with process id `pid` holds a row of campaign `name` in flight. */
const inFlightOf = (url: string, name: string, pid: number) =>
  Effect.flatMap(Campaign.Campaign, (c) => c.join(name)).pipe(
    Effect.flatMap((handle) => handle.inState("in_flight")),
    Effect.repeat({
      until: (entries) => entries.some((entry) => entry.worker?.split(":")[1] === String(pid)),
      schedule: Schedule.spaced("10 millis")
    }),
    Effect.timeoutFail({ duration: "20 seconds", onTimeout: () => `worker ${pid} never had a send in flight` }),
    Effect.provide(Campaign.layer.pipe(Layer.provideMerge(PgStore.layer(Redacted.make(url))))),
    Effect.orDie
  )

/** A worker started with `args`, once eSMS has taken `messages` messages in all. */
const startWorker = (simulator: Simulator.Service, args: ReadonlyArray<string>, messages: number) =>
  Effect.gen(function*() {
    const worker = sendBatch(simulator, args)
    yield* simulator.waitUntil((s) => s.messages.length >= messages)
    return worker
  })

const succeeded = (out: EsmsProcess.Exited) => assert.strictEqual(out.code, 0, out.stderr)

/** Exit 2 with stderr matching `rule`. */
const usageError = (out: EsmsProcess.Exited, rule: RegExp) => {
  assert.strictEqual(out.code, 2)
  assert.match(out.stderr, rule)
}

/** A first worker with `first`, a second joining with `second` once eSMS took a message; both exit 0. */
const startThenJoin = (
  simulator: Simulator.Service,
  first: ReadonlyArray<string>,
  second: ReadonlyArray<string>,
  env?: Record<string, string>
) =>
  Effect.gen(function*() {
    const one = sendBatch(simulator, first)
    yield* simulator.waitUntil((s) => s.messages.length >= 1)
    const two = sendBatch(simulator, second, env)
    const [a, b] = yield* Effect.promise(() => Promise.all([one.exited, two.exited]))
    succeeded(a)
    succeeded(b)
    return [a, b] as const
  })

const { assertExactlyOnce } = EsmsProcess

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
      const rows = 120
      const { dir, file, simulator, url } = yield* setup(rows)
      // Answers 200 ms after eSMS took the message, 4 at a time: one worker alone would take 6 s.
      yield* simulator.injectFault(Fault.delay(200), 1000)
      const args = (report: string) => [
        "--campaign",
        "spring",
        "--concurrency",
        "4",
        "--rate",
        "200",
        "--json",
        "--report",
        Path.join(dir, report)
      ]
      // The second joins from "another machine": no FILE, the store from ESMS_STORE.
      const both = yield* startThenJoin(simulator, [file, "--store", url, ...args("a.jsonl")], args("b.jsonl"), {
        ESMS_STORE: url
      })
      for (const out of both) {
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
      const rows = 80
      // Every answer 300 ms after eSMS took the message: the kill leaves sends in flight.
      const { args, file, simulator, url } = yield* slowCampaign(rows, 300, "killed", [
        "--rate",
        "100",
        "--lease",
        "2",
        "--json"
      ])
      const victim = yield* startWorker(simulator, [file, ...args], 1)
      const survivor = yield* startWorker(simulator, args, 25)
      // Killed while one of its sends is in flight (started, unanswered): on a loaded machine it may
      // otherwise be between two leases at the 25th message, and leave nothing to come back as 124.
      yield* inFlightOf(url, "killed", victim.process.pid!)
      victim.process.kill("SIGKILL")
      assert.strictEqual((yield* exited(victim)).signal, "SIGKILL")
      const done = yield* exited(survivor)
      succeeded(done)
      const summary = JSON.parse(done.stdout)
      assert.strictEqual(summary.accepted + summary.deduplicated, rows)
      assert.isAbove(summary.deduplicated, 0, "rows in flight at the kill came back 124: eSMS had them")
      const attempts = yield* simulator.attempts
      assert.isAbove(attempts.filter((a) => a.codeResult === "124").length, 0, "re-sent with the same RequestId")
      yield* assertExactlyOnce(simulator, rows)
    }))

  it.scoped("Ctrl-C: no new send starts, the worker's claimed rows go back at once; a join finishes them", () =>
    Effect.gen(function*() {
      const rows = 80
      const { args, file, simulator, url } = yield* slowCampaign(rows, 300, "stopped", ["--rate", "100", "--json"])
      const worker = yield* startWorker(simulator, [file, ...args], 10)
      worker.process.kill("SIGINT")
      const stopped = yield* exited(worker)
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
      succeeded(yield* runToEnd(simulator, args))
      // Well under the 15 s lease: nothing of the stopped worker's was left to expire.
      assert.isBelow(Date.now() - started, 12_000)
      yield* assertExactlyOnce(simulator, rows)
    }))

  it.scoped("the same file again is a no-op; another file under the same name exits 2 with one clear line", () =>
    Effect.gen(function*() {
      const rows = 10
      const { dir, file, simulator, url } = yield* setup(rows)
      const args = ["--store", url, "--campaign", "once", "--rate", "200", "--json"]
      succeeded(yield* runToEnd(simulator, [file, ...args]))
      const again = yield* runToEnd(simulator, [file, ...args])
      succeeded(again)
      assert.strictEqual(JSON.parse(again.stdout).accepted, rows, "the campaign's rows, not loaded twice")
      yield* assertExactlyOnce(simulator, rows)

      const other = EsmsProcess.campaign(dir, rows, "other.csv", simulator.imageUrl("png"), "Khuyến mãi")
      const clash = yield* runToEnd(simulator, [other, "--store", url, "--campaign", "once"])
      usageError(clash, /--campaign.*another file/)
      assert.strictEqual(clash.stdout, "")
      assert.notInclude(clash.stderr, "    at ", "no stack trace")
      yield* assertExactlyOnce(simulator, rows)
    }))

  it.scoped("--rate with a PostgreSQL store is the account's total: two workers together keep it", () =>
    Effect.gen(function*() {
      const rows = 60
      const rate = 20
      const { file, simulator, url } = yield* setup(rows)
      const args = ["--store", url, "--campaign", "paced", "--rate", String(rate), "--json"]
      yield* startThenJoin(simulator, [file, ...args], args)
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
      const { dir, file, simulator, url } = yield* setup(3)
      usageError(yield* runToEnd(simulator, [file, "--campaign", "x"]), /--campaign.*PostgreSQL store/)
      usageError(
        yield* runToEnd(simulator, [file, "--campaign", "x", "--store", Path.join(dir, "s.sqlite")]),
        /--campaign.*PostgreSQL store/
      )
      usageError(yield* runToEnd(simulator, [file], { ESMS_STORE: url }), /--campaign.*required.*ESMS_STORE/)
      usageError(yield* runToEnd(simulator, [file, "--store", url, "--campaign", "x", "--report", file]), /--report/)
      assert.isTrue(Fs.readFileSync(file, "utf8").startsWith("user_id,text,image_url"), "the input is intact")
      assert.strictEqual((yield* runToEnd(simulator, ["--store", url])).code, 2)
      const unknown = yield* runToEnd(simulator, ["--store", url, "--campaign", "nobody", "--json"])
      assert.strictEqual(unknown.code, 2)
      assert.include(unknown.stdout, "--campaign")
      assert.include(unknown.stdout, "not in the store")
      // A server that refuses the password: exit 2 naming --store, the URL masked.
      const wrong = new URL(url)
      wrong.password = "wrong-" + pg!.password
      const refused = yield* runToEnd(simulator, ["--store", wrong.toString(), "--campaign", "x"])
      usageError(refused, /--store/)
      assert.include(refused.stderr, "***")
      assert.strictEqual((yield* simulator.messages).length, 0, "nothing sent")
    }))

  it.scoped("the database goes away mid-run: the worker stops with exit 4 and one line, the password masked", () =>
    Effect.gen(function*() {
      const { file, simulator } = yield* setup(200)
      // A server of its own, stopped under the worker.
      const own = yield* Effect.promise(() => PgServer.start())
      const url = yield* Effect.promise(() => PgServer.createDatabase(own.url, "gone"))
      yield* simulator.injectFault(Fault.delay(100), 1000)
      const worker = sendBatch(simulator, [file, "--store", url, "--campaign", "gone", "--rate", "50"])
      yield* simulator.waitUntil((s) => s.messages.length >= 10)
      yield* Effect.promise(() => own.stop())
      const ended = yield* exited(worker)
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
