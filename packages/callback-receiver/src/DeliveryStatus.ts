/**
 * "What happened to my message?": the stored delivery report (from a callback) when there is a final
 * one, else eSMS's `GetSendStatus`, else the latest stored report.
 *
 * @since 0.1.0
 */
import type * as SqlError from "@effect/sql/SqlError"
import { DeliveryReport } from "@esms-effect/core"
import { SendStatus } from "@esms-effect/http-client"
import { DeliveryReports } from "@esms-effect/store"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"

/**
 * The answer: what became of the message, and where that was learnt.
 *
 * @since 0.1.0
 * @category models
 */
export interface Answer {
  readonly smsId: string
  readonly requestId: string | undefined
  readonly fate: DeliveryReport.Fate
  /** `callback`: a report eSMS sent to the receiver; `GetSendStatus`: eSMS's status API, asked now. */
  readonly source: "callback" | "GetSendStatus"
  /** When the callback arrived (for `callback`). */
  readonly receivedAt: Date | undefined
  /** Zalo's result, when a callback carried it. */
  readonly zalo: DeliveryReport.ZaloResult | undefined
}

/**
 * One line for a person: `delivered`, `failed: user has not followed the OA (-213)`, `waiting to send`…
 *
 * @since 0.1.0
 * @category formatting
 */
export const describe = (answer: Answer): string => describeFate(answer.fate)

/**
 * Zalo's error codes seen in `error_info`, as a person reads them.
 *
 * @since 0.1.0
 * @category models
 */
export const zaloErrors: Readonly<Record<number, string>> = {
  [-114]: "user is inactive, rejected the message, or uses an outdated Zalo version",
  [-213]: "user has not followed the OA",
  [-230]: "user has not interacted with the OA in the last 7 days"
}

const pendingText: Record<DeliveryReport.SendStatus, string> = {
  WaitingForApproval: "waiting for approval",
  WaitingToSend: "waiting to send",
  Rejected: "rejected by eSMS",
  Finished: "finished, with no result counted yet",
  SentAwaitingReport: "sent, waiting for the report",
  Unknown: "waiting (status not documented by eSMS)"
}

/**
 * One line for a person: `delivered`, `failed: user has not followed the OA (-213)`, `waiting to send`, …
 *
 * @since 0.1.0
 * @category formatting
 */
export const describeFate: (fate: DeliveryReport.Fate) => string = DeliveryReport.Fate.$match({
  Delivered: () => "delivered",
  Rejected: () => "rejected by eSMS",
  Pending: ({ status }) => pendingText[status],
  Failed: ({ zaloError, zaloMessage }) => {
    if (zaloError === undefined) return "failed"
    const reason = zaloErrors[zaloError] ??
      (zaloMessage === undefined || zaloMessage === "" ? "Zalo error" : zaloMessage)
    return `failed: ${reason} (${zaloError})`
  }
})

const fromStored = (stored: DeliveryReports.Stored): Answer => ({
  smsId: stored.report.smsId,
  requestId: stored.report.requestId,
  fate: DeliveryReport.fate(stored.report),
  source: "callback",
  receivedAt: stored.receivedAt,
  zalo: stored.report.zalo
})

const fromStatus = (report: SendStatus.SendStatusReport, requestId: string | undefined): Answer => ({
  smsId: report.smsId,
  requestId,
  fate: DeliveryReport.fate(report),
  source: "GetSendStatus",
  receivedAt: undefined,
  zalo: undefined
})

const isFinal = (fate: DeliveryReport.Fate) => !DeliveryReport.Fate.$is("Pending")(fate)

/**
 * Looks a message up by SMSID or RequestId. `remote` gives the `GetSendStatus` client and is only
 * run when the store has no final report (so a lookup the store answers needs no keys). eSMS is
 * asked by SMSID: for a RequestId it uses the SMSID of a stored report, else the id as given. When
 * eSMS cannot be asked, a stored (non-final) report is still an answer; with none, the failure is.
 *
 * @since 0.1.0
 * @category accessors
 */
export const lookupWith = <E, R>(
  id: string,
  remote: Effect.Effect<SendStatus.Service, E, R>
): Effect.Effect<Answer, E | SendStatus.SendStatusError | SqlError.SqlError, R | DeliveryReports.DeliveryReports> =>
  Effect.gen(function*() {
    const store = yield* DeliveryReports.DeliveryReports
    const stored = Option.map(yield* store.latest(id), fromStored)
    if (Option.isSome(stored) && isFinal(stored.value.fate)) return stored.value
    const smsId = Option.match(stored, { onNone: () => id, onSome: (answer) => answer.smsId })
    const asked = remote.pipe(
      Effect.flatMap((client) => client.get(smsId)),
      Effect.map((report) => fromStatus(report, Option.getOrUndefined(stored)?.requestId))
    )
    return yield* Option.match(stored, {
      onNone: () => asked,
      onSome: (answer) =>
        asked.pipe(
          Effect.map((status) => isFinal(status.fate) ? status : answer),
          Effect.orElseSucceed(() => answer)
        )
    })
  })

/**
 * {@link lookupWith} the `SendStatus` service in context.
 *
 * @since 0.1.0
 * @category accessors
 */
export const lookup = (
  id: string
): Effect.Effect<
  Answer,
  SendStatus.SendStatusError | SqlError.SqlError,
  SendStatus.SendStatus | DeliveryReports.DeliveryReports
> => lookupWith(id, SendStatus.SendStatus)
