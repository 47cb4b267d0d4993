/**
 * The delivery report eSMS sends to a message's `CallbackUrl` (API.md §3): an HTTP GET whose query
 * string carries the result. {@link DeliveryReportFromQuery} decodes the query (every value a string,
 * as eSMS writes them) into a {@link DeliveryReport}: `SendStatus` as a named status, counts as numbers,
 * `error_info` read into Zalo's `{error, message, data}` whatever its encoding, and every field we do
 * not model kept in `extra`.
 *
 * @example
 * ```ts
 * import { DeliveryReport } from "@esms-effect/core"
 * import { Either } from "effect"
 *
 * const decoded = DeliveryReport.fromQueryString("SMSID=abc&SendStatus=5&SendSuccess=1&SendFailed=0")
 * if (Either.isRight(decoded)) {
 *   const state: string = DeliveryReport.Fate.$match(DeliveryReport.fate(decoded.right), {
 *     Delivered: () => "delivered",
 *     Failed: ({ zaloError }) => `failed (${zaloError ?? "no Zalo error"})`,
 *     Rejected: () => "rejected",
 *     Pending: ({ status }) => `pending: ${status}`
 *   })
 * } else {
 *   // [{ field: "SendStatus", rule: "WholeNumber", actual: "five" }] for `SendStatus=five`
 *   const problems: ReadonlyArray<DeliveryReport.Problem> = DeliveryReport.problems(decoded.left)
 * }
 *
 * // And back: the query eSMS sends for a report.
 * const query: string = Either.isRight(decoded) ? DeliveryReport.toQueryString(decoded.right) : ""
 * ```
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"
import type * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import * as Codec from "./internal/deliveryQuery.js"
import * as ZaloMessage from "./ZaloMessage.js"

/**
 * `SendStatus` by its vendor code: 1 waiting for approval, 2 waiting to send, 4 rejected, 5 finished
 * (then `SendSuccess` / `SendFailed` say how), 7 sent and waiting for the report.
 *
 * @since 0.1.0
 * @category constants
 */
export const sendStatusCodes = {
  1: "WaitingForApproval",
  2: "WaitingToSend",
  4: "Rejected",
  5: "Finished",
  7: "SentAwaitingReport"
} as const

/**
 * A named `SendStatus`; `Unknown` for a code the vendor has not documented (its number stays in
 * `sendStatusCode`), so a new status is stored rather than refused.
 *
 * @since 0.1.0
 * @category schemas
 */
export const SendStatus = Schema.Literal(...Object.values(sendStatusCodes), "Unknown")

/** @since 0.1.0 @category models */
export type SendStatus = typeof SendStatus.Type

/**
 * The name of a `SendStatus` code.
 *
 * @since 0.1.0
 * @category utils
 */
export const sendStatusFromCode = (code: number): SendStatus =>
  (sendStatusCodes as Record<number, SendStatus>)[code] ?? "Unknown"

/**
 * `TypeId` by its vendor code.
 *
 * @since 0.1.0
 * @category constants
 */
export const typeIds = {
  1: "advertising",
  2: "customer care",
  23: "Viber",
  24: "Zalo priority",
  25: "Zalo normal",
  26: "Zalo consulting / transaction (follower)",
  27: "Zalo journey"
} as const

/**
 * Zalo's own result for one message, as carried in `error_info` (`error` 0 is success). `data` is
 * whatever Zalo put there (`message_id`, `user_id`, `delivery_time`, …).
 *
 * @since 0.1.0
 * @category models
 */
export class ZaloResult extends Schema.Class<ZaloResult>("@esms-effect/core/DeliveryReport/ZaloResult")({
  error: Schema.Number,
  message: Schema.String,
  data: Schema.optionalWith(Schema.Record({ key: Schema.String, value: Schema.Unknown }), { exact: true })
}) {}

/**
 * One delivery report.
 *
 * @since 0.1.0
 * @category models
 */
