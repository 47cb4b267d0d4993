/**
 * The delivery report eSMS sends to a message's `CallbackUrl` (API.md §3): an HTTP GET whose query
 * string carries the result. {@link DeliveryReportFromQuery} decodes the query (every value a string,
 * as eSMS writes them) into a {@link DeliveryReport}: `SendStatus` as a named status, counts as numbers,
 * `error_info` read into Zalo's `{error, message, data}` whatever its encoding, and every field we do
 * not model kept in `extra`.
 *
 * @since 0.1.0
 */
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import type * as SchemaAST from "effect/SchemaAST"

/**
 * `SendStatus` by its vendor code: 1 waiting for approval, 2 waiting to send, 4 rejected, 5 finished
 * (then `SendSuccess` / `SendFailed` say how), 7 sent and waiting for the report.
 *
 * @since 0.1.0
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
 */
export const SendStatus = Schema.Literal(...Object.values(sendStatusCodes), "Unknown")

/** @since 0.1.0 */
export type SendStatus = typeof SendStatus.Type

/**
 * The name of a `SendStatus` code.
 *
 * @since 0.1.0
 */
export const sendStatusFromCode = (code: number): SendStatus =>
  (sendStatusCodes as Record<number, SendStatus>)[code] ?? "Unknown"

/**
 * `TypeId` by its vendor code.
 *
 * @since 0.1.0
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

/** The query fields this module models; all others go to `extra`. @since 0.1.0 */
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

/** Longest SMSID accepted (the vendor's are 32 to 40 characters). @since 0.1.0 */
export const MAX_SMSID_LENGTH = 128

const tryDecode = (s: string): string | undefined => {
  try {
    return decodeURIComponent(s)
  } catch {
    return undefined
  }
}

const tryJson = (s: string): unknown => {
  try {
    return JSON.parse(s)
  } catch {
    return undefined
  }
}

const asZaloResult = (u: unknown): ZaloResult | undefined => {
  if (typeof u !== "object" || u === null || Array.isArray(u)) return undefined
  const { data, error, message } = u as Record<string, unknown>
  const code = typeof error === "number"
    ? error
    : typeof error === "string" && error.trim() !== ""
    ? Number(error)
    : NaN
  if (!Number.isFinite(code)) return undefined
  return new ZaloResult({
    error: code,
    message: typeof message === "string" ? message : "",
    ...(typeof data === "object" && data !== null && !Array.isArray(data)
      ? { data: data as Record<string, unknown> }
      : {})
  }, true)
}

const TIME_SUFFIX = /____(\d{2}\/\d{2}\/\d{4} \d{2}:\d{2}:\d{2})\s*$/

/**
 * Reads Zalo's result from an `error_info` value as a query parser hands it over (decoded once):
 * plain JSON, JSON still URL-encoded once more, a JSON string holding the JSON, each optionally
 * followed by `____dd/MM/yyyy HH:mm:ss` (answered as `time`).
 *
 * @since 0.1.0
 */
export const decodeErrorInfo = (
  value: string
): Option.Option<{ readonly result: ZaloResult; readonly time: string | undefined }> => {
  let current: string | undefined = value
  for (let round = 0; round < 4 && current !== undefined; round++) {
    const [json] = current.split("____", 1) as [string]
    const time = TIME_SUFFIX.exec(current)?.[1]
    let parsed = tryJson(json)
    if (typeof parsed === "string") parsed = tryJson(parsed)
    const result = asZaloResult(parsed)
    if (result !== undefined) return Option.some({ result, time })
    const next = tryDecode(current)
    current = next === current ? undefined : next
  }
  return Option.none()
}

const INTEGER = /^-?\d{1,15}$/
const DECIMAL = /^-?\d{1,15}(\.\d{1,10})?$/

type Query = Readonly<Record<string, string>>

