/**
 * Concurrent single writes combined into one write of many (the campaign's store writes).
 */
import { assert, describe, it } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Coalesce from "../src/internal/coalesce.js"

// A writer whose first write waits for `gate`: what queues meanwhile shows how the next writes group.
const gatedWriter = (max: number, fails: (items: ReadonlyArray<number>) => boolean = () => false) =>
  Effect.gen(function*() {
    const writes: Array<ReadonlyArray<number>> = []
    const gate = yield* Deferred.make<void>()
    const write = yield* Coalesce.make((items: ReadonlyArray<number>) =>
      Effect.suspend(() => {
        writes.push(items)
        const wait = writes.length === 1 ? Deferred.await(gate) : Effect.void
        return Effect.zipRight(wait, fails(items) ? Effect.fail(`lost ${items.join(",")}`) : Effect.void)
      }), max)
    return { writes, gate, write }
  })

describe("coalesce", () => {
  it.scopedLive("items queued while a write is on its way go together in the next; a lone item at once", () =>
    Effect.gen(function*() {
      const { gate, write, writes } = yield* gatedWriter(3)
      const first = yield* Effect.fork(write(1))
      yield* Effect.sleep("20 millis")
      assert.deepStrictEqual(writes, [[1]], "a lone item is written at once")
      const others = yield* Effect.forEach([2, 3, 4, 5], (i) => Effect.fork(write(i)))
      yield* Effect.sleep("20 millis")
      assert.isTrue(Option.isNone(yield* Fiber.poll(first)), "its caller waits for the write")
      yield* Deferred.succeed(gate, undefined)
      yield* Fiber.join(first)
      yield* Fiber.joinAll(others)
      assert.deepStrictEqual(writes, [[1], [2, 3, 4], [5]], "at most 3 at a time, in order")
    }))

  it.scopedLive("a failed write fails each caller whose item it held, and only those", () =>
    Effect.gen(function*() {
      const { gate, write } = yield* gatedWriter(10, (items) => items.includes(2))
      const first = yield* Effect.fork(Effect.exit(write(1)))
      yield* Effect.sleep("20 millis")
      const others = yield* Effect.forEach([2, 3], (i) => Effect.fork(Effect.exit(write(i))))
      yield* Effect.sleep("20 millis")
      yield* Deferred.succeed(gate, undefined)
      assert.isTrue(Exit.isSuccess(yield* Fiber.join(first)))
      const [two, three] = yield* Effect.forEach(others, Fiber.join)
      assert.deepStrictEqual(two, Exit.fail("lost 2,3"))
      assert.deepStrictEqual(three, Exit.fail("lost 2,3"))
      assert.isTrue(Exit.isSuccess(yield* Effect.exit(write(4))), "the writer goes on after a failure")
    }))
})
