import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as PgRateLimiter from "../src/PgRateLimiter.js"
import { freshUrl, store } from "./Db.js"
import { limiter, measure, take } from "./Limiters.js"

describe("PgRateLimiter", () => {
  it.scopedLive(
    "3 limiters on one account at 50/s take their permits at ≤ 50 in every second, together",
    () =>
      Effect.gen(function*() {
        const url = yield* freshUrl("rate")
        const account = PgRateLimiter.accountKey(Redacted.make("the-api-key"))
        const limiters = yield* Effect.all(Array.from({ length: 3 }, () => limiter(url, { account, perSecond: 50 })))
        const perLimiter = 60
        const start = Date.now()
        // Each limiter's process sends with 4 concurrent fibers, as sendMany does.
        const times = yield* take(limiters, { permits: perLimiter, concurrency: 4 })
        const elapsed = (Date.now() - start) / 1000
        const { busiest, rate } = measure(times)
        console.log(
          `PgRateLimiter: 3 × ${perLimiter} permits at 50/s in ${elapsed.toFixed(2)} s = ${
            rate.toFixed(1)
          }/s; busiest one-second window: ${busiest}`
        )
        assert.strictEqual(times.length, 3 * perLimiter)
        assert.isAtMost(busiest, 50)
        // Together, not each: 180 permits take about 3.6 s (each at 50/s alone would take 1.2 s).
        assert.isAtLeast(elapsed, 3.3)
        assert.isAtLeast(rate, 45, "within 10 % of 50/s")
      }),
    { timeout: 30_000 }
  )

  it.scopedLive("the database holds a hash of the account's API key, never the key", () =>
    Effect.gen(function*() {
      const url = yield* freshUrl("rate")
      const apiKey = "AK-1234567890-secret"
      const account = PgRateLimiter.accountKey(Redacted.make(apiKey))
      assert.notInclude(account, apiKey)
      const l = yield* limiter(url, { account, perSecond: 100 })
      yield* l.take
      const { PgClient } = yield* Effect.promise(() => import("@effect/sql-pg"))
      const rows = yield* Effect.flatMap(
        PgClient.PgClient,
        (sql) => sql<{ account: string }>`SELECT account FROM esms_rate_buckets`
      ).pipe(Effect.provide(store(url)), Effect.orDie)
      assert.deepStrictEqual(rows.map((r) => r.account), [account])
    }))
})
