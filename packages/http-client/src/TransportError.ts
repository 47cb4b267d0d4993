/**
 * Failures between us and eSMS, before any result code was read. None of them carries a request,
 * a header or a URL with keys: only what a person needs to act, scrubbed of the keys.
 *
 * @since 0.1.0
 */
import type * as HttpClientError from "@effect/platform/HttpClientError"
import { Network } from "@esms-effect/core"
import * as Either from "effect/Either"
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"

/**
 * Marks every transport error, so a guard needs no list of tags.
 *
 * @since 0.1.0
 * @category type ids
 */
export const TypeId: unique symbol = Symbol.for("@esms-effect/http-client/TransportError")

/**
 * @since 0.1.0
 * @category type ids
 */
export type TypeId = typeof TypeId

/**
 * Whether a value is one of the transport errors of this module (whatever its tag).
 *
 * @since 0.1.0
 * @category guards
 */
export const isTransportError = (u: unknown): u is TransportError => Predicate.hasProperty(u, TypeId)

/**
 * Could not reach eSMS (refused, DNS, TLS, reset before the request was written).
 *
 * @since 0.1.0
 * @category errors
 */
export class ConnectionFailed extends Schema.TaggedError<ConnectionFailed>("@esms-effect/http-client/ConnectionFailed")(
  "ConnectionFailed",
  { detail: Schema.String }
) {
  readonly [TypeId]: TypeId = TypeId

  override get message(): string {
    return `Could not connect to eSMS: ${this.detail}`
  }
}

/**
 * The connection broke after the request was (or may have been) written, before a whole answer came
 * back: eSMS may have taken the message. A retry with the same RequestId is safe (124 rule).
 *
 * @since 0.1.0
 * @category errors
 */
export class ConnectionLost extends Schema.TaggedError<ConnectionLost>("@esms-effect/http-client/ConnectionLost")(
  "ConnectionLost",
  { detail: Schema.String }
) {
  readonly [TypeId]: TypeId = TypeId

  override get message(): string {
    return `The connection to eSMS broke before its answer (eSMS may have taken the message): ${this.detail}`
  }
}

/**
 * The whole send (every attempt and the waits between them) ran past its deadline.
 *
 * @since 0.1.0
 * @category errors
 */
export class DeadlineExceeded extends Schema.TaggedError<DeadlineExceeded>("@esms-effect/http-client/DeadlineExceeded")(
  "DeadlineExceeded",
  { deadlineMillis: Schema.Number, attempts: Schema.Number }
) {
  readonly [TypeId]: TypeId = TypeId

  override get message(): string {
    return `No answer from eSMS within the deadline of ${this.deadlineMillis} ms (${this.attempts} attempt(s))`
  }
}

/**
 * No complete answer within the time allowed for one attempt (connect, headers and body).
 *
 * @since 0.1.0
 * @category errors
 */
export class RequestTimeout extends Schema.TaggedError<RequestTimeout>("@esms-effect/http-client/RequestTimeout")(
  "RequestTimeout",
  { timeoutMillis: Schema.Number }
) {
  readonly [TypeId]: TypeId = TypeId

  override get message(): string {
    return `eSMS did not answer within ${this.timeoutMillis} ms`
  }
}

/**
 * eSMS (or a proxy in front of it) answered with an HTTP status other than 2xx.
 *
 * @since 0.1.0
 * @category errors
 */
export class HttpStatusError extends Schema.TaggedError<HttpStatusError>("@esms-effect/http-client/HttpStatusError")(
  "HttpStatusError",
  {
    status: Schema.Number,
    excerpt: Schema.String,
    /** What the answer's `Retry-After` asked for (a 503 or 429, say): the next attempt waits at least this. */
    retryAfterMillis: Schema.optionalWith(Schema.Number, { exact: true })
  }
) {
  readonly [TypeId]: TypeId = TypeId

  override get message(): string {
    return `eSMS answered HTTP ${this.status}` +
      (this.retryAfterMillis === undefined ? "" : ` (retry after ${Math.ceil(this.retryAfterMillis / 1000)} s)`) +
      (this.excerpt === "" ? "" : `: ${this.excerpt}`)
  }
}

/**
 * The answer's body was larger than any eSMS answer (a few hundred bytes) could be: it was not read
 * beyond `limitBytes`. Not retried — a server that answers this once will again — and eSMS may have
 * taken the message.
 *
 * @since 0.1.0
 * @category errors
 */
export class ResponseTooLarge extends Schema.TaggedError<ResponseTooLarge>("@esms-effect/http-client/ResponseTooLarge")(
  "ResponseTooLarge",
  { status: Schema.Number, limitBytes: Schema.Number }
) {
  readonly [TypeId]: TypeId = TypeId

  override get message(): string {
    return `eSMS answered HTTP ${this.status} with a body over ${this.limitBytes} bytes ` +
      "(an eSMS answer is a few hundred): not read further"
  }
}

/**
 * The answer was not JSON (an HTML error page from a proxy, say). `excerpt` is its start.
 *
 * @since 0.1.0
 * @category errors
 */
