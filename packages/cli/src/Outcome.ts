/**
 * What one `esms` command run ended in, as the operator reads it (a line), as a pipeline reads it
 * (one JSON object on stdout) and as a shell reads it (the exit code).
 *
 * @since 0.1.0
 */
import type { SendResponse } from "@esms-effect/core"

import { type EsmsClient, TransportError } from "@esms-effect/http-client"
import * as ConfigError from "effect/ConfigError"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as ExitStatus from "./ExitStatus.js"
import * as TerminalText from "./TerminalText.js"

/**
 * Exit codes, as documented in the README and `--help`.
 *
 * @since 0.1.0
 * @category exit codes
 */
export const ExitCode = {
  /** eSMS accepted the message. */
  accepted: 0,
  /** A bug in this tool. */
  bug: 1,
  /** Invalid input or usage: nothing was sent. */
  invalid: 2,
  /** eSMS rejected the request with a result code other than 100. */
  rejected: 3,
  /** The request did not get a readable answer from eSMS (connection, timeout, HTTP status, body). */
  failed: 4,
  /** Stopped by Ctrl-C (SIGINT) or SIGTERM: 128 + SIGINT, as shells expect. */
  interrupted: 130
} as const

/** The exit-code table as `--help` prints it. @since 0.1.0 @category exit codes */
export const EXIT_CODES_HELP = "Exit codes: 0 accepted; 2 invalid input or usage (nothing was sent); " +
  "3 rejected by eSMS (a result code other than 100); 4 not delivered to eSMS (connection, timeout, " +
  "HTTP status, unreadable body); 130 interrupted (Ctrl-C or SIGTERM); 1 a bug in esms."

/** @since 0.1.0 @category models */
export interface FieldProblem {
  readonly field: string
  readonly message: string
}

/** @since 0.1.0 @category models */
export type Outcome =
  | {
    readonly status: "accepted"
    readonly smsId: string | null
    readonly requestId: string | null
    readonly deduplicated: boolean
  }
  | {
    readonly status: "rejected"
    readonly tag: string
    readonly code: string
    readonly message: string
    readonly requestId: string | null
  }
  | { readonly status: "invalid"; readonly errors: ReadonlyArray<FieldProblem> }
  | { readonly status: "failed"; readonly tag: string; readonly message: string; readonly requestId: string | null }
  | {
    readonly status: "interrupted"
    readonly requestId: string | null
    /** The request had left for eSMS when the stop came: eSMS may have the message. */
    readonly maybeSent: boolean
    readonly message: string
  }

/**
 * The exit code for an outcome.
 *
 * @since 0.1.0
 * @category exit codes
 */
export const exitCode = (outcome: Outcome): number => ExitCode[outcome.status]

/** @since 0.1.0 @category constructors */
export const accepted = (accepted: SendResponse.Accepted): Outcome => ({
  status: "accepted",
  smsId: accepted.smsId ?? null,
  requestId: accepted.requestId ?? null,
  deduplicated: accepted.deduplicated
})

/** @since 0.1.0 @category constructors */
export const invalid = (errors: ReadonlyArray<FieldProblem>): Outcome => ({ status: "invalid", errors })

/**
 * Stopped by Ctrl-C or SIGTERM. `maybeSent`: the request had left, so eSMS may have the message, and a
 * retry with the same RequestId is safe (eSMS de-duplicates); else nothing was sent.
 *
 * @since 0.1.0
 * @category constructors
 */
export const interrupted = (requestId: string | null, maybeSent: boolean): Outcome => ({
  status: "interrupted",
  requestId,
  maybeSent,
  message: maybeSent
    ? "interrupted while waiting for eSMS's answer: eSMS may have the message" +
      (requestId === null ? "" : `; safe to retry with --request-id ${requestId} (eSMS de-duplicates)`)
    : "interrupted before the send: nothing was sent"
})

/**
 * Flattens a `ConfigError` (a missing or malformed `ESMS_*` variable) into field problems.
 *
 * @since 0.1.0
 * @category constructors
 */
export const configProblems = (error: ConfigError.ConfigError): ReadonlyArray<FieldProblem> =>
  ConfigError.reduceWithContext(error, undefined, {
    andCase: (_, left, right) => [...left, ...right],
    orCase: (_, left, right) => [...left, ...right],
    invalidDataCase: (_, path, message) => [{ field: path.join("_"), message }],
    missingDataCase: (_, path) => [{ field: path.join("_"), message: "is required (set it in the environment)" }],
    sourceUnavailableCase: (_, path, message) => [{ field: path.join("_"), message }],
    unsupportedCase: (_, path, message) => [{ field: path.join("_"), message }]
  })

