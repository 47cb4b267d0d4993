/**
 * The `esms` command tree.
 *
 * @since 0.1.0
 */
import * as BuiltInOptions from "@effect/cli/BuiltInOptions"
import * as CliConfig from "@effect/cli/CliConfig"
import * as Command from "@effect/cli/Command"
import * as Descriptor from "@effect/cli/CommandDescriptor"
import * as CommandDirective from "@effect/cli/CommandDirective"
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as ValidationError from "@effect/cli/ValidationError"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as process from "node:process"
import { stripVTControlCharacters } from "node:util"
import * as BatchCommand from "./BatchCommand.js"
import * as CallbacksCommand from "./CallbacksCommand.js"
import * as Completions from "./Completions.js"
import * as ExitStatus from "./ExitStatus.js"
import * as CommandTree from "./internal/commandTree.js"
import { moduleVersion } from "./internal/version.js"
import * as Outcome from "./Outcome.js"
import * as SendImageCommand from "./SendImageCommand.js"
import * as SimulatorCommand from "./SimulatorCommand.js"
import * as StatusCommand from "./StatusCommand.js"
import * as TerminalText from "./TerminalText.js"

/** This package's version, printed by `esms --version`. @since 0.1.0 @category constants */
export const VERSION: string = moduleVersion

const zalo = Command.make("zalo").pipe(
  Command.withDescription("Zalo messages through eSMS."),
  Command.withSubcommands([SendImageCommand.command, BatchCommand.command])
)

/** @since 0.1.0 @category commands */
export const command = Command.make("esms").pipe(
  Command.withDescription(
    "Send Zalo messages with an attached photo through eSMS.vn. " + Outcome.EXIT_CODES_HELP
  ),
  Command.withSubcommands([zalo, StatusCommand.command, CallbacksCommand.command, SimulatorCommand.command])
)

/** @since 0.1.0 @category commands */
export const cli = Command.run(command, { name: "esms", version: VERSION })

/**
 * Runs `esms` on `argv` (`process.argv` form: runtime and script first) and answers the exit code:
 * the command's own, 2 for a usage error, 1 for anything unforeseen (a bug).
 *
 * @since 0.1.0
 * @category running
 */
export const main = (argv: ReadonlyArray<string>) =>
  dispatch(argv).pipe(
    Effect.zipRight(ExitStatus.get),
    Effect.catchIf(ValidationError.isValidationError, (error) =>
      argv.includes("--json")
        ? Effect.as(
          Console.log(Outcome.toJson(Outcome.invalid([{ field: "usage", message: usageText(error) }]))),
          Outcome.ExitCode.invalid
        )
        : Effect.succeed(Outcome.ExitCode.invalid)),
    Effect.provide(Layer.merge(ExitStatus.layer, StderrLogger))
  )

// What @effect/cli gets wrong is answered here: `--version` (its line ends in a blank one),
// `--completions bash|zsh` (its scripts lose nested options) and an unknown subcommand below the top
// (its message names the top level). Its own parse says which case this is; it runs only when a cheap
// look at the words says it may be one. The rest is `cli`'s.
const dispatch = (argv: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const badChoice = CommandTree.badBuiltInChoice(command, argv.slice(2))
    if (badChoice !== undefined) {
      return yield* usageError(
        `${badChoice.option} must be one of: ${badChoice.choices.join(", ")} (got '${badChoice.value}')`
      )
    }
    // @effect/cli's wizard prompts on the terminal; without one it would wait forever.
    if (argv.includes("--wizard") && !process.stdin.isTTY) {
      return yield* usageError("--wizard asks its questions on a terminal: run it in one, or give the options")
    }
    // As @effect/cli does for `--log-level`: it sets the level, then the command line is read without it.
    const args = argv.slice(2).filter((arg, i, all) =>
      !(arg === "--log-level" || arg.startsWith("--log-level=") || all[i - 1] === "--log-level")
    )
    const parse = Effect.either(Descriptor.parse(command.descriptor, ["esms", ...args], CliConfig.defaultConfig))
    if (args.some((arg) => arg === "--version" || arg === "--completions" || arg.startsWith("--completions="))) {
      const parsed = yield* parse
      if (Either.isRight(parsed) && CommandDirective.isBuiltIn(parsed.right)) {
        const option = parsed.right.option
        if (BuiltInOptions.isShowVersion(option)) return yield* Console.log(VERSION)
        if (BuiltInOptions.isShowCompletions(option)) {
          const shell = option.shellType
          if (shell === "bash" || shell === "zsh") return yield* Console.log(Completions.script(shell, command))
        }
      }
    }
    const unknown = CommandTree.unknownSubcommand(command, args)
    if (unknown !== undefined) {
      const parsed = yield* parse
      if (Either.isLeft(parsed) && ValidationError.isCommandMismatch(parsed.left)) {
        return yield* usageError(
          `Unknown subcommand '${unknown.word}' for ${unknown.path.join(" ")} — use one of: ${
            unknown.subcommands.join(", ")
          }`
        )
      }
    }
    return yield* cli(argv)
  })

// Printed on stderr as @effect/cli prints its own usage errors; `main` answers exit 2 (and the JSON object).
const usageError = (message: string) =>
  Effect.zipRight(Console.error(message), Effect.fail(ValidationError.invalidValue(HelpDoc.p(message))))

// Logs (`--log-level debug`) go to stderr: stdout is for the outcome, one JSON object under --json.
// logfmt leaves a value without spaces unquoted, escape sequences and all (a callback's RequestId).
const StderrLogger = Logger.replace(
  Logger.defaultLogger,
  Logger.withConsoleError(Logger.map(Logger.logfmtLogger, TerminalText.line))
)

// The usage error as plain text (@effect/cli already printed it, styled, on stderr).
const usageText = (error: ValidationError.ValidationError): string =>
  "error" in error ? stripVTControlCharacters(HelpDoc.toAnsiText(error.error)).trim() : "invalid usage"

/** Exit code for an unforeseen failure: a bug in esms. @since 0.1.0 @category exit codes */
export const BUG_EXIT_CODE = Outcome.ExitCode.bug

/** Exit code after Ctrl-C (128 + SIGINT), as shells expect. @since 0.1.0 @category exit codes */
export const INTERRUPTED_EXIT_CODE = Outcome.ExitCode.interrupted
