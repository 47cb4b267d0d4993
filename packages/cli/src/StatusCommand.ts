/**
 * `esms status SMSID|REQUEST_ID`: what became of a message — from the delivery reports stored by
 * `esms callbacks serve`, else from eSMS's GetSendStatus (which needs the keys and knows the last 7
 * days, by SMSID only).
 *
 * @since 0.1.0
 */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as HelpDoc from "@effect/cli/HelpDoc"
import type * as HttpClient from "@effect/platform/HttpClient"
import { DeliveryStatus } from "@esms-effect/callback-receiver"
import { SendStatus } from "@esms-effect/http-client"
import { DeliveryReports } from "@esms-effect/store"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Fs from "node:fs"
import { store } from "./CallbacksCommand.js"
import * as ExitStatus from "./ExitStatus.js"
import * as Outcome from "./Outcome.js"
import * as Overrides from "./Overrides.js"
import * as StoreChoice from "./StoreChoice.js"
import * as TerminalText from "./TerminalText.js"

const id = Args.text({ name: "SMSID|REQUEST_ID" }).pipe(
  Args.withDescription("The SMSID eSMS answered, or the RequestId the message was sent with."),
  // A blank id names no message: the operator's mistake, not a question for eSMS.
  Args.mapEffect((raw: string) =>
    raw.trim() === "" ? Effect.fail(HelpDoc.p("SMSID|REQUEST_ID must not be blank")) : Effect.succeed(raw)
  )
)

/**
 * What `esms status` found: a state, or why there is none (as the send outcomes).
 *
 * @since 0.1.0
 */
export type StatusOutcome =
  | {
    readonly status: "known"
    readonly state: "delivered" | "failed" | "rejected" | "pending"
    /** `delivered`, `failed: user has not followed the OA (-213)`, `waiting to send`, … */
    readonly text: string
    readonly smsId: string
    readonly requestId: string | null
    readonly source: "callback" | "GetSendStatus"
    readonly receivedAt: string | null
    readonly zaloError: number | null
  }
  | Outcome.Outcome

const states = { Delivered: "delivered", Failed: "failed", Rejected: "rejected", Pending: "pending" } as const

/** @since 0.1.0 */
export const known = (answer: DeliveryStatus.Answer): StatusOutcome => ({
  status: "known",
  state: states[answer.fate._tag],
  text: DeliveryStatus.describe(answer),
  smsId: answer.smsId,
  requestId: answer.requestId ?? null,
  source: answer.source,
  receivedAt: answer.receivedAt?.toISOString() ?? null,
  zaloError: answer.fate._tag === "Failed" ? answer.fate.zaloError ?? null : null
})

/**
 * The human line for a status outcome, and whether it belongs on stderr.
 *
 * @since 0.1.0
 */
export const render = (
  outcome: StatusOutcome,
  id: string,
  /** The store read (an absolute path), and whether it existed: an "unknown" names where it looked. */
  store?: { readonly path: string; readonly found: boolean }
): { readonly text: string; readonly stderr: boolean } => {
  switch (outcome.status) {
    case "known": {
      // The text (Zalo's message, from error_info) and the ids came in a callback or from eSMS.
      const safe = TerminalText.line
      const ids = `SMSID ${safe(outcome.smsId)}` +
        (outcome.requestId === null ? "" : `, RequestId ${safe(outcome.requestId)}`)
      const source = outcome.source === "callback"
        ? `callback received ${outcome.receivedAt}`
        : "asked eSMS (GetSendStatus)"
      return { text: `${safe(outcome.text)} — ${ids} (${source})`, stderr: false }
    }
    case "rejected":
      return outcome.code === "105"
        ? {
          text: `unknown — no delivery report is stored for ${TerminalText.line(id)} ` +
            (store === undefined ? "" : store.found ? `in ${store.path} ` : `(no store at ${store.path}) `) +
            "and eSMS knows no message with this SMSID " +
            "(105: sent moments ago, older than 7 days, or a RequestId whose callback has not arrived)",
          stderr: true
        }
        : Outcome.render(outcome)
    default:
      return Outcome.render(outcome)
  }
}

/** @since 0.1.0 */
export const command = Command.make(
  "status",
  { id, store, ...Overrides.options },
  (args): Effect.Effect<void, never, HttpClient.HttpClient | ExitStatus.ExitStatus> =>
    Effect.gen(function*() {
      // Without a store file there is nothing stored yet: look in an empty one rather than create it.
      const choice = StoreChoice.choose(args.store)
      const reports = choice._tag === "Postgres"
        ? StoreChoice.deliveryReports(choice)
        : DeliveryReports.layerSqlite(Fs.existsSync(args.store) ? args.store : ":memory:")
      // GetSendStatus needs the keys, not an OA: ESMS_OAID may be unset for this command.
      const remote = SendStatus.config.pipe(Effect.flatMap(SendStatus.make))
      return yield* DeliveryStatus.lookupWith(args.id, remote).pipe(
        Effect.provide(reports)
      )
    }).pipe(
      Overrides.apply(args),
      Effect.match({
        onFailure: (error): StatusOutcome =>
          error._tag === "SqlError"
            ? Outcome.invalid([{
              field: "--store",
              message: `${StoreChoice.describe(StoreChoice.choose(args.store))} could not be read: ${error.message}`
            }])
            : error._tag === "StoreUnavailable"
            ? Outcome.invalid([{ field: "--store", message: `${error.url}: ${error.detail}` }])
            : Outcome.fromError(error, Overrides.fieldName(args)),
        onSuccess: known
      }),
      Effect.flatMap((outcome) =>
        Effect.zipRight(
          args.json
            ? Console.log(TerminalText.json(outcome))
            : Effect.suspend(() => {
              const choice = StoreChoice.choose(args.store)
              const { stderr, text } = render(outcome, args.id, {
                path: StoreChoice.describe(choice),
                found: choice._tag === "Postgres" || Fs.existsSync(args.store)
              })
              return stderr ? Console.error(text) : Console.log(text)
            }),
          ExitStatus.set(outcome.status === "known" ? 0 : Outcome.exitCode(outcome))
        )
      )
    )
).pipe(
  Command.withDescription(
    "Print what became of a message: delivered, failed (with Zalo's reason), or still waiting. Reads the reports " +
      "stored by `esms callbacks serve`; without one, asks eSMS (GetSendStatus, by SMSID; needs ESMS_API_KEY and " +
      "ESMS_SECRET_KEY). Exit codes: 0 a state was found (whichever); 2 invalid input; 3 eSMS refused the lookup " +
      "(105: unknown SMSID); 4 eSMS could not be reached; 1 a bug in esms."
  )
)
