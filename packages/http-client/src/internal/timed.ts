/**
 * A transport that bounds a request by its own timer (no forked fiber, no second timer fiber):
 * `UndiciHttpClient` offers it, and the configured eSMS client uses it on the live clock. Any other
 * `HttpClient` (a test double, another transport) gets the generic timeout.
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import type * as Effect from "effect/Effect"

/** Where a client keeps its timed execute. */
export const TypeId: unique symbol = Symbol.for("@esms-effect/http-client/internal/timed")

/** On a response whose whole body was read with its headers: `true`. */
export const CompleteTypeId: unique symbol = Symbol.for("@esms-effect/http-client/internal/timed/complete")

/**
 * `request`, failing with `onTimeout()` (and aborting it) when no response came within `millis`;
 * `undefined` when this transport cannot run that request so (a streamed body).
 */
export type Within = <E>(
  request: HttpClientRequest.HttpClientRequest,
  millis: number,
  onTimeout: () => E
) => Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError | E> | undefined

/** The client's timed execute, if it has one. */
export const of = (client: HttpClient.HttpClient): Within | undefined =>
  (client as unknown as { readonly [TypeId]?: Within })[TypeId]

/** Whether the response's body was read within the timed execute (nothing left to time). */
export const isComplete = (response: HttpClientResponse.HttpClientResponse): boolean =>
  (response as unknown as { readonly [CompleteTypeId]?: boolean })[CompleteTypeId] === true
