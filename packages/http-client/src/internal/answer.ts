/**
 * Reading an eSMS answer off the wire, for `EsmsClient` and `SendStatus`: the body within a size cap,
 * and the `Retry-After` the answer asked for (and, for `ImageCheck` too, the declared `Content-Length`).
 */
import type * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import * as TransportError from "../TransportError.js"

/** What an attempt read: the status, the body text and the `Retry-After` wait, if any. */
export interface Answer {
  readonly status: number
  readonly body: string
  readonly retryAfterMillis: number | undefined
}

const DIGITS = /^\s*\d+\s*$/

/**
 * A `Retry-After` value (RFC 9110: seconds, or an HTTP date) as a wait from `nowMillis`; `undefined`
 * for a value that is neither.
 */
export const retryAfterMillis = (value: string | undefined, nowMillis: number): number | undefined => {
  if (value === undefined) return undefined
  if (DIGITS.test(value)) return Number(value) * 1000
  const at = Date.parse(value)
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMillis)
}

/** The body's length as its `Content-Length` declares it; `undefined` when absent or not a number. */
export const contentLength = (response: HttpClientResponse.HttpClientResponse): number | undefined => {
  const declared = response.headers["content-length"]
  return declared !== undefined && DIGITS.test(declared) ? Number(declared) : undefined
}

/**
 * The body as text, read no further than `maxBytes`: a larger body fails with `ResponseTooLarge`
 * (at once when its Content-Length says so) and the rest is not read (the connection is closed).
 */
export const read = (
  response: HttpClientResponse.HttpClientResponse,
  maxBytes: number
): Effect.Effect<Answer, TransportError.ResponseTooLarge | HttpClientError.ResponseError> => {
  // Called as the response arrives (in a flatMap): no need to suspend.
  const status = response.status
  const header = status === 429 || status >= 500 ? response.headers["retry-after"] : undefined
  return header === undefined
    ? readBody(response, status, maxBytes, undefined)
    // An HTTP date is read on the Clock, so the TestClock drives it.
    : Effect.flatMap(
      Clock.currentTimeMillis,
      (now) => readBody(response, status, maxBytes, retryAfterMillis(header, now))
    )
}

const readBody = (
  response: HttpClientResponse.HttpClientResponse,
  status: number,
  maxBytes: number,
  retryAfter: number | undefined
): Effect.Effect<Answer, TransportError.ResponseTooLarge | HttpClientError.ResponseError> => {
  const length = contentLength(response)
  // A Content-Length within the cap bounds the body (the HTTP parser reads no more): one plain read.
  if (length !== undefined && length <= maxBytes) {
    return Effect.map(response.text, (body) => ({ status, body, retryAfterMillis: retryAfter }))
  }
  // Refused before the first chunk when announced too large; else counted while it streams.
  const limit = length === undefined ? maxBytes : -1
  return response.stream.pipe(
    Stream.mapAccumEffect(0, (total, chunk: Uint8Array) => {
      const next = total + chunk.length
      return next > limit
        ? Effect.fail(new TransportError.ResponseTooLarge({ status, limitBytes: maxBytes }))
        : Effect.succeed([next, chunk] as const)
    }),
    Stream.runCollect,
    Effect.map((chunks) => ({
      status,
      body: Buffer.concat(Array.from(chunks)).toString("utf8"),
      retryAfterMillis: retryAfter
    }))
  )
}

const retryAfterOf = (error: unknown): number =>
  typeof error === "object" && error !== null && "retryAfterMillis" in error &&
    typeof error.retryAfterMillis === "number"
    ? error.retryAfterMillis
    : 0

/**
 * `schedule`, waiting at least what the failure's `Retry-After` asked for; a wait that would end past
 * `deadlineAt` (epoch millis) ends the retries at once, with that failure.
 */
export const honourRetryAfter = <Out, In>(
  schedule: Schedule.Schedule<Out, In>,
  deadlineAt: number
): Schedule.Schedule<[Out, In], In> =>
  schedule.pipe(
    Schedule.intersect(Schedule.identity<In>()),
    Schedule.checkEffect((error) =>
      Effect.map(Clock.currentTimeMillis, (now) => now + retryAfterOf(error) < deadlineAt)
    ),
    Schedule.modifyDelay(([, error], delay) => Duration.max(delay, Duration.millis(retryAfterOf(error))))
  )
