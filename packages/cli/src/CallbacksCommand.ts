/**
 * `esms callbacks serve`: receive eSMS delivery callbacks on this machine and store them, until
 * Ctrl-C. It prints the callback URL to give eSMS — with its secret token — once, on stdout, as an
 * `export ESMS_CALLBACK_URL=…` line that `send-image --callback` reads.
 *
 * @since 0.1.0
 */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import type * as HttpServerError from "@effect/platform/HttpServerError"
import { CallbackReceiver, CallbackToken } from "@esms-effect/callback-receiver"
import { DeliveryReport } from "@esms-effect/core"
import { DeliveryReports } from "@esms-effect/store"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as ExitStatus from "./ExitStatus.js"
import { wholeNumber } from "./internal/wholeNumberOption.js"
import * as Outcome from "./Outcome.js"
import * as StoreChoice from "./StoreChoice.js"
import * as TerminalText from "./TerminalText.js"

/**
 * The store option shared by `callbacks serve` and `status`: `--store`, else `ESMS_STORE`, else
 * `esms.sqlite` in the working directory. A `postgres://` URL is the PostgreSQL store (see StoreChoice).
 *
 * @since 0.1.0
 */
export const store = Options.text("store").pipe(
  Options.withDescription(
    `Where delivery reports are kept: a SQLite file (default: ESMS_STORE, else ${DeliveryReports.DEFAULT_FILE}), ` +
      "or a postgres://USER:PASSWORD@HOST:PORT/DB URL shared by several receivers (its password is never printed)."
  ),
  Options.withFallbackConfig(DeliveryReports.fileConfig)
)

const port = wholeNumber("port").pipe(
  Options.withDescription("The port to listen on (default 8098; 0 for a free one)."),
  Options.withDefault(8098)
)
const host = Options.text("host").pipe(
  Options.withDescription("The address to listen on (default 127.0.0.1; 0.0.0.0 to accept other machines)."),
  Options.withDefault("127.0.0.1")
)
const publicUrl = Options.text("public-url").pipe(
  Options.withDescription(
    "How eSMS reaches this receiver, e.g. https://hooks.example.vn behind a proxy or tunnel that forwards " +
      "the path unchanged (default: http://HOST:PORT)."
  ),
  Options.optional
)

/**
 * `ESMS_CALLBACK_URL`: the URL `esms callbacks serve` printed, token included (`Redacted`).
 *
 * @since 0.1.0
 */
export const callbackUrlConfig: Config.Config<Redacted.Redacted<string>> = Config.redacted("ESMS_CALLBACK_URL")

/**
 * The callback URL `--callback` stands for: `ESMS_CALLBACK_URL`; with `--callback-url` too, a usage error.
 *
 * @since 0.1.0
 */
export const resolveCallbackUrl = (
  callback: boolean,
  callbackUrl: Option.Option<string>
): Effect.Effect<string | undefined, ConfigError.ConfigError> =>
  !callback
    ? Effect.succeed(Option.getOrUndefined(callbackUrl))
    : Option.isSome(callbackUrl)
    ? Effect.fail(ConfigError.InvalidData(["--callback"], "cannot be combined with --callback-url: choose one"))
    : Effect.map(callbackUrlConfig, Redacted.value)

/**
 * What the operator sees on stderr once the receiver listens (the URL itself goes to stdout).
 *
 * @since 0.1.0
 */
export const banner = (listening: string, storeFile: string): string =>
  [
    `Callback receiver listening on ${listening}; reports are stored in ${storeFile}.`,
    "The line on stdout is the callback URL to give eSMS. It holds a secret token: keep it out of",
    "shared logs. Set ESMS_CALLBACK_TOKEN to keep the same URL across restarts. Each report stored prints",
    "one line here. Press Ctrl-C to stop."
  ].join("\n")

/**
 * The line `callbacks serve` prints (on stderr) for each report it stores: the fate and the ids, as
 * `esms status` shows them — never the token or a key, and without the control characters a caller
 * could put in a callback.
 *
 * @since 0.1.0
 */
export const reportLine = (report: DeliveryReport.DeliveryReport): string =>
  TerminalText.line(
    `callback received: ${DeliveryReport.describeFate(DeliveryReport.fate(report))} — SMSID ${report.smsId}` +
      (report.requestId === undefined ? "" : `, RequestId ${report.requestId}`)
  )

