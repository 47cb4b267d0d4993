/**
 * The progress of `esms zalo send-batch`: a bar on a terminal, a plain line every few seconds otherwise
 * (logs, CI, pipes); nothing with `--json`'s bar. Read from the run's tally; time from `Clock`.
 *
 * @since 0.1.0
 */
import { SingleBar } from "cli-progress"
import * as Clock from "effect/Clock"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Ref from "effect/Ref"
import * as Schedule from "effect/Schedule"
import * as BatchTally from "./BatchTally.js"

/**
 * A running display.
 *
 * @since 0.1.0
 * @category models
 */
export interface Display {
  /** A row was settled. */
  readonly tick: Effect.Effect<void>
  /** The display ends (idempotent). */
  readonly stop: Effect.Effect<void>
}

/** How often the plain progress line is printed. @since 0.1.0 @category constants */
export const LINE_EVERY = "2 seconds"

/**
 * The plain progress line of a tally, `elapsedMillis` into the run.
 *
 * @since 0.1.0
 * @category formatting
 */
export const line = (tally: BatchTally.Tally, elapsedMillis: number): string => {
  const left = BatchTally.etaSeconds(tally, elapsedMillis)
  return `progress: ${tally.done}/${BatchTally.plural(tally.rows, "row")}, accepted ${BatchTally.acceptedAll(tally)}` +
    `, rejected ${BatchTally.total(tally.rejected)}, failed ${BatchTally.total(tally.failed)}, ${
      BatchTally.ratePerSecond(tally, elapsedMillis).toFixed(1)
    }/s` +
    (left === undefined ? "" : `, ETA ${left}s`)
}

/**
 * Starts the display of a run's tally: the bar when stdout and stderr are terminals (and no `--json`),
 * else the line on stderr every {@link LINE_EVERY}.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (tally: Ref.Ref<BatchTally.Tally>, json: boolean): Effect.Effect<Display> =>
  Effect.gen(function*() {
    const started = yield* Clock.currentTimeMillis
    const elapsed = Effect.map(Clock.currentTimeMillis, (now) => now - started)
    if (process.stdout.isTTY && process.stderr.isTTY && !json) {
      const bar = new SingleBar({
        format: "{bar} {value}/{total} rows | accepted {accepted} | rejected {rejected} | failed {failed} | " +
          "{rate}/s | ETA {eta}",
        hideCursor: true,
        clearOnComplete: true,
        etaBuffer: 200
      })
      const payload = (t: BatchTally.Tally, millis: number) => {
        const eta = BatchTally.etaSeconds(t, millis)
        return {
          accepted: BatchTally.acceptedAll(t),
          rejected: BatchTally.total(t.rejected),
          failed: BatchTally.total(t.failed),
          rate: BatchTally.ratePerSecond(t, millis).toFixed(1),
          eta: eta === undefined ? "-" : `${eta}s`
        }
      }
      const first = yield* Ref.get(tally)
      bar.start(first.rows, first.done, payload(first, 0))
      return {
        tick: Effect.zipWith(Ref.get(tally), elapsed, (t, millis) => bar.update(t.done, payload(t, millis))),
        stop: yield* Effect.once(Effect.sync(() => bar.stop()))
      }
    }
    const print = Effect.zipWith(Ref.get(tally), elapsed, line).pipe(Effect.flatMap(Console.error))
    const fiber = yield* Effect.forkDaemon(Effect.repeat(Effect.delay(print, LINE_EVERY), Schedule.forever))
    return { tick: Effect.void, stop: Fiber.interrupt(fiber) }
  })