export class DeliveryReport extends Schema.Class<DeliveryReport>("@esms-effect/core/DeliveryReport")({
  smsId: Schema.String,
  sendStatus: SendStatus,
  /** The vendor's number for `sendStatus`. */
  sendStatusCode: Schema.Int,
  sendSuccess: Schema.NonNegativeInt,
  sendFailed: Schema.NonNegativeInt,
  totalPrice: Schema.Number,
  totalReceiver: Schema.NonNegativeInt,
  totalSent: Schema.NonNegativeInt,
  /** The sender's RequestId (empty on the wire when the send had none). */
  requestId: Schema.optionalWith(Schema.String, { exact: true }),
  typeId: Schema.optionalWith(Schema.Int, { exact: true }),
  telcoId: Schema.optionalWith(Schema.Int, { exact: true }),
  /** `phonenumber`: the phone number, or for Zalo UID sends the recipient's Zalo user id. */
  phoneNumber: Schema.optionalWith(Schema.String, { exact: true }),
  /** `partnerids`: Zalo's message id. */
  zaloMessageId: Schema.optionalWith(Schema.String, { exact: true }),
  /** `error_info` as received (after the query's own decoding). */
  errorInfo: Schema.optionalWith(Schema.String, { exact: true }),
  /** Zalo's result read from `error_info`, when it could be read. */
  zalo: Schema.optionalWith(ZaloResult, { exact: true }),
  /** The `____dd/MM/yyyy HH:mm:ss` time eSMS sometimes appends to `error_info` (Vietnam time). */
  zaloTime: Schema.optionalWith(Schema.String, { exact: true }),
  oaid: Schema.optionalWith(Schema.String, { exact: true }),
  tempId: Schema.optionalWith(Schema.String, { exact: true }),
  /** Every other query field, as received. */
  extra: Schema.Record({ key: Schema.String, value: Schema.String })
}) {}

/** The query fields this module models; all others go to `extra`. @since 0.1.0 @category constants */
export const knownFields: ReadonlySet<string> = new Set([
  "SMSID",
  "SendStatus",
  "SendSuccess",
  "SendFailed",
  "TotalPrice",
  "TotalReceiver",
  "TotalSent",
  "RequestId",
  "TypeId",
  "telcoid",
  "phonenumber",
  "partnerids",
  "error_info",
  "oaid",
  "tempid"
])

/** Longest SMSID accepted (the vendor's are 32 to 40 characters). @since 0.1.0 @category constants */
export const MAX_SMSID_LENGTH = Codec.MAX_SMSID_LENGTH

/**
 * Reads Zalo's result from an `error_info` value as a query parser hands it over (decoded once):
 * plain JSON, JSON still URL-encoded once more, a JSON string holding the JSON, each optionally
 * followed by `____dd/MM/yyyy HH:mm:ss` (answered as `time`).
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeErrorInfo = (
  value: string
): Option.Option<{ readonly result: ZaloResult; readonly time: string | undefined }> =>
  Option.map(
    Option.fromNullable(Codec.readErrorInfo(value)),
    ({ result, time }) => ({ result: new ZaloResult(result, true), time })
  )

type Query = Readonly<Record<string, string>>

const toReport = (fields: typeof Codec.Fields.Type, query: Query): DeliveryReport => {
  const zalo = fields.error_info === undefined ? Option.none() : decodeErrorInfo(fields.error_info)
  const optional = <K extends string, V>(key: K, value: V | undefined) =>
    (value === undefined ? {} : { [key]: value }) as { readonly [P in K]?: V }
  const extra: Record<string, string> = {}
  for (const [key, value] of Object.entries(query)) if (!knownFields.has(key)) extra[key] = value
  return new DeliveryReport({
    smsId: fields.SMSID,
    sendStatus: sendStatusFromCode(fields.SendStatus),
    sendStatusCode: fields.SendStatus,
    sendSuccess: fields.SendSuccess,
    sendFailed: fields.SendFailed,
    totalPrice: fields.TotalPrice,
    totalReceiver: fields.TotalReceiver,
    totalSent: fields.TotalSent,
    ...optional("requestId", fields.RequestId),
    ...optional("typeId", fields.TypeId),
    ...optional("telcoId", fields.telcoid),
    ...optional("phoneNumber", fields.phonenumber),
    ...optional("zaloMessageId", fields.partnerids),
    ...optional("errorInfo", fields.error_info),
    ...(Option.isSome(zalo) ? { zalo: zalo.value.result } : {}),
    ...(Option.isSome(zalo) ? optional("zaloTime", zalo.value.time) : {}),
    ...optional("oaid", fields.oaid),
    ...optional("tempId", fields.tempid),
    extra
  }, true) // every field was checked by `Fields`
}

// In the order eSMS writes them (its Zalo samples); `RequestId` is always there, empty when none.
const encodeReport = (report: DeliveryReport): Query => {
  const query: Record<string, string> = {
    SMSID: report.smsId,
    SendFailed: String(report.sendFailed),
    SendStatus: String(report.sendStatusCode),
    SendSuccess: String(report.sendSuccess),
    TotalPrice: report.totalPrice.toFixed(4),
    TotalReceiver: String(report.totalReceiver),
    TotalSent: String(report.totalSent),
    RequestId: report.requestId ?? ""
  }
  if (report.typeId !== undefined) query.TypeId = String(report.typeId)
  if (report.telcoId !== undefined) query.telcoid = String(report.telcoId)
  if (report.phoneNumber !== undefined) query.phonenumber = report.phoneNumber
  if (report.errorInfo !== undefined) query.error_info = report.errorInfo
  if (report.oaid !== undefined) query.oaid = report.oaid
  if (report.zaloMessageId !== undefined) query.partnerids = report.zaloMessageId
  if (report.tempId !== undefined) query.tempid = report.tempId
  return { ...report.extra, ...query }
}

/**
 * The callback's query, as decoded values (a query parser's output) ↔ {@link DeliveryReport}.
 * Fails on a missing or empty `SMSID` or `SendStatus`, or a count, price or id that is not a number
 * ({@link problems} reads the failure field by field). Empty counts read as 0 (eSMS leaves fields
 * empty rather than out).
 *
 * @since 0.1.0
 * @category schemas
 */
