/**
 * The simulator's debug lines, built only when the fiber's minimum log level lets them through (the
 * same test `Effect.logDebug` makes): a request at the default level pays for no message, no
 * annotations and no log span.
 */
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import * as LogLevel from "effect/LogLevel"

export const debug = (message: string, annotations: () => Record<string, unknown>): Effect.Effect<void> =>
  Effect.flatMap(
    FiberRef.get(FiberRef.currentMinimumLogLevel),
    (minimum) =>
      LogLevel.greaterThan(minimum, LogLevel.Debug)
        ? Effect.void
        : Effect.annotateLogs(Effect.logDebug(message), annotations())
  )
