/**
 * A whole-number option whose bad value is named with the option (`--rate must be a whole number (got
 * "abc")`): @effect/cli's `Options.integer` says only `'abc' is not a integer`, which does not tell the
 * operator which of several numbers was wrong.
 */
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as Options from "@effect/cli/Options"
import * as ValidationError from "@effect/cli/ValidationError"
import * as Effect from "effect/Effect"

export const wholeNumber = (name: string): Options.Options<number> =>
  Options.text(name).pipe(
    Options.withPseudoName("N"),
    Options.mapEffect((raw) => {
      const trimmed = raw.trim()
      return /^-?\d+$/.test(trimmed) && Number.isSafeInteger(Number(trimmed))
        ? Effect.succeed(Number(trimmed))
        : Effect.fail(
          ValidationError.invalidValue(HelpDoc.p(`--${name} must be a whole number (got ${JSON.stringify(raw)})`))
        )
    })
  )
