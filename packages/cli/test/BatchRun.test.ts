/**
 * The sending pass on the TestClock, from a row source of the test's own (not a file, not SQLite), on a
 * real `EsmsClient` whose transport is a test double: the pacing of `--rate`, and a stop that keeps the
 * rows waiting for the pacer from ever being sent.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { assert, describe, it } from "@effect/vitest"
import { Credentials } from "@esms-effect/core"
import { EsmsClient } from "@esms-effect/http-client"
import type { Journal } from "@esms-effect/store"
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import * as Stream from "effect/Stream"
import * as Supervisor from "effect/Supervisor"
import * as TestClock from "effect/TestClock"
import type * as BatchReport from "../src/BatchReport.js"
import * as BatchRun from "../src/BatchRun.js"
import * as BatchStop from "../src/BatchStop.js"
import * as BatchTally from "../src/BatchTally.js"

// eSMS as a test double: every send accepted at once; the time of each one (by the Clock) recorded.
const TestEsms = Effect.gen(function*() {
  const sentAt = yield* Ref.make<ReadonlyArray<number>>([])
  const http = Layer.succeed(
    HttpClient.HttpClient,
    HttpClient.make((request) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        Effect.as(
          Ref.update(sentAt, (times) => [...times, now]),
          HttpClientResponse.fromWeb(
            request,
            new Response(JSON.stringify({ CodeResult: "100", CountRegenerate: 0, SMSID: `sms-${now}` }), {
              headers: { "content-type": "application/json" }
            })
          )
        ))
    )
  )
  const layer = EsmsClient.layer({
    credentials: Credentials.make({ apiKey: "test-api-key", secretKey: "test-secret-key", oaid: "oa-1" }),
    baseUrl: "https://rest.esms.vn",
    maxAttempts: 1
  }).pipe(Layer.provide(http))
  return { sentAt, client: yield* Effect.provide(EsmsClient.EsmsClient, layer) }
})

const rowsToSend = (n: number) =>
  Array.from({ length: n }, (_, i) =>
    BatchRun.Claimed.Send({
      item: {
        userId: `user-${i + 1}`,
        text: `hello ${i + 1}`,
        imageUrl: "https://example.com/photo.png",
        requestId: `req-${i + 1}`,
        line: i + 2,
        fingerprint: `fp-${i + 1}`,
        sentBefore: false
      }
    }))

// A ledger in memory: what the pass wrote, in order. `inFlightTakes` is how long a row's in_flight write
// takes (a store across the network).
const memoryLedger = (inFlightTakes: (line: number) => number = () => 0) =>
  Effect.map(Ref.make<ReadonlyArray<string>>([]), (writes) => ({
    writes,
    ledger: {
      inFlight: (line: number) =>
        Effect.zipRight(Effect.sleep(inFlightTakes(line)), Ref.update(writes, (w) => [...w, `in_flight ${line}`])),
      settle: (line: number, settlement: Journal.Settlement) =>
        Ref.update(writes, (w) => [...w, `${settlement.state} ${line}`]),
      invalid: (line: number) => Ref.update(writes, (w) => [...w, `invalid ${line}`]),
      unstarted: (lines: ReadonlyArray<number>) => Ref.update(writes, (w) => [...w, `unstarted ${lines.join(",")}`])
    } satisfies BatchRun.Ledger
  }))

// The pass over `n` rows from a source of the test's own, forked; its report lines collected as they come.
const startPass = (
  n: number,
  options: { readonly concurrency: number; readonly rate: number },
  inFlightTakes?: (line: number) => number
) =>
  Effect.gen(function*() {
    const esms = yield* TestEsms
    const { ledger, writes } = yield* memoryLedger(inFlightTakes)
    const stop = yield* BatchStop.make
    const lines = yield* Ref.make<ReadonlyArray<BatchReport.ReportLine>>([])
    const source: BatchRun.RowSource<never, never> = { rows: Stream.fromIterable(rowsToSend(n)), ledger }
    const pass = yield* BatchRun.sendPass(source, esms.client, { ...options, images: undefined }, stop).pipe(
      Stream.runForEach((line) => Ref.update(lines, (all) => [...all, line])),
      Effect.fork
    )
    return { sentAt: esms.sentAt, writes, stop, lines, pass, ledger }
  })

describe("the sending pass on the TestClock", () => {
  it.scoped("--rate 2: one send every 500 ms, whatever the concurrency; each result journaled and reported", () =>
    Effect.gen(function*() {
      const { lines, pass, sentAt, writes } = yield* startPass(5, { concurrency: 8, rate: 2 })
      yield* TestClock.adjust("1 millis")
      assert.deepStrictEqual(yield* Ref.get(sentAt), [0], "the first send at once, the others wait")
      yield* TestClock.adjust("1 second")
      assert.deepStrictEqual(yield* Ref.get(sentAt), [0, 500, 1000])
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(pass)
      assert.deepStrictEqual(yield* Ref.get(sentAt), [0, 500, 1000, 1500, 2000])
      const reported = yield* Ref.get(lines)
      assert.deepStrictEqual(reported.map((l) => [l.line, l.status]), [2, 3, 4, 5, 6].map((line) => [line, "accepted"]))
      const tally = reported.reduce(BatchTally.add, BatchTally.newTally(5))
      assert.strictEqual(tally.accepted, 5)
      assert.strictEqual(BatchTally.etaSeconds({ ...tally, done: 0 }, 2000), 2, "5 rows left at 2.5 sends/s")
      assert.deepStrictEqual(
        (yield* Ref.get(writes)).filter((w) => w.startsWith("accepted")),
        [2, 3, 4, 5, 6].map((line) => `accepted ${line}`)
      )
    }))

  it.scoped("a slow in_flight write never bunches the requests: each one leaves at its permit", () =>
    Effect.gen(function*() {
      // Row 2's write takes 300 ms (a store across the network, busy); the others' none. Were the permit
      // taken before the write, row 2 would go at 300 ms and row 3 at 500: 200 ms apart at --rate 2.
      const { pass, sentAt } = yield* startPass(4, { concurrency: 4, rate: 2 }, (line) => line === 2 ? 300 : 0)
      yield* TestClock.adjust("10 seconds")
      yield* Fiber.join(pass)
      const times = yield* Ref.get(sentAt)
      assert.strictEqual(times.length, 4)
      times.slice(1).forEach((t, i) => assert.isAtLeast(t - times[i], 500, `send ${i + 1} at ${t}: ${times}`))
    }))

  it.scoped("a stop: the rows waiting for the pacer never start, no row is taken after it", () =>
    Effect.gen(function*() {
      const { lines, pass, sentAt, stop, writes } = yield* startPass(4, { concurrency: 4, rate: 1 })
      yield* TestClock.adjust("1 millis")
      yield* Deferred.succeed(stop.signal, undefined)
      yield* TestClock.adjust("1 minute")
      assert.deepStrictEqual(yield* Ref.get(sentAt), [0], "only the send started before the stop")
      assert.deepStrictEqual((yield* Ref.get(lines)).map((l) => l.line), [2])
      // Journaled before their permit (so that a request leaves right at it), never started.
      assert.deepStrictEqual(
        [...(yield* Ref.get(writes))].sort(),
        ["accepted 2", "in_flight 2", "in_flight 3", "in_flight 4", "in_flight 5"]
      )
      assert.isTrue(Option.isNone(yield* Fiber.poll(pass)), "the pass waits to be cut (BatchStop.run cuts it)")
      yield* Fiber.interrupt(pass)
    }))

  it.scoped("Ctrl-C: the rows journaled and waiting for their permit are handed back to the ledger, never sent", () =>
    Effect.gen(function*() {
      const esms = yield* TestEsms
      const { ledger, writes } = yield* memoryLedger()
      const stop = yield* BatchStop.make
      const source: BatchRun.RowSource<never, never> = { rows: Stream.fromIterable(rowsToSend(4)), ledger }
      const pass = BatchRun.sendPass(source, esms.client, { concurrency: 4, rate: 1, images: undefined }, stop).pipe(
        Stream.runDrain
      )
      const cut = yield* Deferred.make<number>()
      const run = yield* BatchStop.run(pass, stop, {
        onStopping: Effect.void,
        onStopped: (n, unstarted) => Effect.zipRight(ledger.unstarted(unstarted), Deferred.succeed(cut, n))
      }).pipe(Effect.fork)
      yield* TestClock.adjust("1 millis")
      yield* Fiber.interruptFork(run)
      yield* TestClock.adjust("1 minute")
      assert.strictEqual(yield* Deferred.await(cut), 0, "no send was in flight at the cut")
      assert.deepStrictEqual(yield* Ref.get(esms.sentAt), [0], "only the send started before Ctrl-C")
      const written = yield* Ref.get(writes)
      assert.deepStrictEqual(written.filter((w) => !w.startsWith("in_flight")), ["accepted 2", "unstarted 3,4,5"])
    }))

  it.scoped("Ctrl-C: the sends in flight get STOP_GRACE (10 s) to finish, then are cut and counted", () =>
    Effect.gen(function*() {
      const stop = yield* BatchStop.make
      const cut = yield* Deferred.make<number>()
      // One send started, whose answer never comes.
      const pass = Effect.zipRight(BatchStop.starting(stop, 2), Effect.never)
      const run = yield* BatchStop.run(pass, stop, {
        onStopping: Effect.void,
        onStopped: (n) => Deferred.succeed(cut, n)
      }).pipe(Effect.fork)
      yield* TestClock.adjust("1 millis")
      yield* Fiber.interruptFork(run)
      yield* TestClock.adjust("9 seconds")
      assert.isFalse(yield* Deferred.isDone(cut), "still within the grace")
      assert.isTrue(yield* BatchStop.isStopping(stop), "no new send starts")
      yield* TestClock.adjust("1 second")
      assert.strictEqual(yield* Deferred.await(cut), 1, "one send cut at the end of the grace")
    }))
})

// Counts the fibers started under it.
class FiberCount extends Supervisor.AbstractSupervisor<number> {
  started = 0
  get value() {
    return Effect.sync(() => this.started)
  }
  override onStart() {
    this.started++
  }
}

describe("the sending pass's own cost", () => {
  it.scopedLive("no fiber per row beyond the client's own sends; every row reported once", () =>
    Effect.gen(function*() {
      const esms = yield* TestEsms
      const { ledger, writes } = yield* memoryLedger()
      const stop = yield* BatchStop.make
      const entry = (line: number): Journal.Entry => ({
        line,
        requestId: `req-${line}`,
        fingerprint: `fp-${line}`,
        state: "accepted",
        tag: undefined,
        code: undefined,
        smsId: `sms-${line}`,
        detail: undefined,
        updatedAt: new Date(0)
      })
      // 200 rows to send, with 50 settled before and 50 invalid among them.
      const sends = rowsToSend(200)
      const rows = sends.flatMap((send, i) =>
        i % 4 === 0
          ? [
            send,
            BatchRun.Claimed.Settled({ entry: entry(1000 + i) }),
            BatchRun.Claimed.Invalid({ line: 2000 + i, fingerprint: "fp", errors: [] })
          ]
          : [send]
      )
      const fibers = new FiberCount()
      const source: BatchRun.RowSource<never, never> = { rows: Stream.fromIterable(rows), ledger }
      const lines = yield* BatchRun.sendPass(source, esms.client, {
        concurrency: 8,
        rate: 1_000_000,
        images: undefined
      }, stop)
        .pipe(Stream.runCollect, Effect.supervised(fibers))
      const reported = Array.from(lines)
      assert.strictEqual(reported.length, 300)
      assert.strictEqual(new Set(reported.map((l) => l.line)).size, 300, "each row once")
      assert.strictEqual(reported.filter((l) => l.status === "accepted" && l.earlier === true).length, 50)
      assert.strictEqual(reported.filter((l) => l.status === "invalid").length, 50)
      assert.strictEqual((yield* Ref.get(writes)).filter((w) => w.startsWith("invalid")).length, 50)
      // What the client's own sendMany starts for those 200 sends: the pass may add a few, never some per
      // row (Stream.partitionEither and Stream.merge started 6 more a row, ~0.35 ms of CPU).
      const client = new FiberCount()
      yield* esms.client.sendMany(Stream.fromIterable(sends.map((send) => send.item)), { concurrency: 8 }).pipe(
        Stream.runDrain,
        Effect.supervised(client)
      )
      assert.isAtMost(
        fibers.started,
        client.started + 20,
        `${fibers.started} fibers for the pass, ${client.started} for sendMany alone`
      )
    }))
})
