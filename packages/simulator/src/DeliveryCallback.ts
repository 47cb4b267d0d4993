/**
 * The delivery callback eSMS sends to a message's `CallbackUrl` (API.md §3): an HTTP GET whose query
 * string carries the result. {@link toQueryString} writes it as eSMS does for Zalo follower messages
 * (TypeId 26), {@link fromQuery} reads it back tolerantly (any of the vendor's `error_info` encodings).
 *
 * @since 0.1.0
 */
import { DeliveryReport } from "@esms-effect/core"
import * as Option from "effect/Option"

/** `SendStatus` 5: finished; `SendSuccess` / `SendFailed` say how. @since 0.1.0 */
export const SEND_STATUS_FINISHED = 5

/** `TypeId` 26: Zalo consulting / transaction (follower) message. @since 0.1.0 */
export const TYPE_ID_ZALO_FOLLOWER = 26

/**
 * Zalo's own result for one message, as carried in `error_info` (`error` 0 is success).
 *
 * @since 0.1.0
 */
export interface ZaloResult {
  readonly error: number
  readonly message: string
  readonly data?: { readonly message_id?: string; readonly user_id?: string } | undefined
}

/**
 * One delivery report, as fields.
 *
 * @since 0.1.0
 */
export interface DeliveryCallback {
  readonly smsId: string
  readonly requestId: string | undefined
  /** The recipient's Zalo user id (`phonenumber`). */
  readonly userId: string
  readonly oaid: string
  readonly sendStatus: number
  readonly sendSuccess: number
  readonly sendFailed: number
  readonly totalPrice: number
  readonly totalReceiver: number
  readonly totalSent: number
  readonly typeId: number
  /** Zalo's message id (`partnerids`), on success. */
  readonly zaloMessageId: string | undefined
  /** Zalo's result decoded from `error_info`, when it could be read. */
  readonly zaloResult: ZaloResult | undefined
}

/**
 * Whether the message reached the recipient.
 *
 * @since 0.1.0
 */
export const isDelivered = (callback: DeliveryCallback): boolean =>
  callback.sendStatus === SEND_STATUS_FINISHED && callback.sendSuccess > 0 && callback.sendFailed === 0

/**
 * How `error_info` is written. The vendor's samples for TypeId 26 encode the Zalo JSON twice and
 * append `____dd/MM/yyyy HH:mm:ss`; other samples encode it once with no time.
 *
 * @since 0.1.0
 */
export type ErrorInfoStyle = "encodedTwiceWithTime" | "encodedOnce"

const pad = (n: number) => String(n).padStart(2, "0")

// eSMS writes times in Vietnam's zone (UTC+7, no daylight saving).
const VIETNAM_OFFSET_MS = 7 * 60 * 60 * 1000

/**
 * An instant as eSMS writes it after `error_info`: `dd/MM/yyyy HH:mm:ss`, Vietnam time.
 *
 * @since 0.1.0
 */
export const formatTime = (epochMillis: number): string => {
  const d = new Date(epochMillis + VIETNAM_OFFSET_MS)
  return `${pad(d.getUTCDate())}/${pad(d.getUTCMonth() + 1)}/${d.getUTCFullYear()} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`
}

/**
 * The `error_info` value before the query string's own encoding.
 *
 * @since 0.1.0
 */
export const encodeErrorInfo = (result: ZaloResult, style: ErrorInfoStyle, epochMillis: number): string => {
  const json = JSON.stringify(
    result.data === undefined
      ? { error: result.error, message: result.message }
      : { data: result.data, error: result.error, message: result.message }
  )
  // The sample `%257B%2522data…%252016%3A58%3A01` is encodeURI(json + "____" + time), then query-encoded.
  return style === "encodedTwiceWithTime" ? encodeURI(`${json}____${formatTime(epochMillis)}`) : json
}

const formatPrice = (price: number) => price.toFixed(4)

