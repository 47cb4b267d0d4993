/** PgRateLimiters as separate processes would hold them, the permits they give, and the windows those fall in. */
import * as SqlClient from "@effect/sql/SqlClient"
import { RateLimiter } from "@esms-effect/http-client"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import type * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as Schedule from "effect/Schedule"
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
  // Each window [t, t + 1000) starts at a permit.
  const busiest = busiestWithin(sorted, 1000)
  const rate = (sorted.length - 1) / ((sorted[sorted.length - 1]! - sorted[0]!) / 1000)
  return { permits: sorted.length, rate, busiest }
}

/** The limiter as it was before batched booking (main at e932b98): one `UPDATE … RETURNING` a permit. */
const previousMake = (options: PgRateLimiter.Options) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const interval = (1000 / options.perSecond) * (1 + PgRateLimiter.SAFETY)
    yield* sql`INSERT INTO esms_rate_buckets (account, next_slot) VALUES (${options.account}, 0)
      ON CONFLICT (account) DO NOTHING`
    const lead = yield* Ref.make(0)
    const book = (ahead: number) =>
      sql<{ wait_ms: number }>`WITH now AS (SELECT EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS ms)
      UPDATE esms_rate_buckets b SET next_slot = GREATEST(b.next_slot, now.ms + ${ahead}) + ${interval}
      FROM now WHERE b.account = ${options.account}
      RETURNING (GREATEST(b.next_slot, now.ms + ${ahead}) - ${interval} - now.ms)::float8 AS wait_ms`.pipe(
        Effect.retry(
          Schedule.exponential("50 millis").pipe(Schedule.union(Schedule.spaced("2 seconds")), Schedule.jittered)
        ),
        Effect.orDie
      )
    const take: Effect.Effect<void> = Effect.gen(function*() {
      while (true) {
        const sent = yield* Clock.currentTimeMillis
        const [row] = yield* book(yield* Ref.get(lead))
        const trip = (yield* Clock.currentTimeMillis) - sent
        yield* Ref.set(lead, Math.min(trip, 1000))
        const wait = row?.wait_ms ?? 0
        if (wait - trip < -PgRateLimiter.LATE_MS) {
          yield* Metric.increment(Metric.tagged(PgRateLimiter.wastedSlots, "account", options.account))
          continue
        }
        if (wait > 0) yield* Effect.sleep(wait)
        return
      }
    })
    return RateLimiter.RateLimiter.of({ take })
  })

/**
 * The limiter as it was before batched booking (main at e932b98): one `UPDATE … RETURNING` per permit.
 * Kept to compare with, and to share a row with the current one (processes of both versions on one account).
 */
export const previousLimiter = (url: Redacted.Redacted<string>, options: PgRateLimiter.Options) =>
  Effect.map(
    Layer.build(Layer.effect(RateLimiter.RateLimiter, previousMake(options)).pipe(Layer.provide(store(url)))),
    (ctx) => Context.get(ctx, RateLimiter.RateLimiter)
  )

/**
 * Counts every UPDATE of `esms_rate_buckets` in the database of `url`, whoever makes it: a row trigger
 * bumps a sequence. Answers an effect that reads the count so far.
 */
export const countUpdates = (url: Redacted.Redacted<string>) =>
  Effect.gen(function*() {
    const sql = Context.get(yield* Layer.build(store(url)), SqlClient.SqlClient)
    yield* sql.unsafe(`CREATE SEQUENCE esms_rate_updates`)
    yield* sql.unsafe(`CREATE FUNCTION esms_count_rate_update() RETURNS trigger LANGUAGE plpgsql AS
      'BEGIN PERFORM nextval(''esms_rate_updates''); RETURN NEW; END'`)
    yield* sql.unsafe(`CREATE TRIGGER esms_rate_updates AFTER UPDATE ON esms_rate_buckets
      FOR EACH ROW EXECUTE FUNCTION esms_count_rate_update()`)
    return Effect.map(
      sql<{ n: number }>`SELECT (CASE WHEN is_called THEN last_value ELSE 0 END)::int AS n FROM esms_rate_updates`,
      ([row]) => row?.n ?? 0
    ).pipe(Effect.orDie)
  }).pipe(Effect.orDie)

/** Blocks the event loop for `ms` (a GC pause, a busy process): every timer due meanwhile fires late. */
export const stall = (ms: number) =>
  Effect.sync(() => {
    const until = Date.now() + ms
    while (Date.now() < until) {
      // busy
    }
  })

/** The most permits that started within any `ms` ms of each other. */
export const busiestWithin = (times: ReadonlyArray<number>, ms: number) => {
  const sorted = [...times].sort((a, b) => a - b)
  let busiest = 0
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (j < sorted.length && sorted[j]! < sorted[i]! + ms) j++
    busiest = Math.max(busiest, j - i)
  }
  return busiest
}