export class BodyNotJson extends Schema.TaggedError<BodyNotJson>("@esms-effect/http-client/BodyNotJson")(
  "BodyNotJson",
  { status: Schema.Number, excerpt: Schema.String }
) {
  readonly [TypeId]: TypeId = TypeId

  override get message(): string {
    return `eSMS answered HTTP ${this.status} with a body that is not JSON: ${this.excerpt}`
  }
}

/**
 * The answer was JSON but not the documented response (no `CodeResult`, say).
 *
 * @since 0.1.0
 * @category errors
 */
export class ResponseDecodeFailed
  extends Schema.TaggedError<ResponseDecodeFailed>("@esms-effect/http-client/ResponseDecodeFailed")(
    "ResponseDecodeFailed",
    { detail: Schema.String, excerpt: Schema.String }
  )
{
  readonly [TypeId]: TypeId = TypeId

  override get message(): string {
    return `eSMS answered JSON that is not a send response (${this.detail}): ${this.excerpt}`
  }
}

/**
 * Any failure to get a readable answer from eSMS.
 *
 * @since 0.1.0
 * @category schemas
 */
export const TransportError = Schema.Union(
  ConnectionFailed,
  ConnectionLost,
  RequestTimeout,
  DeadlineExceeded,
  HttpStatusError,
  ResponseTooLarge,
  BodyNotJson,
  ResponseDecodeFailed
)

/**
 * Any failure to get a readable answer from eSMS.
 *
 * @since 0.1.0
 * @category errors
 */
export type TransportError = typeof TransportError.Type

/** The longest excerpt of a response body an error carries. @since 0.1.0 @category constants */
export const EXCERPT_LENGTH = 200

/**
 * The start of a body, on one line, cut to {@link EXCERPT_LENGTH} characters.
 *
 * @since 0.1.0
 * @category utils
 */
export const excerpt = (body: string): string => {
  const line = body.replace(/\s+/g, " ").trim()
  return line.length <= EXCERPT_LENGTH ? line : `${line.slice(0, EXCERPT_LENGTH)}…`
}

/**
 * Error codes that mean the request never left this machine (nothing reached eSMS). Any other
 * transport failure is taken as "may have reached eSMS".
 *
 * @since 0.1.0
 * @category constants
 */
export const NOT_SENT_CODES: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EADDRNOTAVAIL",
  "UND_ERR_CONNECT_TIMEOUT",
  "CERT_HAS_EXPIRED",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "ERR_TLS_CERT_ALTNAME_INVALID"
])

/**
 * Whether a failure is worth another attempt with the same RequestId: could not connect, connection
 * lost, timeout, HTTP 5xx or 429.
 *
 * @since 0.1.0
 * @category guards
 */
export const isRetryable = (error: TransportError): boolean => {
  switch (error._tag) {
    case "ConnectionFailed":
    case "ConnectionLost":
    case "RequestTimeout":
      return true
    case "HttpStatusError":
      return error.status >= 500 || error.status === 429
    default:
      return false
  }
}

/**
 * Whether eSMS may have taken the message although no answer was read: then a later 124 for the same
 * RequestId means "already accepted", not "you reused an id".
 *
 * @since 0.1.0
 * @category utils
 */
export const mayHaveReached = (error: TransportError): boolean => {
  switch (error._tag) {
    case "ConnectionLost":
    case "RequestTimeout":
    case "ResponseTooLarge":
      return true
    case "HttpStatusError":
      return error.status >= 500
    default:
      return false
  }
}

/**
 * An HttpClient failure as ours: `ConnectionFailed` when a code says nothing left this machine, else
 * `ConnectionLost` (the request may have reached eSMS). `scrub` removes the keys from the detail.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromHttpClientError = (
  error: HttpClientError.HttpClientError,
  scrub: (text: string) => string
): ConnectionFailed | ConnectionLost => {
  const detail = scrub(Network.describeCause(error.cause))
  const notSent = error._tag === "RequestError" && error.reason === "Transport" &&
    Network.causeChain(error.cause).some(({ code }) => typeof code === "string" && NOT_SENT_CODES.has(code))
  return notSent ? new ConnectionFailed({ detail }) : new ConnectionLost({ detail })
}

/**
 * The JSON of a 2xx answer; otherwise `HttpStatusError` (with the answer's `Retry-After`, if any), or
 * `BodyNotJson` for a body that does not parse. `excerptOf` makes the (scrubbed) excerpt an error carries.
 *
 * @since 0.1.0
 * @category utils
 */
export const readJson = (
  status: number,
  body: string,
  excerptOf: (text: string) => string,
  retryAfterMillis?: number | undefined
): Either.Either<unknown, HttpStatusError | BodyNotJson> => {
  if (status < 200 || status > 299) {
    return Either.left(
      new HttpStatusError({
        status,
        excerpt: excerptOf(body),
        ...(retryAfterMillis === undefined ? {} : { retryAfterMillis })
      })
    )
  }
  try {
    return Either.right(JSON.parse(body))
  } catch {
    return Either.left(new BodyNotJson({ status, excerpt: excerptOf(body) }))
  }
}