/**
 * The query string (without `?`) eSMS sends, fields in the vendor's order.
 *
 * @since 0.1.0
 */
export const toQueryString = (
  callback: DeliveryCallback,
  options: { readonly style: ErrorInfoStyle; readonly at: number }
): string => {
  const fields: Array<readonly [string, string]> = [
    ["SMSID", callback.smsId],
    ["SendFailed", String(callback.sendFailed)],
    ["SendStatus", String(callback.sendStatus)],
    ["SendSuccess", String(callback.sendSuccess)],
    ["TotalPrice", formatPrice(callback.totalPrice)],
    ["TotalReceiver", String(callback.totalReceiver)],
    ["TotalSent", String(callback.totalSent)],
    ["RequestId", callback.requestId ?? ""],
    ["TypeId", String(callback.typeId)],
    ["phonenumber", callback.userId],
    [
      "error_info",
      callback.zaloResult === undefined ? "" : encodeErrorInfo(callback.zaloResult, options.style, options.at)
    ],
    ["oaid", callback.oaid],
    ["partnerids", callback.zaloMessageId ?? ""]
  ]
  return fields.map(([name, value]) => `${name}=${encodeURIComponent(value)}`).join("&")
}

/**
 * `url` with the callback's query appended (after any query the URL already has).
 *
 * @since 0.1.0
 */
export const toUrl = (
  url: string,
  callback: DeliveryCallback,
  options: { readonly style: ErrorInfoStyle; readonly at: number }
): string => {
  const [base, fragment] = url.split("#", 2) as [string, string | undefined]
  const separator = base.includes("?") ? (base.endsWith("?") || base.endsWith("&") ? "" : "&") : "?"
  return base + separator + toQueryString(callback, options) + (fragment === undefined ? "" : `#${fragment}`)
}

/**
 * Reads Zalo's result from an `error_info` value as a query parser hands it over: encoded once more
 * or not, optionally followed by `____time`, optionally a JSON string holding the JSON. The reading is
 * core's (`DeliveryReport.decodeErrorInfo`), the one real receivers use.
 *
 * @since 0.1.0
 */
export const decodeErrorInfo = (value: string): Option.Option<ZaloResult> =>
  Option.map(DeliveryReport.decodeErrorInfo(value), ({ result }) => ({
    error: result.error,
    message: result.message,
    ...(result.data === undefined ? {} : { data: result.data as ZaloResult["data"] })
  }))

const numberField = (value: string | undefined) => {
  const n = Number(value)
  return value === undefined || value === "" || !Number.isFinite(n) ? 0 : n
}

const nonEmpty = (value: string | undefined) => value === undefined || value === "" ? undefined : value

/**
 * Reads a callback's query (as `URLSearchParams` or a record of decoded values). Missing numbers read
 * as 0 and missing strings as empty, as eSMS leaves fields empty rather than out.
 *
 * @since 0.1.0
 */
export const fromQuery = (query: URLSearchParams | Readonly<Record<string, string | undefined>>): DeliveryCallback => {
  const get = (name: string) => query instanceof URLSearchParams ? query.get(name) ?? undefined : query[name]
  const errorInfo = get("error_info")
  return {
    smsId: get("SMSID") ?? "",
    requestId: nonEmpty(get("RequestId")),
    userId: get("phonenumber") ?? "",
    oaid: get("oaid") ?? "",
    sendStatus: numberField(get("SendStatus")),
    sendSuccess: numberField(get("SendSuccess")),
    sendFailed: numberField(get("SendFailed")),
    totalPrice: numberField(get("TotalPrice")),
    totalReceiver: numberField(get("TotalReceiver")),
    totalSent: numberField(get("TotalSent")),
    typeId: numberField(get("TypeId")),
    zaloMessageId: nonEmpty(get("partnerids")),
    zaloResult: errorInfo === undefined || errorInfo === ""
      ? undefined
      : Option.getOrUndefined(decodeErrorInfo(errorInfo))
  }
}
