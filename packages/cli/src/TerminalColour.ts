/**
 * Whether `esms` writes colour codes, per stream, by the usual conventions: `FORCE_COLOR` (as Node
 * reads it: "", 1, 2, 3 or true force colour, any other value turns it off) wins; else `NO_COLOR`
 * (set and not empty) or `TERM=dumb` turn it off; else colour only on a terminal. @effect/cli styles
 * its help and errors unconditionally: a Console that strips the codes where colour is off fixes that.
 *
 * @since 0.1.0
 */
import type * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { stripVTControlCharacters } from "node:util"

/** @since 0.1.0 @category models */
export interface Streams {
  readonly stdout: boolean
  readonly stderr: boolean
}

const FORCING = new Set(["", "1", "2", "3", "true"])

/**
 * Whether a stream gets colour.
 *
 * @since 0.1.0
 * @category colour
 */
export const enabled = (
  stream: { readonly isTTY?: boolean | undefined },
  env: Readonly<Record<string, string | undefined>>
): boolean => {
  const force = env.FORCE_COLOR
  if (force !== undefined) return FORCING.has(force.toLowerCase())
  if ((env.NO_COLOR ?? "") !== "" || env.TERM === "dumb") return false
  return stream.isTTY === true
}

/**
 * Colour for this process's stdout and stderr.
 *
 * @since 0.1.0
 * @category colour
 */
export const ofProcess = (): Streams => ({
  stdout: enabled(process.stdout, process.env),
  stderr: enabled(process.stderr, process.env)
})

const plain = (args: ReadonlyArray<unknown>): Array<unknown> =>
  args.map((arg) => typeof arg === "string" ? stripVTControlCharacters(arg) : arg)

/**
 * Runs `effect` with a Console that strips colour codes from what goes to a stream without colour
 * (log, info and debug go to stdout; error, warn and trace to stderr, as Node's console does).
 *
 * @since 0.1.0
 * @category colour
 */
export const apply = (streams: Streams) => <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  streams.stdout && streams.stderr ? effect : Effect.consoleWith((current) => {
    const out = (write: (...args: ReadonlyArray<unknown>) => Effect.Effect<void>) =>
      streams.stdout ? write : (...args: ReadonlyArray<unknown>) => write(...plain(args))
    const err = (write: (...args: ReadonlyArray<unknown>) => Effect.Effect<void>) =>
      streams.stderr ? write : (...args: ReadonlyArray<unknown>) => write(...plain(args))
    const unsafe = current.unsafe
    const console: Console.Console = {
      ...current,
      log: out(current.log.bind(current)),
      info: out(current.info.bind(current)),
      debug: out(current.debug.bind(current)),
      error: err(current.error.bind(current)),
      warn: err(current.warn.bind(current)),
      trace: err(current.trace.bind(current)),
      unsafe: {
        ...unsafe,
        log: (...args) => unsafe.log(...(streams.stdout ? args : plain(args))),
        info: (...args) => unsafe.info(...(streams.stdout ? args : plain(args))),
        debug: (...args) => unsafe.debug(...(streams.stdout ? args : plain(args))),
        error: (...args) => unsafe.error(...(streams.stderr ? args : plain(args))),
        warn: (...args) => unsafe.warn(...(streams.stderr ? args : plain(args))),
        trace: (...args) => unsafe.trace(...(streams.stderr ? args : plain(args)))
      }
    }
    return Effect.withConsole(effect, console)
  })
