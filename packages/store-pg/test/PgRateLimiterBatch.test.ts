/**
 * Many takers in one process: their slots are booked together (one UPDATE for the takers waiting at the
 * same time), a taker that wakes too late for its slot books another instead of bunching with the next,
 * and takers interrupted while they wait leave the others working.
 */
import { assert, describe, it } from "@effect/vitest"
import type { RateLimiter } from "@esms-effect/http-client"
import { RateLimiter as RateLimiterTag } from "@esms-effect/http-client"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as Redacted from "effect/Redacted"
import * as Scope from "effect/Scope"
import * as Net from "node:net"
import * as PgRateLimiter from "../src/PgRateLimiter.js"
import { freshUrl, store } from "./Db.js"
import { busiestWithin, countUpdates, limiter, measure, previousLimiter, stall, take } from "./Limiters.js"

const wasted = (account: string) =>
  Effect.map(Metric.value(Metric.tagged(PgRateLimiter.wastedSlots, "account", account)), (state) => state.count)

type Make = (
  url: Redacted.Redacted<string>,
  options: PgRateLimiter.Options
) => Effect.Effect<RateLimiter.Service, never, Scope.Scope>

/** `takers` fibers take `permits` permits at `perSecond` from one limiter of `make`: what it cost. */
const campaign = (
  make: Make,
  options: { readonly permits: number; readonly takers: number; readonly perSecond: number }
) =>
  Effect.gen(function*() {
    const url = yield* freshUrl("batch")
    const updates = yield* countUpdates(url)
    const account = `account-${Math.random().toString(36).slice(2)}`
    const l = yield* make(url, { account, perSecond: options.perSecond })
    const updatesBefore = yield* updates
    const wastedBefore = yield* wasted(account)
    const start = Date.now()
    const cpu = process.cpuUsage()
    const times = yield* take([l], { permits: options.permits, concurrency: options.takers })
    const elapsed = (Date.now() - start) / 1000
    const { system, user } = process.cpuUsage(cpu)
    return {
      times,
      elapsed,
      cpuMs: (user + system) / 1000,
      ...measure(times),
      updates: (yield* updates) - updatesBefore,
      wasted: (yield* wasted(account)) - wastedBefore
    }
  })

/** A loopback proxy to the database that can be cut (every connection dropped, new ones refused) and restored. */
const cuttableProxy = (url: Redacted.Redacted<string>) =>
  Effect.gen(function*() {
    const direct = new URL(Redacted.value(url))
    const port = Number(direct.port)
    const sockets = new Set<Net.Socket>()
    let cut = false
    const server = yield* Effect.acquireRelease(
      Effect.async<Net.Server>((resume) => {
        const server = Net.createServer((client) => {
          if (cut) return client.destroy()
          const upstream = Net.connect(port, "127.0.0.1")
          for (const socket of [client, upstream]) {
            sockets.add(socket)
            socket.on("close", () => sockets.delete(socket))
            socket.on("error", () => undefined)
          }
          client.pipe(upstream).pipe(client)
          client.on("close", () => upstream.destroy())
          upstream.on("close", () => client.destroy())
        })
        server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
      }),
      (server) => Effect.sync(() => server.close())
    )
    direct.port = String((server.address() as Net.AddressInfo).port)
    return {
      url: Redacted.make(direct.toString()),
      cut: Effect.sync(() => {
        cut = true
        for (const socket of sockets) socket.destroy()
      }),
      restore: Effect.sync(() => void (cut = false))
    }
  })

const orDie = <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.orDie(self)

