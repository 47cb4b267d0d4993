/**
 * `esms simulator`: the eSMS simulator on this machine, with a test account, until Ctrl-C.
 *
 * @since 0.1.0
 */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import { Images, Simulator } from "@esms-effect/simulator"
import * as ConfigError from "effect/ConfigError"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as CallbacksCommand from "./CallbacksCommand.js"
import { wholeNumber } from "./internal/wholeNumberOption.js"

const port = wholeNumber("port").pipe(
  Options.withDescription("The port to listen on (default: a free one)."),
  Options.withDefault(0)
)
const host = Options.text("host").pipe(
  Options.withDescription("The address to listen on (default 127.0.0.1: only this machine)."),
  Options.withDefault("127.0.0.1")
)
const tps = wholeNumber("tps").pipe(
  Options.withDescription("Send requests per second per account before eSMS's 160 (default 50)."),
  Options.optional
)

/**
 * The test account's starting balance: enough for a 100,000-row batch trial at the default price
 * (60 each), so a rehearsal of a real batch is not cut short by 103 (the library's
 * `Simulator.defaultAccount.balance` stays small for tests that want to run out).
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_BALANCE = 10_000_000

const balance = wholeNumber("balance").pipe(
  Options.withDescription(
    `The test account's starting balance, at ${Simulator.defaults.price} per accepted message ` +
      `(default ${DEFAULT_BALANCE.toLocaleString("en-US")}).`
  ),
  Options.withDefault(DEFAULT_BALANCE)
)

const plain = (value: string | Redacted.Redacted<string>) => Redacted.isRedacted(value) ? Redacted.value(value) : value

/**
 * What to tell the operator once the simulator listens: where, and a test account to use.
 *
 * @since 0.1.0
 * @category formatting
 */
export const banner = (baseUrl: string, balance: number = DEFAULT_BALANCE): string => {
  const account = Simulator.defaultAccount
  const [active, inactive] = account.oaids
  const amount = balance.toLocaleString("en-US")
  const images = baseUrl.replace(/\/MainService\.svc\/json$/, "") + Images.PATH_PREFIX
  return [
    `eSMS simulator listening on ${baseUrl}`,
    "",
    "Test account (fake keys, for this simulator only):",
    `  export ESMS_BASE_URL=${baseUrl}`,
    `  export ESMS_API_KEY=${plain(account.apiKey)}`,
    `  export ESMS_SECRET_KEY=${plain(account.secretKey)}`,
    `  export ESMS_OAID=${active.oaid}`,
    "",
    `Balance ${amount}, ${Simulator.defaults.price} per accepted message (--balance to change).`,
    `OAID ${inactive.oaid} is inactive (799). Recipients who fail delivery: ` +
    Object.entries(Simulator.defaultFailingRecipients).map(([id, e]) => `${id} (${e.error})`).join(", ") + ".",
    `Photos to send (send-image checks them): ${images}/photo.jpg, ${images}/photo.png; ` +
    `refused: ${images}/large.jpg (over 1 MB), ${images}/error-page.png (HTML).`,
    "Press Ctrl-C to stop."
  ].join("\n")
}

/** @since 0.1.0 @category commands */
export const command = Command.make("simulator", { port, host, tps, balance }, (args) =>
  Effect.gen(function*() {
    yield* CallbacksCommand.checkPort(args.port)
    if (Option.isSome(args.tps) && args.tps.value < 1) {
      return yield* Effect.fail(ConfigError.InvalidData(["--tps"], `must be at least 1 (got ${args.tps.value})`))
    }
    if (args.balance < 0) {
      return yield* Effect.fail(ConfigError.InvalidData(["--balance"], `must not be negative (got ${args.balance})`))
    }
    const simulator = yield* Simulator.serve({
      port: args.port,
      host: args.host,
      accounts: [{ ...Simulator.defaultAccount, balance: args.balance }],
      ...(Option.isSome(args.tps) ? { tps: args.tps.value } : {})
    })
    yield* Console.log(banner(simulator.baseUrl, args.balance))
    return yield* Effect.never
  }).pipe(
    Effect.scoped,
    Effect.catchTags(CallbacksCommand.startFailures(args, "the simulator"))
  )).pipe(
    Command.withDescription(
      "Run a local eSMS simulator (send, callbacks, GetSendStatus, GetBalance) and print a test account. " +
        "Point ESMS_BASE_URL or --base-url at it."
    )
  )
