/**
 * The shared limiter over a slow network: a loopback TCP proxy in front of the real PostgreSQL server
 * delays every chunk by 20 ms each way (a booking's round trip ≥ 40 ms, as across zones or on a loaded
 * host). The permits must still come at the rate, never above it.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"
import * as Redacted from "effect/Redacted"
import * as Net from "node:net"
import * as PgRateLimiter from "../src/PgRateLimiter.js"
import { freshUrl } from "./Db.js"
import { limiter, measure, take } from "./Limiters.js"

const DELAY_MS = 20

/** A proxy to `port` on loopback that holds every chunk `DELAY_MS` in each direction; its port. */
const slowProxy = (port: number) =>
  Effect.acquireRelease(
    Effect.async<Net.Server & { readonly port: number }>((resume) => {
      const server = Net.createServer((client) => {
        const upstream = Net.connect(port, "127.0.0.1")
        const pipe = (from: Net.Socket, to: Net.Socket) => {
          from.on("data", (chunk) => setTimeout(() => to.write(chunk), DELAY_MS))
          from.on("close", () => setTimeout(() => to.destroy(), DELAY_MS))
          from.on("error", () => to.destroy())
        }
        pipe(client, upstream)
        pipe(upstream, client)
      })
      server.listen(0, "127.0.0.1", () => {
        const address = server.address() as Net.AddressInfo
        resume(Effect.succeed(Object.assign(server, { port: address.port })))
      })
    }),
    (server) => Effect.sync(() => server.close())
  )

/** A limiter at `perSecond` whose every round trip to the database goes through `slowProxy`. */
const slowLimiter = (perSecond: number) =>
  Effect.gen(function*() {
    const direct = new URL(Redacted.value(yield* freshUrl("slow")))
    const proxy = yield* slowProxy(Number(direct.port))
    direct.port = String(proxy.port)
    return yield* limiter(Redacted.make(direct.toString()), { account: "slow-account", perSecond })
  })

describe("PgRateLimiter over a slow network", () => {
  it.scopedLive(
    "round trips of 40 ms, fewer bookings a second than the rate: the permits slow down, never stop",
    () =>
      Effect.gen(function*() {
        // 8 takers, each booking a round trip (≥ 40 ms): at most ~200 bookings a second for a rate of 300.
        const wasted = Metric.tagged(PgRateLimiter.wastedSlots, "account", "slow-account")
        const wastedBefore = (yield* Metric.value(wasted)).count
        const times = yield* take([yield* slowLimiter(300)], { permits: 300, concurrency: 8, timeout: "10 seconds" })
        const { busiest, rate } = measure(times)
        console.log(
          `PgRateLimiter, 40 ms round trips at 300/s: ${times.length} permits, ${
            rate.toFixed(1)
          }/s, busiest second ${busiest}, ${(yield* Metric.value(wasted)).count - wastedBefore} slots wasted`
        )
        assert.strictEqual(times.length, 300, "300 permits within 10 s")
        // Each taker books (≥ 40 ms), then waits for its slot (booked ≥ one round trip ahead): ≤ 100/s for 8.
        assert.isAtLeast(rate, 50, "as fast as 8 takers' round trips go")
        assert.isAtMost(busiest, 300)
      }),
    { timeout: 60_000 }
  )

  it.scopedLive(
    "round trips of 40 ms: 8 takers still get ~50 permits/s, never more than 50 in a second",
    () =>
      Effect.gen(function*() {
        const permits = 100
        const times = yield* take([yield* slowLimiter(50)], { permits, concurrency: 8, timeout: "20 seconds" })
        const { busiest, rate } = measure(times)
        console.log(
          `PgRateLimiter, 40 ms round trips: ${times.length} permits, ${rate.toFixed(1)}/s, busiest second ${busiest}`
        )
        assert.strictEqual(times.length, permits, "every permit within 20 s (100 at 50/s take 2 s)")
        assert.isAtLeast(rate, 40, "near 50/s")
        assert.isAtMost(busiest, 50)
      }),
    { timeout: 60_000 }
  )
})
