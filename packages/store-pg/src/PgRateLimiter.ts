/**
 * One TPS budget per eSMS account, across processes and machines: a `RateLimiter` (of
 * `@esms-effect/http-client`) whose permits come from one row per account in PostgreSQL, updated
 * atomically. The row holds the time of the account's next free slot (the database's clock); each
 * `take` books the next slot in one `UPDATE … RETURNING` (the row lock orders concurrent takers) and
 * waits until it. No process can take a slot another holds, so N replicas keep one rate together.
 *
 * The row is keyed by a hash of the account's API key (never the key itself).
 *
 * @since 0.1.0
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type * as SqlError from "@effect/sql/SqlError"
import { RateLimiter } from "@esms-effect/http-client"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as Schedule from "effect/Schedule"
import { createHash } from "node:crypto"

/**
 * The bucket's key for an account: a hash of its API key, so the database never holds the key.
 *
 * @since 0.1.0
 * @category constructors
 */
export const accountKey = (apiKey: Redacted.Redacted<string>): string =>
  "sha256:" + createHash("sha256").update(`esms-rate:${Redacted.value(apiKey)}`).digest("base64url").slice(0, 32)

/**
 * Slots are spaced this much wider than `1000 / perSecond` ms: a process that wakes up late for its
 * slot (a busy event loop, a GC pause; up to ~45 ms) still never lets one second hold more than
 * `perSecond`. The rate is then 95 % of `perSecond`.
 *
 * @since 0.1.0
 */
export const SAFETY = 0.05

/**
 * A slot whose booking came back this late (a slow round trip, a new connection) is not used: the
 * taker books another, so a late permit never bunches with the ones after it.
 *
 * @since 0.1.0
 */
export const LATE_MS = 10

/**
 * A taker that wakes up more than this after its slot (a busy event loop, a GC pause) does not start: it
 * books another slot. Why 25: with starts at most `B` ms after their slots, a second holds the slots of
 * `1000 + B` ms; spaced `1000 / perSecond × (1 + SAFETY)`, that stays within `perSecond` while
 * `B < 1000 × SAFETY` = 50 ms. Half of that slack goes to the wake, half is left for the way from the
 * permit to the request's arrival (the journal's write, the HTTP request).
 *
 * @since 0.2.0
 */
export const WAKE_LATE_MS = (1000 * SAFETY) / 2

/**
 * Slots booked and never used because they came too late (their booking's answer, or the taker's wake
 * after it): each such taker booked another. Tagged with `account`.
 *
 * @since 0.2.0
 * @category metrics
 */
export const wastedSlots: Metric.Metric.Counter<number> = Metric.counter("esms_rate_wasted_slots", {
  description: "rate slots booked and not used because they came too late",
  incremental: true
})

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The account: {@link accountKey} of its API key (or any name shared by the processes of one budget). */
  readonly account: string
  /** The account's TPS: the total of every process on this bucket. */
  readonly perSecond: number
}

/**
 * The limiter on the SQL client in context (the schema made by `PgStore.layer`). When the database is
 * unreachable, `take` waits and tries again (backing off up to 2 s): sends pause, never run unpaced.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: Options
): Effect.Effect<RateLimiter.Service, SqlError.SqlError, SqlClient.SqlClient> =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const interval = (1000 / options.perSecond) * (1 + SAFETY)
    yield* sql`INSERT INTO esms_rate_buckets (account, next_slot) VALUES (${options.account}, 0)
      ON CONFLICT (account) DO NOTHING`
    // The last booking's round trip: the next books at least that far ahead, so that a slow round trip
    // (a loaded host, another zone) does not make every slot late when it comes back (each one discarded
    // and booked again: no permit at all once bookings are slower than the rate).
    const lead = yield* Ref.make(0)
    const wasted = Metric.tagged(wastedSlots, "account", options.account)
    // Books the next slot, at least `ahead` ms from now; answers how long until it, as the database saw it.
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
        // The database booked somewhere in the round trip: if at its start, this slot is `trip - wait`
        // ms gone already; too late, a new one. If at its end, it is `wait` ms ahead: never start sooner.
        if (wait - trip < -LATE_MS) {
          yield* Metric.increment(wasted)
          continue
        }
        if (wait > 0) yield* Effect.sleep(wait)
        return
      }
    })
    return RateLimiter.RateLimiter.of({ take })
  })

/**
 * The `RateLimiter` for one account on the SQL client in context; provide `PgStore.layer`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: Options
): Layer.Layer<RateLimiter.RateLimiter, SqlError.SqlError, SqlClient.SqlClient> =>
  Layer.effect(RateLimiter.RateLimiter, make(options))
