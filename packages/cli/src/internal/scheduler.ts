/**
 * The scheduler `esms` runs its fibers on. Effect's default runs up to 2,048 rounds of fiber work as
 * microtasks before it lets the event loop run its timers and read its sockets. A busy `send-batch`
 * (hundreds of fibers, cold code in its first seconds) then woke its rate-limit takers late, and a taker
 * that wakes more than 25 ms after its slot gives the slot up (issue 15's bench: 30-50 slots a second in
 * a worker's first seconds); answers waited in the sockets as long. This one lets the event loop in after
 * 32 rounds. In 9 interleaved pairs of `bench:campaign` runs (two sittings, the VM loaded) the campaign's
 * rate was higher with it in 7, by 4.8/s and 0.8/s on average in the two sittings; a CPU-bound batch was
 * as fast either way.
 */
import * as Effect from "effect/Effect"
import * as Scheduler from "effect/Scheduler"

/** Rounds of fiber work between two turns of the event loop. */
export const ROUNDS_BEFORE_EVENT_LOOP = 32

export const scheduler: Scheduler.Scheduler = new Scheduler.MixedScheduler(ROUNDS_BEFORE_EVENT_LOOP)

/** `effect` and every fiber it forks on {@link scheduler}. */
export const fair = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.withScheduler(effect, scheduler)
