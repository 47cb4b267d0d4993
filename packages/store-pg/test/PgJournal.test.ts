import { assert, describe, it } from "@effect/vitest"
import { Journal } from "@esms-effect/store"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import * as PgJournal from "../src/PgJournal.js"
import { freshUrl, store } from "./Db.js"

/** Opens the journal `name`, uses it, closes it: each call is one run of the batch. */
const run = <A, E>(
  url: Redacted.Redacted<string>,
  name: string,
  use: (journal: Journal.Service) => Effect.Effect<A, E>
) => Effect.flatMap(Journal.Journal, use).pipe(Effect.provide(PgJournal.layer(name).pipe(Layer.provide(store(url)))))

const fp = Journal.fingerprint(["u1", "Xin chào", "https://cdn.example.vn/p.png"])

describe("PgJournal", () => {
  it.live("the same Journal service: RequestIds stable across runs, outcomes kept, per name", () =>
    Effect.gen(function*() {
      const url = yield* freshUrl("pgjournal")
      const first = yield* run(url, "may-promo", (j) =>
        Effect.gen(function*() {
          assert.isTrue(j.isNew)
          yield* j.inFlight(2, j.requestIdFor(2), fp)
          yield* j.inFlight(3, j.requestIdFor(3), fp)
          yield* j.settle(2, { state: "accepted", smsId: "sms-2" })
          yield* j.invalid(4, fp, "bad phone")
          return j.requestIdFor(2)
        }))
      yield* run(url, "may-promo", (j) =>
        Effect.gen(function*() {
          assert.isFalse(j.isNew)
          assert.strictEqual(j.requestIdFor(2), first)
          const two = Option.getOrThrow(yield* j.get(2))
          assert.deepStrictEqual([two.state, two.requestId, two.smsId], ["accepted", first, "sms-2"])
          assert.deepStrictEqual(Journal.decide(yield* j.get(3), j.requestIdFor(3), false), {
            _tag: "Send",
            requestId: j.requestIdFor(3),
            sentBefore: true
          })
          assert.deepStrictEqual(yield* j.counts, {
            in_flight: 1,
            accepted: 1,
            deduplicated: 0,
            rejected: 0,
            failed: 0,
            invalid: 1
          })
          assert.deepStrictEqual((yield* j.inState("in_flight")).map((e) => e.line), [3])
        }))
      // Another name is another batch.
      const other = yield* run(url, "june-promo", (j) => Effect.succeed([j.isNew, j.requestIdFor(2)] as const))
      assert.isTrue(other[0])
      assert.notStrictEqual(other[1], first)
    }))

  it.live("one run at a time per name: a second one is refused at once while the first holds it", () =>
    Effect.gen(function*() {
      const url = yield* freshUrl("pgjournal")
      yield* run(url, "b", () =>
        Effect.gen(function*() {
          const second = yield* Effect.flip(run(url, "b", () => Effect.void))
          assert.strictEqual(second._tag, "JournalUnusable")
          assert.match(second.message, /in use by another esms run/)
          // Another name is free.
          yield* run(url, "c", () => Effect.void)
        }))
      yield* run(url, "b", (j) => j.counts)
    }))

  it.effect("times come from Clock", () =>
    Effect.gen(function*() {
      const url = yield* freshUrl("pgjournal")
      const at = new Date("2026-03-01T02:03:04.000Z")
      yield* TestClock.setTime(at.getTime())
      const entry = yield* run(url, "t", (j) => Effect.zipRight(j.inFlight(2, "rid-2", fp), j.get(2)))
      assert.deepStrictEqual(Option.map(entry, (e) => e.updatedAt), Option.some(at))
    }))
})