describe("PgRateLimiter with many takers in one process", () => {
  it.scopedLive(
    "48 takers at 200/s: far fewer UPDATEs than permits (one per batch), never more than 200 in a second",
    () =>
      Effect.gen(function*() {
        const options = { permits: 1008, takers: 48, perSecond: 200 }
        // The previous limiter (one UPDATE a permit) in the same run, for the figures side by side.
        const before = yield* campaign((url, o) => orDie(previousLimiter(url, o)), options)
        const after = yield* campaign((url, o) => orDie(limiter(url, o)), options)
        for (const [name, r] of [["before (one UPDATE a permit)", before], ["after (batched)", after]] as const) {
          console.log(
            `PgRateLimiter ${name}: ${r.permits} permits by 48 takers at 200/s in ${r.elapsed.toFixed(2)} s = ${
              r.rate.toFixed(1)
            }/s; ${r.updates} UPDATEs = ${(r.updates / r.permits).toFixed(3)} a permit; ${r.wasted} slots wasted; ` +
              `busiest second ${r.busiest}; this process's CPU ${(r.cpuMs / r.permits).toFixed(2)} ms a permit`
          )
        }
        assert.strictEqual(after.permits, options.permits)
        assert.isAtMost(after.busiest, 200)
        assert.isAtMost(after.updates, options.permits / 8, "about one UPDATE a batch, not one a permit")
        assert.isAtLeast(after.rate, 170, "within 15 % of 200/s (the slots are 94.3 % of it)")
      }),
    { timeout: 60_000 }
  )

  it.scopedLive(
    "the event loop stalls 100 ms twice while permits are pending: the late ones book again, never bunch",
    () =>
      Effect.gen(function*() {
        const url = yield* freshUrl("stall")
        const account = "stall-account"
        const l = yield* orDie(limiter(url, { account, perSecond: 200 }))
        const wastedBefore = yield* wasted(account)
        // 48 takers hold about 250 ms of booked slots: a 100 ms stall passes ~19 of them.
        const stalls = yield* Effect.fork(
          Effect.sleep("1 second").pipe(Effect.zipRight(stall(100)), Effect.repeatN(1))
        )
        const times = yield* take([l], { permits: 720, concurrency: 48 })
        yield* Fiber.join(stalls)
        const { busiest, rate } = measure(times)
        const bunched = busiestWithin(times, 2)
        const late = (yield* wasted(account)) - wastedBefore
        console.log(
          `PgRateLimiter, 2 stalls of 100 ms at 200/s: ${times.length} permits, ${
            rate.toFixed(1)
          }/s, busiest second ${busiest}, ` +
            `most within 2 ms ${bunched}, ${late} slots wasted`
        )
        assert.strictEqual(times.length, 720)
        assert.isAtMost(busiest, 200)
        // A taker starts at most WAKE_LATE_MS after its slot: within 2 ms, the slots of 27 ms at most.
        const interval = (1000 / 200) * (1 + PgRateLimiter.SAFETY)
        assert.isAtMost(bunched, Math.ceil((PgRateLimiter.WAKE_LATE_MS + 2) / interval) + 1)
        assert.isAtLeast(late, 5, "the stalls made slots late: their takers booked again")
      }),
    { timeout: 60_000 }
  )

  it.scopedLive(
    "takers interrupted while they wait leave the others their permits, at the rate",
    () =>
      Effect.gen(function*() {
        const url = yield* freshUrl("interrupt")
        const l = yield* orDie(limiter(url, { account: "interrupt-account", perSecond: 50 }))
        const times: Array<number> = []
        // 8 takers that are interrupted after 500 ms: queued, in a booking, or asleep until their slot.
        const doomed = yield* Effect.forkAll(
          Array.from({ length: 8 }, () =>
            Effect.forever(Effect.zipRight(l.take, Effect.sync(() => times.push(Date.now())))))
        )
        const rest = yield* Effect.fork(take([l], { permits: 100, concurrency: 8 }))
        yield* Effect.sleep("500 millis")
        yield* Fiber.interrupt(doomed)
        const restTimes = yield* Fiber.join(rest)
        // And one more, alone, after them.
        yield* Effect.timeoutFail(l.take, {
          duration: "2 seconds",
          onTimeout: () =>
            new Error("no permit after")
        })
        const all = [...times, ...restTimes]
        const { busiest, rate } = measure(all)
        console.log(
          `PgRateLimiter, 8 of 16 takers interrupted: ${all.length} permits, ${
            rate.toFixed(1)
          }/s, busiest second ${busiest}`
        )
        assert.strictEqual(restTimes.length, 100)
        assert.isAtMost(busiest, 50)
        assert.isAtLeast(measure(restTimes).rate, 40, "the rest go on near 50/s")
      }),
    { timeout: 30_000 }
  )

  it.scopedLive(
    "closing the limiter's scope ends its booking: waiting takers are interrupted, no UPDATE after",
    () =>
      Effect.gen(function*() {
        const url = yield* freshUrl("close")
        const updates = yield* countUpdates(url)
        const scope = yield* Scope.make()
        const ctx = yield* orDie(
          Layer.buildWithScope(
            PgRateLimiter.layer({ account: "close-account", perSecond: 20 }).pipe(Layer.provide(store(url))),
            scope
          )
        )
        const l = Context.get(ctx, RateLimiterTag.RateLimiter)
        const takers = yield* Effect.fork(take([l], { permits: 1000, concurrency: 16 }))
        yield* Effect.sleep("500 millis")
        yield* Scope.close(scope, Exit.void)
        const exit = yield* Fiber.await(takers).pipe(Effect.timeout("2 seconds"), Effect.option)
        const atClose = yield* updates
        yield* Effect.sleep("500 millis")
        assert.isTrue(exit._tag === "Some" && Exit.isInterrupted(exit.value), "the waiting takers are interrupted")
        assert.strictEqual(yield* updates, atClose, "no booking after the scope closed")
      }),
    { timeout: 30_000 }
  )

  it.scopedLive(
    "a process of the previous version and one of this version on one row: ≤ 100 in every second together",
    () =>
      Effect.gen(function*() {
        const url = yield* freshUrl("mixed")
        const options = { account: "mixed-account", perSecond: 100 }
        const limiters = [yield* orDie(previousLimiter(url, options)), yield* orDie(limiter(url, options))]
        const start = Date.now()
        const times = yield* take(limiters, { permits: 150, concurrency: 8 })
        const elapsed = (Date.now() - start) / 1000
        const { busiest, rate } = measure(times)
        console.log(
          `PgRateLimiter, previous + current at 100/s: ${times.length} permits, ${
            rate.toFixed(1)
          }/s, busiest second ${busiest}`
        )
        assert.strictEqual(times.length, 300)
        assert.isAtMost(busiest, 100)
        assert.isAtLeast(elapsed, 2.7, "one budget: 300 permits at 100/s take ~3 s")
      }),
    { timeout: 30_000 }
  )
  it.scopedLive(
    "a lone taker at a low rate gets its permit after one round trip, not after a batch's wait",
    () =>
      Effect.gen(function*() {
        const url = yield* freshUrl("lone")
        const l = yield* orDie(limiter(url, { account: "lone-account", perSecond: 10 }))
        const durations: Array<number> = []
        for (let i = 0; i < 10; i++) {
          // Slower than the rate: its slot is free each time.
          yield* Effect.sleep("150 millis")
          const start = Date.now()
          yield* l.take
          durations.push(Date.now() - start)
        }
        const sorted = [...durations].sort((a, b) => a - b)
        console.log(`PgRateLimiter, a lone taker at 10/s: each take ${sorted.join(", ")} ms`)
        // A slot is 105 ms at 10/s: a take that waited for a slot, or for others to book with, takes that long.
        assert.isAtMost(sorted[5]!, 30, "the median take: a round trip and the lead (one more)")
      }),
    { timeout: 30_000 }
  )

  it.scopedLive(
    "the database unreachable for 1.5 s: the takers wait (no permit once the booked slots are used), then go on at the rate",
    () =>
      Effect.gen(function*() {
        const proxy = yield* cuttableProxy(yield* freshUrl("outage"))
        const l = yield* orDie(limiter(proxy.url, { account: "outage-account", perSecond: 100 }))
        const outage = yield* Effect.fork(
          Effect.sleep("1 second").pipe(
            Effect.zipRight(Effect.clockWith((clock) => clock.currentTimeMillis)),
            Effect.tap(() => proxy.cut),
            Effect.zipLeft(Effect.sleep("1500 millis")),
            Effect.tap(() => proxy.restore),
            Effect.map((cutAt) => [cutAt, cutAt + 1500] as const)
          )
        )
        const times = yield* take([l], { permits: 400, concurrency: 16, timeout: "20 seconds" })
        const [cutAt, restoredAt] = yield* Fiber.join(outage)
        // Slots booked before the cut (at most BATCH_MS of them, a round trip ahead) may still start.
        const during = times.filter((t) => t > cutAt + 400 && t < restoredAt).length
        const { busiest, rate } = measure(times)
        console.log(
          `PgRateLimiter, 1.5 s without the database at 100/s: ${times.length} permits, ${during} during the outage, ` +
            `${rate.toFixed(1)}/s, busiest second ${busiest}`
        )
        assert.strictEqual(times.length, 400, "every permit once the database is back")
        assert.strictEqual(during, 0, "no permit without the database")
        assert.isAtMost(busiest, 100)
      }),
    { timeout: 40_000 }
  )
  it.scopedLive(
    "3 processes of 16 takers each on one account at 200/s: ≤ 200 in every second together, few UPDATEs",
    () =>
      Effect.gen(function*() {
        const url = yield* freshUrl("three")
        const updates = yield* countUpdates(url)
        const options = { account: "three-account", perSecond: 200 }
        const limiters = yield* Effect.all(Array.from({ length: 3 }, () => orDie(limiter(url, options))))
        const before = yield* updates
        const times = yield* take(limiters, { permits: 300, concurrency: 16 })
        const n = (yield* updates) - before
        const { busiest, rate } = measure(times)
        console.log(
          `PgRateLimiter, 3 × 16 takers at 200/s: ${times.length} permits, ${rate.toFixed(1)}/s, busiest second ` +
            `${busiest}, ${n} UPDATEs = ${(n / times.length).toFixed(3)} a permit`
        )
        assert.strictEqual(times.length, 900)
        assert.isAtMost(busiest, 200)
        assert.isAtMost(n, times.length / 4, "a process's waiting takers share a booking")
        assert.isAtLeast(rate, 170)
      }),
    { timeout: 30_000 }
  )
})
