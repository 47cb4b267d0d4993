import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Scheduler from "../src/internal/scheduler.js"

// How many rounds a fiber that only yields gets through before a timer due at once (setTimeout 0) runs:
// the rounds the event loop waits for its turn while fibers are busy.
const roundsBeforeTimer = (run: (effect: Effect.Effect<never>) => Effect.Effect<never>) =>
  Effect.gen(function*() {
    let rounds = 0
    const busy = yield* Effect.fork(
      run(Effect.forever(Effect.zipRight(Effect.sync(() => rounds++), Effect.yieldNow())))
    )
    const atTimer = yield* Effect.promise(() => new Promise<number>((resolve) => setTimeout(() => resolve(rounds), 0)))
    yield* Fiber.interrupt(busy)
    return atTimer
  })

describe("esms's scheduler", () => {
  it.live("lets the event loop run its timers after a few rounds of fiber work, not after 2,048", () =>
    Effect.gen(function*() {
      const fair = yield* roundsBeforeTimer(Scheduler.fair).pipe(Scheduler.fair)
      const byDefault = yield* roundsBeforeTimer((effect) => effect)
      assert.isAtMost(fair, Scheduler.ROUNDS_BEFORE_EVENT_LOOP * 2, `${fair} rounds before the timer`)
      assert.isAtLeast(byDefault, 1000, `${byDefault} rounds before the timer on Effect's default`)
    }))
})
