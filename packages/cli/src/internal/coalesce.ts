/**
 * Concurrent writes of single items combined into one write of many: a store across the network
 * answers each statement in a round trip, so a worker's 16 concurrent sends writing their rows one
 * statement each cost 16 round trips (and their CPU) where one would do. One writer fiber takes what has
 * queued (up to `max`) while the previous write was on its way: a lone item is written at once, a busy
 * worker's items together. Each caller waits for the write that holds its item, and gets its result.
 */
import * as Chunk from "effect/Chunk"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Queue from "effect/Queue"
import type * as Scope from "effect/Scope"

export const make = <A, E>(
  write: (items: ReadonlyArray<A>) => Effect.Effect<void, E>,
  max: number
): Effect.Effect<(item: A) => Effect.Effect<void, E>, never, Scope.Scope> =>
  Effect.gen(function*() {
    const queue = yield* Effect.acquireRelease(
      Queue.unbounded<readonly [A, Deferred.Deferred<void, E>]>(),
      Queue.shutdown
    )
    yield* Queue.takeBetween(queue, 1, Math.max(1, max)).pipe(
      Effect.flatMap((chunk) => {
        const queued = Chunk.toReadonlyArray(chunk)
        return Effect.flatMap(
          Effect.exit(write(queued.map(([item]) => item))),
          (exit) => Effect.forEach(queued, ([, done]) => Deferred.done(done, exit), { discard: true })
        )
      }),
      Effect.forever,
      Effect.forkScoped
    )
    return (item: A) =>
      Effect.flatMap(
        Deferred.make<void, E>(),
        (done) => Effect.zipRight(Queue.offer(queue, [item, done]), Deferred.await(done))
      )
  })