const checkPublicUrl = (raw: string): Effect.Effect<void, ConfigError.ConfigError> => {
  const url = URL.canParse(raw) ? new URL(raw) : undefined
  return url !== undefined && (url.protocol === "https:" || url.protocol === "http:") && url.search === "" &&
      url.hash === ""
    ? Effect.void
    : Effect.fail(
      ConfigError.InvalidData(["--public-url"], "must be an absolute http(s) URL without a query or fragment")
    )
}

/**
 * `--port` as a usage error when no port can have it (Node would throw on listen).
 *
 * @since 0.1.0
 */
export const checkPort = (port: number): Effect.Effect<void, ConfigError.ConfigError> =>
  Number.isInteger(port) && port >= 0 && port <= 65535
    ? Effect.void
    : Effect.fail(ConfigError.InvalidData(["--port"], `must be a whole number from 0 to 65535 (got ${port})`))

/**
 * How a server command (`callbacks serve`, `simulator`) reports what kept it from starting, as usage
 * errors (exit 2): a port in use or an address not on this machine, a bad setting.
 *
 * @since 0.1.0
 */
export const startFailures = (where: { readonly host: string; readonly port: number }, what: string) => ({
  ServeError: (error: HttpServerError.ServeError) =>
    Effect.zipRight(
      Console.error(`Could not listen on ${where.host}:${where.port}: ${String(error.cause)}`),
      ExitStatus.set(Outcome.ExitCode.invalid)
    ),
  ConfigError: (error: ConfigError.ConfigError) =>
    Effect.zipRight(
      Console.error(
        Outcome.render(Outcome.invalid(Outcome.configProblems(error))).text.replace(
          "nothing was sent",
          `${what} did not start`
        )
      ),
      ExitStatus.set(Outcome.ExitCode.invalid)
    )
})

const serve = Command.make("serve", { port, host, publicUrl, store }, (args) =>
  Effect.gen(function*() {
    // The port, the token and the public URL first: a usage error must not leave a new store file behind.
    yield* checkPort(args.port)
    const token = yield* CallbackToken.config
    if (Option.isSome(args.publicUrl)) yield* checkPublicUrl(args.publicUrl.value)
    // Opened for the life of the command's scope, as the server is.
    const reports = yield* Layer.build(StoreChoice.deliveryReports(StoreChoice.choose(args.store)))
    const receiver = yield* CallbackReceiver.serve({
      token,
      port: args.port,
      host: args.host,
      publicUrl: Option.getOrUndefined(args.publicUrl),
      onStored: (report) => Console.error(reportLine(report))
    }).pipe(Effect.provide(reports))
    const listening = `http://${receiver.host.includes(":") ? `[${receiver.host}]` : receiver.host}:${receiver.port}`
    yield* Console.error(banner(listening, StoreChoice.describe(StoreChoice.choose(args.store))))
    yield* Console.log(`export ESMS_CALLBACK_URL=${Redacted.value(receiver.url)}`)
    return yield* Effect.never
  }).pipe(
    Effect.scoped,
    Effect.catchTags({
      SqlError: (error) =>
        Effect.zipRight(
          Console.error(
            `Could not open the store ${StoreChoice.describe(StoreChoice.choose(args.store))}: ${
              String(error.cause ?? error.message)
            }`
          ),
          ExitStatus.set(Outcome.ExitCode.invalid)
        ),
      StoreUnavailable: (error) =>
        Effect.zipRight(
          Console.error(`Could not open the store ${error.url}: ${error.detail}`),
          ExitStatus.set(Outcome.ExitCode.invalid)
        ),
      ...startFailures(args, "the receiver")
    })
  )).pipe(
    Command.withDescription(
      "Receive eSMS delivery callbacks on a secret-token URL and store them (see esms status). Prints the URL " +
        "as `export ESMS_CALLBACK_URL=…` on stdout; runs until Ctrl-C."
    )
  )

/** @since 0.1.0 */
export const command = Command.make("callbacks").pipe(
  Command.withDescription("Delivery callbacks from eSMS."),
  Command.withSubcommands([serve])
)
