import { assert, describe, it } from "@effect/vitest"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as ChildProcess from "node:child_process"
import * as Path from "node:path"
import * as Campaign from "../src/Campaign.js"
import { freshUrl, store } from "./Db.js"

/** One worker process: its own pool on the database. */
const worker = (url: Redacted.Redacted<string>) =>
  Effect.map(Layer.build(Campaign.layer.pipe(Layer.provide(store(url)))), (ctx) => Context.get(ctx, Campaign.Campaign))

const rows = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ line: i + 2, data: { userId: `u${i}`, text: "Xin chào" } }))

describe("Campaign", () => {
  it.scoped("loaded once: the same file again is a no-op, another file a typed error; join from anywhere", () =>
    Effect.gen(function*() {
      const url = yield* freshUrl("campaign")
      const [a, b] = yield* Effect.all([worker(url), worker(url)])
      // Two machines loading the same file at once: one loads, the other joins.
      const [first, second] = yield* Effect.all(
        [a.load("may", "file-1", rows(50)), b.load("may", "file-1", rows(50))],
        {
          concurrency: "unbounded"
        }
      )
      assert.deepStrictEqual([first.loaded, second.loaded].sort(), [false, true])
      assert.strictEqual(first.id, second.id)
      assert.strictEqual((yield* first.counts).pending, 50)
      const other = yield* Effect.flip(a.load("may", "file-2", rows(51)))
      assert.strictEqual(other._tag, "CampaignFileMismatch")
      assert.match(other.message, /campaign "may" was loaded from another file/)
      const joined = yield* b.join("may")
      assert.deepStrictEqual([joined.id, joined.size, joined.loaded], [first.id, 50, false])
      const row = Option.getOrThrow(yield* joined.get(7))
      assert.deepStrictEqual(row.data, { userId: "u5", text: "Xin chào" })
      assert.strictEqual(row.requestId, `esms-${first.id}-7`)
      const missing = yield* Effect.flip(a.join("june"))
      assert.strictEqual(missing._tag, "CampaignNotFound")
    }))

  it.scoped("workers claiming at once never get the same row; the whole campaign is settled exactly once", () =>
    Effect.gen(function*() {
      const url = yield* freshUrl("campaign")
      const services = yield* Effect.all([worker(url), worker(url), worker(url)])
      yield* services[0].load("big", "f", rows(600))
      const seen: Array<number> = []
      yield* Effect.forEach(services, (service, w) =>
        Effect.gen(function*() {
          const campaign = yield* service.join("big")
          const me = `w${w}`
          while (true) {
            const claimed = yield* campaign.claim(me, 7, "30 seconds")
            if (claimed.length === 0) break
            for (const row of claimed) {
              assert.isFalse(row.sentBefore)
              assert.isTrue(yield* campaign.inFlight(me, row.line))
              seen.push(row.line)
              assert.isTrue(yield* campaign.settle(me, row.line, { state: "accepted", smsId: `s${row.line}` }))
            }
          }
        }), { concurrency: "unbounded", discard: true })
      assert.strictEqual(seen.length, 600)
      assert.strictEqual(new Set(seen).size, 600)
      const counts = yield* Effect.flatMap(services[1].join("big"), (c) => c.counts)
      assert.strictEqual(counts.accepted, 600)
    }))

  it.scopedLive(
    "a dead worker's rows go to another once its lease expires: same RequestId, sentBefore",
    () =>
      Effect.gen(function*() {
        const url = yield* freshUrl("campaign")
        const [a, b] = yield* Effect.all([worker(url), worker(url)])
        const dead = yield* a.load("c", "f", rows(3))
        const held = yield* dead.claim("dead", 2, "700 millis")
        assert.deepStrictEqual(held.map((r) => r.line), [2, 3])
        assert.isTrue(yield* dead.inFlight("dead", 2)) // line 2 was on the wire when it died; line 3 was not
        const live = yield* b.join("c")
        // Only line 4 is free: the others are someone else's, still outstanding, so this worker waits.
        assert.deepStrictEqual((yield* live.claim("live", 10, "30 seconds")).map((r) => r.line), [4])
        const waiting = yield* live.outstanding("live")
        assert.strictEqual(waiting.claimable, 0)
        assert.strictEqual(waiting.leasedByOthers, 2)
        assert.isTrue(Option.isSome(waiting.nextExpiry))
        yield* Effect.sleep("800 millis")
        const taken = yield* live.claim("live", 10, "30 seconds")
        assert.deepStrictEqual(taken.map((r) => [r.line, r.requestId, r.sentBefore]), [
          [2, held[0].requestId, true],
          [3, held[1].requestId, false]
        ])
        // The dead worker, come back, holds nothing: it must not send, and cannot settle.
        assert.isFalse(yield* dead.inFlight("dead", 3))
        assert.isFalse(yield* dead.settle("dead", 2, { state: "accepted", smsId: undefined }))
        assert.isTrue(yield* live.inFlight("live", 2))
        assert.isTrue(yield* live.settle("live", 2, { state: "deduplicated" }))
        assert.deepStrictEqual((yield* live.outstanding("live")).leasedByOthers, 0)
      }),
    { timeout: 20_000 }
  )

  it.scopedLive("release gives back unstarted rows at once; extend keeps a slow worker's lease; failed rows retried", () =>
    Effect.gen(function*() {
      const url = yield* freshUrl("campaign")
      const a = yield* worker(url)
      const c = yield* a.load("r", "f", rows(4))
      yield* c.claim("w1", 4, "500 millis")
      assert.isTrue(yield* c.inFlight("w1", 2))
      assert.strictEqual(yield* c.release("w1"), 3) // lines 3..5; line 2 is on the wire
      assert.deepStrictEqual((yield* c.claim("w2", 10, "30 seconds")).map((r) => r.line), [3, 4, 5])
      assert.strictEqual(yield* c.extend("w1", "30 seconds"), 1)
      yield* Effect.sleep("700 millis")
      assert.deepStrictEqual(yield* c.claim("w3", 10, "30 seconds"), [], "line 2's lease was extended")
      yield* c.settle("w1", 2, { state: "failed", tag: "ConnectionLost", detail: "reset" })
      assert.strictEqual(yield* c.retryFailed, 1)
      assert.deepStrictEqual((yield* c.claim("w3", 10, "30 seconds")).map((r) => [r.line, r.sentBefore]), [[2, true]])
      const counts = yield* c.counts
      assert.deepStrictEqual([counts.leased, counts.failed, counts.pending], [4, 0, 0])
    }))

  it.scopedLive("inFlightAll and settleAll write many rows in one statement, only the worker's own", () =>
    Effect.gen(function*() {
      const url = yield* freshUrl("campaign")
      const a = yield* worker(url)
      const c = yield* a.load("b", "f", rows(5))
      yield* c.claim("w1", 3, "30 seconds")
      yield* c.claim("w2", 3, "30 seconds")
      assert.deepStrictEqual([...(yield* c.inFlightAll("w1", [2, 3, 4, 5]))].sort(), [2, 3, 4], "line 5 is w2's")
      const settled = yield* c.settleAll("w1", [
        { line: 2, settlement: { state: "accepted", smsId: "sms-2" } },
        { line: 3, settlement: { state: "rejected", tag: "BalanceNotEnough", code: "103", detail: "no 'money'" } },
        { line: 4, settlement: { state: "failed", tag: "ConnectionLost", detail: "reset \"quoted\"" } },
        { line: 5, settlement: { state: "deduplicated" } }
      ])
      assert.deepStrictEqual([...settled].sort(), [2, 3, 4])
      const entries = yield* Effect.forEach([2, 3, 4, 5], (line) => c.get(line))
      assert.deepStrictEqual(
        entries.map((e) => Option.map(e, (x) => [x.state, x.smsId, x.tag, x.code, x.detail])),
        [
          Option.some(["accepted", "sms-2", undefined, undefined, undefined]),
          Option.some(["rejected", undefined, "BalanceNotEnough", "103", "no 'money'"]),
          Option.some(["failed", undefined, "ConnectionLost", undefined, "reset \"quoted\""]),
          Option.some(["leased", undefined, undefined, undefined, undefined])
        ]
      )
    }))

  it.scopedLive("release also gives back the in_flight rows named as never started (journaled, then stopped)", () =>
    Effect.gen(function*() {
      const url = yield* freshUrl("campaign")
      const a = yield* worker(url)
      const c = yield* a.load("u", "f", rows(4))
      yield* c.claim("w1", 4, "30 seconds")
      for (const line of [2, 3, 4]) assert.isTrue(yield* c.inFlight("w1", line))
      // Line 2's request went out; 3 and 4 were journaled and waited for their permit when the stop came.
      assert.strictEqual(yield* c.release("w1", [3, 4]), 3, "lines 3, 4 and the leased 5")
      assert.deepStrictEqual((yield* c.claim("w2", 10, "30 seconds")).map((r) => r.line), [3, 4, 5])
      assert.strictEqual((yield* c.counts).in_flight, 1, "line 2 stays in flight: it may have reached eSMS")
      assert.strictEqual(yield* c.release("w2", [2]), 3, "another worker's row is never released")
    }))

  it.scopedLive(
    "a worker process killed with SIGKILL: its rows go on after its lease, same RequestIds",
    () =>
      Effect.gen(function*() {
        const url = yield* freshUrl("campaign")
        const live = yield* Effect.flatMap(worker(url), (s) => s.load("k", "f", rows(3)))
        const child = yield* Effect.acquireRelease(
          Effect.sync(() =>
            ChildProcess.spawn(process.execPath, [Path.join(import.meta.dirname, "fixtures", "holdRows.mjs")], {
              env: { ...process.env, STORE: Redacted.value(url), CAMPAIGN: "k" },
              stdio: ["ignore", "pipe", "inherit"]
            })
          ),
          (child) => Effect.sync(() => child.kill("SIGKILL"))
        )
        const held = yield* Effect.async<ReadonlyArray<[number, string]>>((resume) => {
          child.stdout!.once("data", (chunk) => resume(Effect.succeed(JSON.parse(String(chunk)))))
        })
        assert.deepStrictEqual(held.map(([line]) => line), [2, 3])
        child.kill("SIGKILL")
        assert.deepStrictEqual((yield* live.claim("live", 10, "30 seconds")).map((r) => r.line), [4])
        assert.strictEqual((yield* live.outstanding("live")).leasedByOthers, 2, "wait: the killed worker's lease runs")
        yield* Effect.sleep("1200 millis")
        const taken = yield* live.claim("live", 10, "30 seconds")
        assert.deepStrictEqual(taken.map((r) => [r.line, r.requestId, r.sentBefore]), [
          [2, held[0][1], true],
          [3, held[1][1], false]
        ])
      }),
    { timeout: 20_000 }
  )
})
