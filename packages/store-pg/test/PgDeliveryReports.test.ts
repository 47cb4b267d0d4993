import { assert, describe, it } from "@effect/vitest"
import { DeliveryReport } from "@esms-effect/core"
import { DeliveryReports } from "@esms-effect/store"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import * as PgDeliveryReports from "../src/PgDeliveryReports.js"
import { freshUrl, store } from "./Db.js"

const report = (query: string) => Either.getOrThrow(DeliveryReport.fromQueryString(query))
const delivered = report("SMSID=s1&SendStatus=5&SendSuccess=1&SendFailed=0&RequestId=req-1&TypeId=26")
const waiting = report("SMSID=s1&SendStatus=2&RequestId=req-1")

/** One receiver process: its own pool on the database. */
const receiver = <A, E>(url: Redacted.Redacted<string>, use: (r: DeliveryReports.Service) => Effect.Effect<A, E>) =>
  Effect.flatMap(DeliveryReports.DeliveryReports, use).pipe(
    Effect.provide(PgDeliveryReports.layer.pipe(Layer.provide(store(url))))
  )

describe("PgDeliveryReports", () => {
  it.live("the same DeliveryReports service: latest final report first, history oldest first", () =>
    Effect.gen(function*() {
      const url = yield* freshUrl("pgreports")
      yield* receiver(url, (r) =>
        Effect.gen(function*() {
          assert.isTrue(yield* r.record(waiting))
          assert.isTrue(yield* r.record(delivered))
          assert.isFalse(yield* r.record(waiting))
        }))
      // Another process answers from the same database.
      yield* receiver(url, (r) =>
        Effect.gen(function*() {
          const latest = Option.getOrThrow(yield* r.latest("req-1"))
          assert.strictEqual(latest.report.sendStatusCode, 5)
          assert.deepStrictEqual((yield* r.history("s1")).map((s) => s.report.sendStatusCode), [2, 5])
          assert.strictEqual(yield* r.count, 2)
        }))
    }))

  it.live("three receivers getting the same callbacks at once store each report exactly once", () =>
    Effect.gen(function*() {
      const url = yield* freshUrl("pgreports")
      const reports = Array.from(
        { length: 200 },
        (_, i) => report(`SMSID=m${i}&SendStatus=5&SendSuccess=1&SendFailed=0&RequestId=r${i}`)
      )
      const stored = yield* Effect.all(
        Array.from(
          { length: 3 },
          () =>
            receiver(
              url,
              (r) =>
                Effect.map(Effect.forEach(reports, r.record, { concurrency: 4 }), (news) => news.filter(Boolean).length)
            )
        ),
        { concurrency: "unbounded" }
      )
      assert.strictEqual(stored.reduce((a, b) => a + b, 0), 200, `new per receiver: ${stored}`)
      assert.strictEqual(yield* receiver(url, (r) => r.count), 200)
    }))
})