const decodeQuery = (query: Query, ast: SchemaAST.AST): Either.Either<DeliveryReport, ParseResult.ParseIssue> => {
  const issues: Array<ParseResult.ParseIssue> = []
  const bad = (field: string, message: string) =>
    issues.push(new ParseResult.Pointer(field, query, new ParseResult.Type(ast, query[field], message)))
  const present = (field: string): string | undefined => {
    const value = query[field]?.trim()
    return value === undefined || value === "" ? undefined : value
  }
  const integer = (field: string, required: boolean): number | undefined => {
    const value = present(field)
    if (value === undefined) {
      if (required) bad(field, `${field} is required`)
      return undefined
    }
    if (!INTEGER.test(value)) bad(field, `${field} must be a whole number, got ${JSON.stringify(value.slice(0, 40))}`)
    return Number(value)
  }
  const count = (field: string): number => {
    const n = integer(field, false) ?? 0
    if (n < 0) bad(field, `${field} must not be negative`)
    return n
  }

  const smsId = present("SMSID")
  if (smsId === undefined) bad("SMSID", "SMSID is required")
  else if (smsId.length > MAX_SMSID_LENGTH) bad("SMSID", `SMSID is longer than ${MAX_SMSID_LENGTH} characters`)
  // eslint-disable-next-line no-control-regex
  else if (/[\u0000-\u001f\u007f]/.test(smsId)) bad("SMSID", "SMSID has control characters")
  const statusCode = integer("SendStatus", true)
  const sendSuccess = count("SendSuccess")
  const sendFailed = count("SendFailed")
  const totalReceiver = count("TotalReceiver")
  const totalSent = count("TotalSent")
  const price = present("TotalPrice")
  if (price !== undefined && !DECIMAL.test(price)) {
    bad("TotalPrice", `TotalPrice must be a number, got ${JSON.stringify(price.slice(0, 40))}`)
  }
  const typeId = integer("TypeId", false)
  const telcoId = integer("telcoid", false)
  if (smsId === undefined || statusCode === undefined || issues.length > 0) {
    const [first, ...rest] = issues
    return Either.left(
      first === undefined
        ? new ParseResult.Type(ast, query, "SMSID and SendStatus are required")
        : new ParseResult.Composite(ast, query, [first, ...rest])
    )
  }

  const errorInfo = present("error_info")
  const zalo = errorInfo === undefined ? Option.none() : decodeErrorInfo(errorInfo)
  const optional = <K extends string>(key: K, value: string | undefined) =>
    (value === undefined ? {} : { [key]: value }) as { readonly [P in K]?: string }
  const extra: Record<string, string> = {}
  for (const [key, value] of Object.entries(query)) if (!knownFields.has(key)) extra[key] = value

  return Either.right(
    new DeliveryReport({
      smsId,
      sendStatus: sendStatusFromCode(statusCode),
      sendStatusCode: statusCode,
      sendSuccess,
      sendFailed,
      totalPrice: price === undefined ? 0 : Number(price),
      totalReceiver,
      totalSent,
      ...optional("requestId", present("RequestId")),
      ...(typeId === undefined ? {} : { typeId }),
      ...(telcoId === undefined ? {} : { telcoId }),
      ...optional("phoneNumber", present("phonenumber")),
      ...optional("zaloMessageId", present("partnerids")),
      ...optional("errorInfo", errorInfo),
      ...(Option.isSome(zalo) ? { zalo: zalo.value.result } : {}),
      ...(Option.isSome(zalo) ? optional("zaloTime", zalo.value.time) : {}),
      ...optional("oaid", present("oaid")),
      ...optional("tempId", present("tempid")),
      extra
    }, true) // every field was checked above
  )
}

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
  if (report.zaloMessageId !== undefined) query.partnerids = report.zaloMessageId
  if (report.errorInfo !== undefined) query.error_info = report.errorInfo
  if (report.oaid !== undefined) query.oaid = report.oaid
  if (report.tempId !== undefined) query.tempid = report.tempId
  return { ...report.extra, ...query }
}

/**
 * The callback's query, as decoded values (a query parser's output) ↔ {@link DeliveryReport}.
 * Fails on a missing or empty `SMSID` or `SendStatus`, or a count, price or id that is not a number.
 * Empty counts read as 0 (eSMS leaves fields empty rather than out).
 *
 * @since 0.1.0
 */
export const DeliveryReportFromQuery: Schema.Schema<DeliveryReport, Query> = Schema.transformOrFail(
  Schema.Record({ key: Schema.String, value: Schema.String }),
  Schema.typeSchema(DeliveryReport),
  {
    strict: true,
    decode: (query, _, ast) => decodeQuery(query, ast),
    encode: (report) => ParseResult.succeed(encodeReport(report))
  }
)

/**
 * A query string's fields, the first value of each (a repeated field does not override).
 *
 * @since 0.1.0
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
 */
export type Result = "success" | "failed" | "none"

/**
 * The counts a result is read from: a callback, or the status API's answer.
 *
 * @since 0.1.0
 */
export interface Counts {
  readonly sendStatus: SendStatus
  readonly sendSuccess: number
  readonly sendFailed: number
  readonly zalo?: { readonly error: number; readonly message: string } | undefined
}

/** @since 0.1.0 */
export const result = (report: Counts): Result =>
  report.sendFailed > 0 || (report.zalo !== undefined && report.zalo.error !== 0)
    ? "failed"
    : report.sendSuccess > 0
    ? "success"
    : "none"

/**
 * What became of a message.
 *
 * @since 0.1.0
 */
export type Fate =
  | { readonly _tag: "Delivered" }
  | { readonly _tag: "Failed"; readonly zaloError: number | undefined; readonly zaloMessage: string | undefined }
  | { readonly _tag: "Rejected" }
  | { readonly _tag: "Pending"; readonly status: SendStatus }

/** @since 0.1.0 */
export const fate = (report: Counts): Fate => {
  if (report.sendStatus === "Rejected") return { _tag: "Rejected" }
  if (report.sendStatus !== "Finished") return { _tag: "Pending", status: report.sendStatus }
  switch (result(report)) {
    case "success":
      return { _tag: "Delivered" }
    case "failed":
      return {
        _tag: "Failed",
        zaloError: report.zalo?.error !== 0 ? report.zalo?.error : undefined,
        zaloMessage: report.zalo?.error !== 0 ? report.zalo?.message : undefined
      }
    case "none":
      return { _tag: "Pending", status: "Finished" }
  }
}

/**
 * Zalo's error codes seen in `error_info`, as a person reads them.
 *
 * @since 0.1.0
 */
export const zaloErrors: Readonly<Record<number, string>> = {
  [-114]: "user is inactive, rejected the message, or uses an outdated Zalo version",
  [-213]: "user has not followed the OA",
  [-230]: "user has not interacted with the OA in the last 7 days"
}

const pendingText: Record<SendStatus, string> = {
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
 */
export const describeFate = (fate: Fate): string => {
  switch (fate._tag) {
    case "Delivered":
      return "delivered"
    case "Rejected":
      return "rejected by eSMS"
    case "Pending":
      return pendingText[fate.status]
    case "Failed": {
      if (fate.zaloError === undefined) return "failed"
      const reason = zaloErrors[fate.zaloError] ??
        (fate.zaloMessage === undefined || fate.zaloMessage === "" ? "Zalo error" : fate.zaloMessage)
      return `failed: ${reason} (${fate.zaloError})`
    }
  }
}
