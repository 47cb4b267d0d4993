/**
 * Options that override `ESMS_*` variables for one run: `--oaid`, `--base-url`, `--timeout`,
 * `--deadline`, `--max-attempts`. They
 * are laid over the environment as a config provider, so the library reads one configuration.
 * Secrets have no option on purpose: shell history and `ps` would show them.
 *
 * @since 0.1.0
 */
import * as Options from "@effect/cli/Options"
import * as ConfigError from "effect/ConfigError"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"

/** @since 0.1.0 @category options */
export const options = {
  oaid: Options.text("oaid").pipe(
    Options.withDescription("The Zalo OA id to send from (default: ESMS_OAID)."),
    Options.optional
  ),
  baseUrl: Options.text("base-url").pipe(
    Options.withDescription(
      "The eSMS API base URL (default: ESMS_BASE_URL, else https://rest.esms.vn/MainService.svc/json)."
    ),
    Options.optional
  ),
  timeout: Options.text("timeout").pipe(
    Options.withDescription(
      "Time allowed for one attempt, in seconds or as \"500 millis\" (default: ESMS_TIMEOUT, 15)."
    ),
    Options.optional
  ),
  deadline: Options.text("deadline").pipe(
    Options.withDescription("Time allowed for the whole send, retries included (default: ESMS_DEADLINE, 60)."),
    Options.optional
  ),
  // Text, checked with the variable's rule: @effect/cli's own integer check names no option.
  maxAttempts: Options.text("max-attempts").pipe(
    Options.withPseudoName("integer"),
    Options.withDescription("Attempts per send, 1 for no retry (default: ESMS_MAX_ATTEMPTS, 5)."),
    Options.optional
  ),
  json: Options.boolean("json").pipe(
    Options.withDescription("Print exactly one JSON object on stdout instead of a human line.")
  )
}

/** @since 0.1.0 @category models */
export interface Values {
  readonly oaid: Option.Option<string>
  readonly baseUrl: Option.Option<string>
  readonly timeout: Option.Option<string>
  readonly deadline: Option.Option<string>
  readonly maxAttempts: Option.Option<string>
}

// Each override: the variable it stands for, the flag the operator types, and its value in `Values`.
const overrides = [
  ["ESMS_OAID", "--oaid", (values: Values) => values.oaid],
  ["ESMS_BASE_URL", "--base-url", (values: Values) => values.baseUrl],
  ["ESMS_TIMEOUT", "--timeout", (values: Values) => values.timeout],
  ["ESMS_DEADLINE", "--deadline", (values: Values) => values.deadline],
  ["ESMS_MAX_ATTEMPTS", "--max-attempts", (values: Values) => values.maxAttempts]
] as const

// A field of the client's own checks (`InvalidConfiguration`) and the variable it is read from.
const variableOfField: Record<string, string> = { baseUrl: "ESMS_BASE_URL", oaid: "ESMS_OAID" }

/**
 * Names a configuration field as the operator gave it: the flag when the value came from one
 * (`--timeout`), else the variable (`ESMS_TIMEOUT`). Other fields pass through unchanged.
 *
 * @since 0.1.0
 * @category naming
 */
export const fieldName = (values: Values) => (field: string): string => {
  const variable = variableOfField[field] ?? field
  const override = overrides.find(([key]) => key === variable)
  return override === undefined ? field : Option.isSome(override[2](values)) ? override[1] : variable
}

/**
 * Runs `effect` with the given options laid over the current configuration. An option given empty
 * (`--oaid ""`) is refused rather than let the environment's value stand in for it.
 *
 * @since 0.1.0
 * @category combinators
 */
export const apply =
  (values: Values) => <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | ConfigError.ConfigError, R> => {
    const given = new Map(
      overrides.flatMap(([key, , value]) => Option.toArray(Option.map(value(values), (v) => [key, v])))
    )
    const problems = [...given].flatMap(([key, value]) =>
      value.trim() === ""
        ? [ConfigError.InvalidData([key], "must not be empty")]
        : key === "ESMS_MAX_ATTEMPTS" && !/^\s*\d+\s*$/.test(value)
        ? [ConfigError.InvalidData([key], `must be a whole number (got "${value}")`)]
        : []
    )
    if (problems.length > 0) return Effect.fail(problems.reduce(ConfigError.And))
    return given.size === 0 ?
      effect :
      Effect.configProviderWith((current) =>
        Effect.withConfigProvider(effect, ConfigProvider.fromMap(given).pipe(ConfigProvider.orElse(() => current)))
      )
  }
