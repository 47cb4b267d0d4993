/**
 * A Console test double that records what a command printed, line by line.
 */
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"

export interface Captured {
  readonly stdout: Array<string>
  readonly stderr: Array<string>
}

const text = (args: ReadonlyArray<unknown>) => args.map(String).join(" ")

export const make = (): { readonly console: Console.Console; readonly captured: Captured } => {
  const captured: Captured = { stdout: [], stderr: [] }
  const out = (...args: ReadonlyArray<unknown>) => {
    captured.stdout.push(text(args))
  }
  const err = (...args: ReadonlyArray<unknown>) => {
    captured.stderr.push(text(args))
  }
  const noop = () => {}
  const unsafe: Console.UnsafeConsole = {
    assert: noop,
    clear: noop,
    count: noop,
    countReset: noop,
    debug: err,
    dir: out,
    dirxml: out,
    error: err,
    group: noop,
    groupCollapsed: noop,
    groupEnd: noop,
    info: out,
    log: out,
    table: out,
    time: noop,
    timeEnd: noop,
    timeLog: noop,
    trace: err,
    warn: err
  }
  const lift = <A extends Array<any>>(f: (...args: A) => void) => (...args: A) => Effect.sync(() => f(...args))
  const console: Console.Console = {
    [Console.TypeId]: Console.TypeId,
    unsafe,
    assert: lift(unsafe.assert),
    clear: Effect.void,
    count: lift(unsafe.count),
    countReset: lift(unsafe.countReset),
    debug: lift(unsafe.debug),
    dir: lift(unsafe.dir),
    dirxml: lift(unsafe.dirxml),
    error: lift(unsafe.error),
    group: lift(noop),
    groupEnd: Effect.void,
    info: lift(unsafe.info),
    log: lift(unsafe.log),
    table: lift(unsafe.table),
    time: lift(unsafe.time),
    timeEnd: lift(unsafe.timeEnd),
    timeLog: lift(unsafe.timeLog),
    trace: lift(unsafe.trace),
    warn: lift(unsafe.warn)
  } as Console.Console
  return { console, captured }
}
