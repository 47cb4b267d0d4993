/**
 * Options that override `ESMS_*` variables for one run: `--oaid`, `--base-url`, `--timeout`,
 * `--deadline`, `--max-attempts`. They
 * are laid over the environment as a config provider, so the library reads one configuration.
 * Secrets have no option on purpose: shell history and `ps` would show them.
 *
 * @since 0.1.0
 */
import * as Options from "@effect/cli/Options"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"

/** @since 0.1.0 */
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
  maxAttempts: Options.integer("max-attempts").pipe(
    Options.withDescription("Attempts per send, 1 for no retry (default: ESMS_MAX_ATTEMPTS, 5)."),
    Options.optional
  ),
  json: Options.boolean("json").pipe(
    Options.withDescription("Print exactly one JSON object on stdout instead of a human line.")
  )
}

/** @since 0.1.0 */
export interface Values {
  readonly oaid: Option.Option<string>
  readonly baseUrl: Option.Option<string>
  readonly timeout: Option.Option<string>
  readonly deadline: Option.Option<string>
  readonly maxAttempts: Option.Option<number>
}

/**
 * Runs `effect` with the given options laid over the current configuration.
 *
 * @since 0.1.0
 */
export const apply = (values: Values) => <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> => {
  const entries = [
    ["ESMS_OAID", values.oaid],
    ["ESMS_BASE_URL", values.baseUrl],
    ["ESMS_TIMEOUT", values.timeout],
    ["ESMS_DEADLINE", values.deadline],
    ["ESMS_MAX_ATTEMPTS", Option.map(values.maxAttempts, String)]
  ] as const
  const given = new Map(entries.flatMap(([key, value]) => Option.isSome(value) ? [[key, value.value]] : []))
  return given.size === 0 ?
    effect :
    Effect.configProviderWith((current) =>
      Effect.withConfigProvider(effect, ConfigProvider.fromMap(given).pipe(ConfigProvider.orElse(() => current)))
    )
}