export const DeliveryReportFromQuery: Schema.Schema<DeliveryReport, Query> = Schema.transformOrFail(
  Schema.Record({ key: Schema.String, value: Schema.String }),
  Schema.typeSchema(DeliveryReport),
  {
    strict: true,
    decode: (query, options) =>
      ParseResult.map(Codec.decodeFields(Codec.withoutBlanks(query), options), (f) => toReport(f, query)),
    encode: (report) => ParseResult.succeed(encodeReport(report))
  }
)

/**
 * Why {@link DeliveryReportFromQuery} refused a query, one {@link Problem} per broken field, in the
 * schema's order. Phrasing them for a person is the caller's job.
 *
 * @since 0.1.0
 * @category errors
 */
export const problems = (error: ParseResult.ParseError): ReadonlyArray<Problem> => Codec.problems(error.issue)

/**
 * The rule a query field breaks: `Required` (missing or empty), `WholeNumber`, `NonNegative`,
 * `Number` (a price), `TooLong` (over {@link MAX_SMSID_LENGTH}), `ControlCharacters`.
 *
 * @since 0.1.0
 * @category errors
 */
export type Rule = Codec.Rule

/**
 * One broken rule of a refused query: the field, the rule, the value received (absent for `Required`).
 *
 * @since 0.1.0
 * @category errors
 */
export type Problem = Codec.Problem

/**
 * How `error_info` is written. The vendor's samples for TypeId 26 encode the Zalo JSON twice and
 * append `____dd/MM/yyyy HH:mm:ss`; other samples encode it once with no time.
 *
 * @since 0.1.0
 * @category models
 */
export type ErrorInfoStyle = "encodedTwiceWithTime" | "encodedOnce"

const pad = (n: number) => String(n).padStart(2, "0")

/**
 * An instant as eSMS writes it after `error_info`: `dd/MM/yyyy HH:mm:ss`, Vietnam time.
 *
 * @since 0.1.0
 * @category encoding
 */
export const formatTime = (epochMillis: number): string => {
  const d = new Date(epochMillis + ZaloMessage.ESMS_TIME_ZONE_OFFSET_MS)
  return `${pad(d.getUTCDate())}/${pad(d.getUTCMonth() + 1)}/${d.getUTCFullYear()} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`
}

/**
 * The report fields that carry Zalo's result, as eSMS writes them: `error_info` (before the query's
 * own encoding) in the given style, and the result and time it decodes to.
 *
 * @since 0.1.0
 * @category encoding
 */
