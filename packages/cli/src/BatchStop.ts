/**
 * Ctrl-C (or SIGTERM) during the sending pass of `esms zalo send-batch`: no new row is taken and no new
 * send starts; the sends in flight get {@link STOP_GRACE} to finish, then are cut (they stay
 * `in_flight` in the journal: the next run asks eSMS again with the same RequestId).
 *
 * @since 0.1.0
 */
import * as Console from "effect/Console"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as HashSet from "effect/HashSet"
import * as Ref from "effect/Ref"
import * as Schedule from "effect/Schedule"
import { plural } from "./BatchTally.js"

/**
 * How long in-flight sends may take to finish after Ctrl-C before they are cut.
 *
 * @since 0.1.0
 * @category constants
 */
export const STOP_GRACE: Duration.Duration = Duration.seconds(10)

/**
 * The stop signal of a run and the sends it is waiting for.
 *
 * @since 0.1.0
 * @category models
 */
export interface Stop {
  /** Done at Ctrl-C: no row is taken after it, and no row waiting for the pacer starts its send. */
  readonly signal: Deferred.Deferred<void>
  /** The rows journaled in_flight that wait for their permit: their request has not gone. */
  readonly waiting: Ref.Ref<HashSet.HashSet<number>>
  /** The rows whose request went (or is going) and whose outcome is not recorded yet. */
  readonly started: Ref.Ref<HashSet.HashSet<number>>
}

/** @since 0.1.0 @category constructors */
export const make: Effect.Effect<Stop> = Effect.map(
  Effect.all([Deferred.make<void>(), Ref.make(HashSet.empty<number>()), Ref.make(HashSet.empty<number>())]),
  ([signal, waiting, started]) => ({ signal, waiting, started })
)

/** Whether Ctrl-C came. @since 0.1.0 @category getters */
export const isStopping = (stop: Stop): Effect.Effect<boolean> => Deferred.isDone(stop.signal)

/**
 * Before a row is journaled in_flight and waits for its permit: until {@link starting}, a stop hands it
 * back unsent (`onStopped`'s `unstarted`).
 *
 * @since 0.2.0
 * @category combinators
 */
export const waiting = (stop: Stop, line: number): Effect.Effect<void> => Ref.update(stop.waiting, HashSet.add(line))

/**
 * Right before a row's request, its permit taken: it counts as in flight, or, once Ctrl-C came, it never
 * starts (it waits to be cut, and is handed back as unstarted).
 *
 * @since 0.1.0
 * @category combinators
 */
export const starting = (stop: Stop, line: number): Effect.Effect<void> =>
  Effect.flatMap(
    isStopping(stop),
    (stopping) =>
      stopping
        ? Effect.never
        : Effect.zipRight(Ref.update(stop.waiting, HashSet.remove(line)), Ref.update(stop.started, HashSet.add(line)))
  )

/**
 * A row's outcome is recorded: no longer in flight (a row reaches its outcome through {@link starting},
 * which took it out of `waiting`).
 *
 * @since 0.1.0
 * @category combinators
 */
export const settled = (stop: Stop, line: number): Effect.Effect<void> => Ref.update(stop.started, HashSet.remove(line))

const inFlight = (stop: Stop) => Effect.map(Ref.get(stop.started), HashSet.size)

/**
 * Runs the sending pass so that Ctrl-C (the interruption of this fiber) does not cut the sends in flight
 * at once: `onStopping` first (the progress bar goes), then at most {@link STOP_GRACE} for the sends in
 * flight, then the pass is cut and `onStopped` told how many sends were cut, and which rows were
 * journaled but never sent (they waited for their permit): the ledger's to hand back.
 *
 * @since 0.1.0
 * @category running
 */
export const run = <E, R, R2>(
  pass: Effect.Effect<void, E, R>,
  stop: Stop,
  hooks: {
    readonly onStopping: Effect.Effect<void>
    readonly onStopped: (cut: number, unstarted: ReadonlyArray<number>) => Effect.Effect<void, never, R2>
  }
): Effect.Effect<void, E, R | R2> =>
  Effect.gen(function*() {
    const stopNow = (fiber: Fiber.RuntimeFiber<void, E>) =>
      Effect.gen(function*() {
        yield* Deferred.succeed(stop.signal, undefined)
        yield* hooks.onStopping
        const waiting = yield* inFlight(stop)
        yield* Console.error(
          waiting === 0
            ? "Stopping…"
            : `Stopping… waiting for ${plural(waiting, "send")} in flight (at most ${
              Duration.format(STOP_GRACE)
            }); no new row is sent.`
        )
        const idle = inFlight(stop).pipe(
          Effect.repeat({ until: (n) => n === 0, schedule: Schedule.spaced("20 millis") })
        )
        // Interruptible, so that the grace's timeout can end the wait (this runs as a finalizer).
        yield* Effect.interruptible(Effect.raceFirst(idle, Fiber.await(fiber))).pipe(
          Effect.timeout(STOP_GRACE),
          Effect.ignore
        )
        yield* Fiber.interrupt(fiber)
        const unstarted = Array.from(yield* Ref.get(stop.waiting)).sort((a, b) => a - b)
        yield* hooks.onStopped(yield* inFlight(stop), unstarted)
      })
    // A daemon, so that Ctrl-C (the interruption of this fiber) does not cut the sends in flight at once.
    const fiber = yield* Effect.forkDaemon(pass)
    yield* Effect.flatten(Fiber.await(fiber)).pipe(
      Effect.onInterrupt(() => stopNow(fiber))
    )
  })
