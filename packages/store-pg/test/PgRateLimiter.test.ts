import { assert, describe, it } from "@effect/vitest"
import { RateLimiter } from "@esms-effect/http-client"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as PgRateLimiter from "../src/PgRateLimiter.js"
import { freshUrl, store } from "./Db.js"

/** One process's limiter: its own pool on the database. */
const limiter = (url: Redacted.Redacted<string>, options: PgRateLimiter.Options) =>
  Effect.map(
    Layer.build(PgRateLimiter.layer(options).pipe(Layer.provide(store(url)))),
    (ctx) => Context.get(ctx, RateLimiter.RateLimiter)
  )

/** The most permits in any one-second window [t, t + 1000) starting at a permit. */
const busiestSecond = (times: ReadonlyArray<number>) => {
  const sorted = [...times].sort((a, b) => a - b)
  let best = 0
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (j < sorted.length && sorted[j] < sorted[i] + 1000) j++
    best = Math.max(best, j - i)
  }
  return best
}

describe("PgRateLimiter", () => {
  it.scopedLive(
    "3 limiters on one account at 50/s take their permits at ≤ 50 in every second, together",
    () =>
      Effect.gen(function*() {
        const url = yield* freshUrl("rate")
        const account = PgRateLimiter.accountKey(Redacted.make("the-api-key"))
        const limiters = yield* Effect.all(Array.from({ length: 3 }, () => limiter(url, { account, perSecond: 50 })))
        const times: Array<number> = []
        const perLimiter = 60
        const start = Date.now()
        // Each limiter's process sends with 4 concurrent fibers, as sendMany does.
        yield* Effect.forEach(limiters, (l) =>
          Effect.forEach(Array.from({ length: perLimiter }), () =>
            Effect.zipRight(
              l.take,
              Effect.sync(() => void times.push(Date.now()))
            ), {
            concurrency: 4,
            discard: true
          }), { concurrency: "unbounded", discard: true })
        const elapsed = (Date.now() - start) / 1000
        const rate = (times.length - 1) / ((Math.max(...times) - Math.min(...times)) / 1000)
        const busiest = busiestSecond(times)
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
