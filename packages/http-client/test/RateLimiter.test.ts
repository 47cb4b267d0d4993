import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as TestClock from "effect/TestClock"
import * as RateLimiter from "../src/RateLimiter.js"

describe("RateLimiter (in-process)", () => {
  it.effect("permits shared by concurrent fibers are spaced 1000 / perSecond ms apart, on the Clock", () =>
    Effect.gen(function*() {
      const limiter = yield* RateLimiter.RateLimiter
      const granted: Array<number> = []
      const fiber = yield* Effect.fork(
        Effect.forEach(
          Array.from({ length: 6 }),
          () => Effect.zipRight(limiter.take, Effect.sync(() => void granted.push(granted.length))),
          {
            concurrency: "unbounded"
          }
        )
      )
      yield* TestClock.adjust("250 millis")
      assert.strictEqual(granted.length, 3, "at 0, 100 and 200 ms")
      yield* TestClock.adjust("300 millis")
      yield* Fiber.join(fiber)
      assert.strictEqual(granted.length, 6)
    }).pipe(Effect.provide(RateLimiter.layer({ perSecond: 10 }))))
})
