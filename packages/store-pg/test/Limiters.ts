/** PgRateLimiters as separate processes would hold them, the permits they give, and the windows those fall in. */
import { RateLimiter } from "@esms-effect/http-client"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Redacted from "effect/Redacted"
import * as PgRateLimiter from "../src/PgRateLimiter.js"
import { store } from "./Db.js"

/** One process's limiter: its own pool on the database. */
export const limiter = (url: Redacted.Redacted<string>, options: PgRateLimiter.Options) =>
  Effect.map(
    Layer.build(PgRateLimiter.layer(options).pipe(Layer.provide(store(url)))),
    (ctx) => Context.get(ctx, RateLimiter.RateLimiter)
  )

/**
 * Every limiter takes `permits` permits with `concurrency` fibers (as sendMany does), all limiters at once;
 * the times they came at. With `timeout`, the permits given by then.
 */
export const take = (
  limiters: ReadonlyArray<RateLimiter.Service>,
  options: { readonly permits: number; readonly concurrency: number; readonly timeout?: Duration.DurationInput }
) =>
  Effect.suspend(() => {
    const times: Array<number> = []
    const all = Effect.forEach(limiters, (l) =>
      Effect.forEach(
        Array.from({ length: options.permits }),
        () => Effect.zipRight(l.take, Effect.sync(() => void times.push(Date.now()))),
        { concurrency: options.concurrency, discard: true }
      ), { concurrency: "unbounded", discard: true })
    return (options.timeout === undefined ? all : Effect.ignore(Effect.timeout(all, options.timeout))).pipe(
      Effect.as(times)
    )
  })

/** How many permits, their rate from the first to the last, and the most in any one-second window. */
export const measure = (times: ReadonlyArray<number>) => {
  const sorted = [...times].sort((a, b) => a - b)
  let busiest = 0
  // Each window [t, t + 1000) starts at a permit.
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (j < sorted.length && sorted[j]! < sorted[i]! + 1000) j++
    busiest = Math.max(busiest, j - i)
  }
  const rate = (sorted.length - 1) / ((sorted[sorted.length - 1]! - sorted[0]!) / 1000)
  return { permits: sorted.length, rate, busiest }
}