/**
 * Every failure a send can end in, mapped by its tag. `fieldName` renames a field (of the message or
 * the configuration) to what the operator typed (`imageUrl` → `--image-url`, `ESMS_TIMEOUT` → `--timeout`). `requestId` is the send's, so an operator can retry a
 * failed send safely with it (eSMS de-duplicates).
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromError = (
  error:
    | EsmsClient.EsmsError
    | EsmsClient.InvalidConfiguration
    | ConfigError.ConfigError,
  fieldName: (field: string) => string = (field) => field,
  requestId: string | null = null
): Outcome => {
  if (ConfigError.isConfigError(error)) {
    return invalid(configProblems(error).map((problem) => ({ ...problem, field: fieldName(problem.field) })))
  }
  switch (error._tag) {
    case "InvalidMessage":
      return invalid(error.errors.map((e) => ({ field: fieldName(e.field), message: e.message })))
    case "InvalidConfiguration":
      return invalid([{ field: fieldName(error.field), message: error.detail }])
    case "ImageUnreachable":
    case "ImageNotJpgOrPng":
    case "ImageTooLarge":
      return invalid([{ field: fieldName("imageUrl"), message: error.reason }])
    default:
      return TransportError.isTransportError(error)
        ? { status: "failed", tag: error._tag, message: error.message, requestId }
        : { status: "rejected", tag: error._tag, code: error.code, message: error.message, requestId }
  }
}

/**
 * The human line(s) for an outcome, and whether they belong on stderr.
 *
 * @since 0.1.0
 * @category rendering
 */
export const render = (outcome: Outcome): { readonly text: string; readonly stderr: boolean } => {
  // Every value may come from eSMS, a callback or a file: printed without control characters.
  const safe = TerminalText.line
  switch (outcome.status) {
    case "accepted": {
      const requestId = outcome.requestId === null ? "" : ` (RequestId ${safe(outcome.requestId)})`
      return outcome.deduplicated
        ? {
          text: `Accepted — already sent earlier, eSMS de-duplicated this retry; SMSID unknown${requestId}`,
          stderr: false
        }
        : {
          text: `Accepted — SMSID ${outcome.smsId === null ? "(none returned)" : safe(outcome.smsId)}${requestId}`,
          stderr: false
        }
    }
    case "rejected":
      return {
        text: `Rejected by eSMS — ${safe(outcome.message)}` +
          (outcome.requestId === null ? "" : ` (RequestId ${safe(outcome.requestId)})`),
        stderr: true
      }
    case "invalid":
      return {
        text: [
          "Invalid input — nothing was sent:",
          ...outcome.errors.map((e) => `  ${safe(e.field)} ${safe(e.message)}`)
        ].join("\n"),
        stderr: true
      }
    case "failed":
      return {
        text: `Not delivered to eSMS — ${safe(outcome.message)}` +
          (outcome.requestId === null ? "" : `\n  Safe to retry with --request-id ${safe(outcome.requestId)}`),
        stderr: true
      }
    case "interrupted":
      return {
        text: outcome.maybeSent
          ? "Interrupted while waiting for eSMS's answer — eSMS may have the message." +
            (outcome.requestId === null ? "" : ` Safe to retry with --request-id ${safe(outcome.requestId)}`)
          : "Interrupted before the send — nothing was sent.",
        stderr: true
      }
  }
}

/**
 * The one JSON object `--json` prints (control characters escaped, see `TerminalText.json`).
 *
 * @since 0.1.0
 * @category rendering
 */
export const toJson = (outcome: Outcome): string => TerminalText.json(outcome)

/**
 * An outcome as printed: its text, and whether it goes to stderr.
 *
 * @since 0.1.0
 * @category rendering
 */
export interface Rendered {
  readonly text: string
  readonly stderr: boolean
}

/**
 * Prints a command's outcome (its line(s) on stdout or stderr, or one JSON object with `--json`) and
 * sets the exit code: every command ends through here.
 *
 * @since 0.1.0
 * @category printing
 */
export const printWith = <O>(
  outcome: O,
  json: boolean,
  how: { readonly render: (outcome: O) => Rendered; readonly exitCode: (outcome: O) => number }
): Effect.Effect<void, never, ExitStatus.ExitStatus> =>
  Effect.zipRight(
    json
      ? Console.log(TerminalText.json(outcome))
      : Effect.suspend(() => {
        const { stderr, text } = how.render(outcome)
        return stderr ? Console.error(text) : Console.log(text)
      }),
    ExitStatus.set(how.exitCode(outcome))
  )

/**
 * {@link printWith} for an {@link Outcome}: {@link render}, {@link exitCode}.
 *
 * @since 0.1.0
 * @category printing
 */
export const print = (outcome: Outcome, json: boolean): Effect.Effect<void, never, ExitStatus.ExitStatus> =>
  printWith(outcome, json, { render, exitCode })
