/**
 * A recording `HttpClient` test double: every request the code under test makes is kept in a `Ref`
 * (method, URL, headers, body text), and a `Respond` function decides the answer.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Ref from "effect/Ref"

/** One request as it would go on the wire. */
export interface RecordedRequest {
  readonly method: string
  readonly url: string
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
}

/** Decides the answer to a recorded request. */
export type Respond = (
  request: HttpClientRequest.HttpClientRequest,
  url: URL
) => Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError>

/** Reads what the double has seen so far. */
export class Recorder extends Context.Tag("@esms-effect/http-client/test/Recorder")<Recorder, {
  readonly requests: Effect.Effect<ReadonlyArray<RecordedRequest>>
  readonly clear: Effect.Effect<void>
}>() {}

const bodyText = (body: HttpClientRequest.HttpClientRequest["body"]): string => {
  switch (body._tag) {
    case "Empty":
      return ""
    case "Uint8Array":
      return new TextDecoder().decode(body.body)
    default:
      // The client only sends text bodies; anything else is a bug the assertions will show.
      return `<${body._tag} body>`
  }
}

/** The `HttpClient` double alone, recording into `ref` (what STYLE.md calls the test double Layer). */
export const layerRef = (ref: Ref.Ref<ReadonlyArray<RecordedRequest>>, respond: Respond): Layer.Layer<
  HttpClient.HttpClient
> =>
  Layer.succeed(
    HttpClient.HttpClient,
    HttpClient.make((request, url) =>
      Ref.update(ref, (requests) => [...requests, {
        method: request.method,
        url: url.href,
        headers: { ...request.headers },
        body: bodyText(request.body)
      }]).pipe(Effect.zipRight(respond(request, url)))
    )
  )

/** The double and its `Recorder`, for `layer(...)` in @effect/vitest. */
export const layer = (respond: Respond): Layer.Layer<HttpClient.HttpClient | Recorder> =>
  Layer.unwrapEffect(Effect.gen(function*() {
    const ref = yield* Ref.make<ReadonlyArray<RecordedRequest>>([])
    return Layer.merge(
      layerRef(ref, respond),
      Layer.succeed(Recorder, { requests: Ref.get(ref), clear: Ref.set(ref, []) })
    )
  }))

/** A double and a way to read its requests, for one test. */
export const make = (respond: Respond) =>
  Effect.map(Ref.make<ReadonlyArray<RecordedRequest>>([]), (ref) => ({
    layer: layerRef(ref, respond),
    requests: Ref.get(ref)
  }))

/** Status and content type of a canned answer (200 and JSON unless told). */
export interface Init {
  readonly status?: number
  readonly contentType?: string
}

/** Answers with this body text. */
export const text = (body: string, init: Init = {}): Respond => (request) =>
  Effect.sync(() =>
    HttpClientResponse.fromWeb(
      request,
      new Response(body, {
        status: init.status ?? 200,
        headers: { "content-type": init.contentType ?? "application/json; charset=utf-8" }
      })
    )
  )

/** Answers with this value as JSON (HTTP 200 unless told). */
export const json = (value: unknown, status = 200): Respond => text(JSON.stringify(value), { status })

/** Answers with the request's own body, wrapped by `wrap` (as a badly behaved proxy might). */
export const echo = (wrap: (body: string) => string = (body) => body, init: Init = {}): Respond => (request, url) =>
  text(wrap(bodyText(request.body)), init)(request, url)

/** Fails as a refused connection does: a `RequestError` with reason "Transport". */
export const refuse = (cause: unknown): Respond => (request) =>
  Effect.fail(new HttpClientError.RequestError({ request, reason: "Transport", cause }))

/** What Node reports for a refused connection. */
export const ECONNREFUSED = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9"), { code: "ECONNREFUSED" })

/** Never answers; `interrupted` becomes true when the caller gives up on the request. */
export const hang = (interrupted: Ref.Ref<boolean>): Respond => () =>
  Effect.never.pipe(Effect.onInterrupt(() => Ref.set(interrupted, true)))

/** Sends the status and headers at once, then never the body; `started` completes when it has answered. */
export const endlessBody = (started: Deferred.Deferred<void>): Respond => (request) =>
  Deferred.succeed(started, undefined).pipe(
    Effect.as(HttpClientResponse.fromWeb(
      request,
      new Response(new ReadableStream({ pull: () => new Promise<void>(() => {}) }), { status: 200 })
    ))
  )
