import { describe, expect, it } from "@effect/vitest"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as TerminalColour from "../src/TerminalColour.js"
import * as TestConsole from "./TestConsole.js"

const tty = { isTTY: true }
const pipe = { isTTY: false }

describe("TerminalColour.enabled", () => {
  it("a terminal gets colour, a pipe or a file does not", () => {
    expect(TerminalColour.enabled(tty, {})).toBe(true)
    expect(TerminalColour.enabled(pipe, {})).toBe(false)
    expect(TerminalColour.enabled({}, {})).toBe(false)
  })

  it("NO_COLOR (set, not empty) and TERM=dumb turn it off on a terminal", () => {
    expect(TerminalColour.enabled(tty, { NO_COLOR: "1" })).toBe(false)
    expect(TerminalColour.enabled(tty, { NO_COLOR: "" })).toBe(true)
    expect(TerminalColour.enabled(tty, { TERM: "dumb" })).toBe(false)
  })

  it("FORCE_COLOR wins either way, as Node reads it", () => {
    for (const value of ["", "1", "2", "3", "true"]) {
      expect(TerminalColour.enabled(pipe, { FORCE_COLOR: value, NO_COLOR: "1" })).toBe(true)
    }
    for (const value of ["0", "false", "no"]) expect(TerminalColour.enabled(tty, { FORCE_COLOR: value })).toBe(false)
  })
})

describe("TerminalColour.apply", () => {
  it.effect("strips colour codes from the stream without colour only", () =>
    Effect.gen(function*() {
      const { captured, console } = TestConsole.make()
      yield* Effect.all([Console.log("\u001b[1mhelp\u001b[0m"), Console.error("\u001b[31merror\u001b[0m")]).pipe(
        TerminalColour.apply({ stdout: false, stderr: true }),
        Effect.withConsole(console)
      )
      expect(captured.stdout).toEqual(["help"])
      expect(captured.stderr).toEqual(["\u001b[31merror\u001b[0m"])
    }))
})
