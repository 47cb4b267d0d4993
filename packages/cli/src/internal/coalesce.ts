/**
 * Concurrent writes of single items combined into one write of many: a store across the network
 * answers each statement in a round trip, so a worker's 16 concurrent sends writing their rows one
 * statement each cost 16 round trips (and their CPU) where one would do. One writer fiber takes what has
 * queued (up to `max`) while the previous write was on its way: a lone item is written at once, a busy
 * worker's items together. With a `linger`, the writer waits that long after an item for others to join
 * it (when fewer than `max` are queued): for writes off the critical path, where a few ms of wait are free
 * and a statement saved is not. Each caller waits for the write that holds its item, and gets its result.
 */
import * as Chunk from "effect/Chunk"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Queue from "effect/Queue"
import type * as Scope from "effect/Scope"

export const make = <A, E>(
  write: (items: ReadonlyArray<A>) => Effect.Effect<void, E>,
  max: number,
  linger: Duration.DurationInput = Duration.zero
): Effect.Effect<(item: A) => Effect.Effect<void, E>, never, Scope.Scope> =>
  Effect.gen(function*() {
    const limit = Math.max(1, max)
    const wait = Duration.decode(linger)
    const queue = yield* Effect.acquireRelease(
      Queue.unbounded<readonly [A, Deferred.Deferred<void, E>]>(),
      Queue.shutdown
    )
    // What has queued, up to `limit`; with a linger, what joins the first item within it as well.
    const next = Effect.gen(function*() {
      const first = yield* Queue.takeBetween(queue, 1, limit)
      if (Duration.isZero(wait) || first.length >= limit) return Chunk.toReadonlyArray(first)
      yield* Effect.sleep(wait)
      return Chunk.toReadonlyArray(Chunk.appendAll(first, yield* Queue.takeUpTo(queue, limit - first.length)))
    })
    const writeAll = (queued: ReadonlyArray<readonly [A, Deferred.Deferred<void, E>]>) =>
      Effect.flatMap(
        Effect.exit(write(queued.map(([item]) => item))),
        (exit) => Effect.forEach(queued, ([, done]) => Deferred.done(done, exit), { discard: true })
      )
    yield* next.pipe(Effect.flatMap(writeAll), Effect.forever, Effect.forkScoped)
    return (item: A) =>
      Effect.flatMap(
        Deferred.make<void, E>(),
        (done) => Effect.zipRight(Queue.offer(queue, [item, done]), Deferred.await(done))
      )
  })
