/**
 * The shared limiter over a slow network: a loopback TCP proxy in front of the real PostgreSQL server
 * delays every chunk by 20 ms each way (a booking's round trip ≥ 40 ms, as across zones or on a loaded
 * host). The permits must still come at the rate, never above it.
 */
import { assert, describe, it } from "@effect/vitest"
import { RateLimiter } from "@esms-effect/http-client"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Net from "node:net"
import * as PgRateLimiter from "../src/PgRateLimiter.js"
import { freshUrl, store } from "./Db.js"

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

const busiestSecond = (times: ReadonlyArray<number>) => {
  const sorted = [...times].sort((a, b) => a - b)
  let best = 0
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (j < sorted.length && sorted[j] < sorted[i] + 1000) j++
    best = Math.max(best, j - i)
  }
  return best
}

describe("PgRateLimiter over a slow network", () => {
  it.scopedLive(
    "round trips of 40 ms, fewer bookings a second than the rate: the permits slow down, never stop",
    () =>
      Effect.gen(function*() {
        const direct = new URL(Redacted.value(yield* freshUrl("slow")))
        const proxy = yield* slowProxy(Number(direct.port))
        direct.port = String(proxy.port)
        const url = Redacted.make(direct.toString())
        const context = yield* Layer.build(
          PgRateLimiter.layer({ account: "slow-account", perSecond: 300 }).pipe(Layer.provide(store(url)))
        )
        const limiter = Context.get(context, RateLimiter.RateLimiter)
        const times: Array<number> = []
        // 8 takers, each booking a round trip (≥ 40 ms): at most ~200 bookings a second for a rate of 300.
        yield* Effect.forEach(
          Array.from({ length: 300 }),
          () => Effect.zipRight(limiter.take, Effect.sync(() => void times.push(Date.now()))),
          { concurrency: 8, discard: true }
        ).pipe(Effect.timeout("10 seconds"), Effect.ignore)
        const rate = (times.length - 1) / ((Math.max(...times) - Math.min(...times)) / 1000)
        console.log(
          `PgRateLimiter, 40 ms round trips at 300/s: ${times.length} permits, ${rate.toFixed(1)}/s, busiest second ${
            busiestSecond(times)
          }`
        )
        assert.strictEqual(times.length, 300, "300 permits within 10 s")
        // Each taker books (≥ 40 ms), then waits for its slot (booked ≥ one round trip ahead): ≤ 100/s for 8.
        assert.isAtLeast(rate, 50, "as fast as 8 takers' round trips go")
        assert.isAtMost(busiestSecond(times), 300)
      }),
    { timeout: 60_000 }
  )

  it.scopedLive(
    "round trips of 40 ms: 8 takers still get ~50 permits/s, never more than 50 in a second",
    () =>
      Effect.gen(function*() {
        const direct = new URL(Redacted.value(yield* freshUrl("slow")))
        const proxy = yield* slowProxy(Number(direct.port))
        direct.port = String(proxy.port)
        const url = Redacted.make(direct.toString())
        const context = yield* Layer.build(
          PgRateLimiter.layer({ account: "slow-account", perSecond: 50 }).pipe(Layer.provide(store(url)))
        )
        const limiter = Context.get(context, RateLimiter.RateLimiter)
        const times: Array<number> = []
        const permits = 100
        yield* Effect.forEach(
          Array.from({ length: permits }),
          () => Effect.zipRight(limiter.take, Effect.sync(() => void times.push(Date.now()))),
          { concurrency: 8, discard: true }
        ).pipe(Effect.timeout("20 seconds"), Effect.ignore)
        const rate = (times.length - 1) / ((Math.max(...times) - Math.min(...times)) / 1000)
        console.log(
          `PgRateLimiter, 40 ms round trips: ${times.length} permits, ${rate.toFixed(1)}/s, busiest second ${
            busiestSecond(times)
          }`
        )
        assert.strictEqual(times.length, permits, "every permit within 20 s (100 at 50/s take 2 s)")
        assert.isAtLeast(rate, 40, "near 50/s")
        assert.isAtMost(busiestSecond(times), 50)
      }),
    { timeout: 60_000 }
  )
})