export const zaloFields = (
  result: ZaloResult,
  options: { readonly style: ErrorInfoStyle; readonly at: number }
): { readonly errorInfo: string; readonly zalo: ZaloResult; readonly zaloTime?: string } => {
  const json = JSON.stringify(
    result.data === undefined
      ? { error: result.error, message: result.message }
      : { data: result.data, error: result.error, message: result.message }
  )
  if (options.style === "encodedOnce") return { errorInfo: json, zalo: result }
  // The sample `%257B%2522data…%252016%3A58%3A01` is encodeURI(json + "____" + time), then query-encoded.
  const zaloTime = formatTime(options.at)
  return { errorInfo: encodeURI(`${json}____${zaloTime}`), zalo: result, zaloTime }
}

/**
 * The query string (without `?`) eSMS sends for this report, fields in the vendor's order.
 *
 * @since 0.1.0
 * @category encoding
 */
export const toQueryString = (report: DeliveryReport): string =>
  Object.entries(encodeReport(report)).map(([name, value]) => `${name}=${encodeURIComponent(value)}`).join("&")

/**
 * `url` with the report's query appended (after any query the URL already has), as eSMS calls a
 * `CallbackUrl`.
 *
 * @since 0.1.0
 * @category encoding
 */
export const toUrl = (url: string, report: DeliveryReport): string => {
  const [base, fragment] = url.split("#", 2) as [string, string | undefined]
  const separator = base.includes("?") ? (base.endsWith("?") || base.endsWith("&") ? "" : "&") : "?"
  return base + separator + toQueryString(report) + (fragment === undefined ? "" : `#${fragment}`)
}

/**
 * A query string's fields, the first value of each (a repeated field does not override).
 *
 * @since 0.1.0
 * @category utils
 */
export const queryRecord = (params: URLSearchParams | string): Record<string, string> => {
  const search = typeof params === "string" ? new URLSearchParams(params) : params
  const record: Record<string, string> = {}
  for (const [key, value] of search) if (!(key in record)) record[key] = value
  return record
}

/**
 * Decodes a callback's query string (with or without `?`), or its parsed parameters.
 *
 * @since 0.1.0
 * @category decoding
 */
export const fromQueryString = (
  query: URLSearchParams | string
): Either.Either<DeliveryReport, ParseResult.ParseError> =>
  Schema.decodeUnknownEither(DeliveryReportFromQuery)(queryRecord(query))

/**
 * What a report says about the message, reduced for idempotent storage: one report per SMSID,
 * status and this. `success` when it reached everyone, `failed` when any recipient failed (or Zalo
 * reported an error), `none` before the result is known.
 *
 * @since 0.1.0
 * @category models
 */
export type Result = "success" | "failed" | "none"

/**
 * The counts a result is read from: a callback, or the status API's answer.
 *
 * @since 0.1.0
 * @category models
 */
export interface Counts {
  readonly sendStatus: SendStatus
  readonly sendSuccess: number
  readonly sendFailed: number
  readonly zalo?: { readonly error: number; readonly message: string } | undefined
}

/** @since 0.1.0 @category utils */
export const result = (report: Counts): Result =>
  report.sendFailed > 0 || (report.zalo !== undefined && report.zalo.error !== 0)
    ? "failed"
    : report.sendSuccess > 0
    ? "success"
    : "none"

/**
 * What became of a message: `Delivered`, `Failed` (with Zalo's error when it gave one), `Rejected`
 * by eSMS, or still `Pending` (with the status it is in).
 *
 * @since 0.1.0
 * @category models
 */
export type Fate = Data.TaggedEnum<{
  Delivered: {}
  Failed: { readonly zaloError: number | undefined; readonly zaloMessage: string | undefined }
  Rejected: {}
  Pending: { readonly status: SendStatus }
}>

/**
 * The constructors of {@link Fate}, and its `$is` / `$match`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const Fate = Data.taggedEnum<Fate>()

/**
 * What a report (or the status API's answer) says became of the message.
 *
 * @since 0.1.0
 * @category destructors
 */
export const fate = (report: Counts): Fate => {
  if (report.sendStatus === "Rejected") return Fate.Rejected()
  if (report.sendStatus !== "Finished") return Fate.Pending({ status: report.sendStatus })
  switch (result(report)) {
    case "success":
      return Fate.Delivered()
    case "failed":
      return Fate.Failed({
        zaloError: report.zalo?.error !== 0 ? report.zalo?.error : undefined,
        zaloMessage: report.zalo?.error !== 0 ? report.zalo?.message : undefined
      })
    case "none":
      return Fate.Pending({ status: "Finished" })
  }
}
