/**
 * sendMany's concurrent map: the contract of `Stream.mapEffect(f, { concurrency, unordered: true })`.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import { mapUnordered } from "../src/internal/mapUnordered.js"

describe("mapUnordered", () => {
  it.effect("every element once, in completion order, never more than `concurrency` at once", () =>
    Effect.gen(function*() {
      let running = 0
      let most = 0
      const fiber = yield* mapUnordered(Stream.range(1, 10), 3, (i) =>
        Effect.gen(function*() {
          running++
          most = Math.max(most, running)
          // 1 takes longest: it finishes after the ones started with it.
          yield* Effect.sleep(i === 1 ? "350 millis" : "100 millis")
          running--
          return i
        })).pipe(Stream.runCollect, Effect.map(Chunk.toReadonlyArray), Effect.fork)
      yield* TestClock.adjust("2 seconds")
      const out = yield* Fiber.join(fiber)
      assert.deepStrictEqual([...out].sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
      assert.notStrictEqual(out[0], 1, "unordered: the slow first element does not hold the others")
      assert.strictEqual(most, 3)
    }))

  it.effect("a failure of f fails the stream and interrupts the elements in flight", () =>
    Effect.gen(function*() {
      const interrupted: Array<number> = []
      const exit = yield* mapUnordered(Stream.range(1, 5), 5, (i) =>
        i === 3
          ? Effect.fail(`bad ${i}`)
          : Effect.onInterrupt(Effect.never, () => Effect.sync(() => void interrupted.push(i)))).pipe(
          Stream.runDrain,
          Effect.exit
        )
      assert.deepStrictEqual(exit, Exit.fail("bad 3"))
      assert.deepStrictEqual(interrupted.sort(), [1, 2, 4, 5])
    }))

  it.effect("a failure of the input fails the stream after the elements before it", () =>
    Effect.gen(function*() {
      const input = Stream.concat(Stream.make(1, 2), Stream.fail("input broke"))
      const seen: Array<number> = []
      const exit = yield* mapUnordered(input, 2, (i) => Effect.sync(() => void seen.push(i))).pipe(
        Stream.runDrain,
        Effect.exit
      )
      assert.deepStrictEqual(exit, Exit.fail("input broke"))
      assert.deepStrictEqual(seen, [1, 2])
    }))

  it.effect("interrupting the consumer interrupts what is in flight; nothing runs after", () =>
    Effect.gen(function*() {
      const started: Array<number> = []
      const cut = yield* Deferred.make<void>()
      const fiber = yield* mapUnordered(Stream.range(1, 100), 2, (i) =>
        Effect.zipRight(
          Effect.sync(() => void started.push(i)),
          Effect.onInterrupt(Effect.never, () => Deferred.succeed(cut, undefined))
        )).pipe(
          Stream.runDrain,
          Effect.fork
        )
      yield* TestClock.adjust("10 millis")
      yield* Fiber.interrupt(fiber)
      assert.isTrue(yield* Deferred.isDone(cut))
      assert.deepStrictEqual(started, [1, 2])
    }))
})
