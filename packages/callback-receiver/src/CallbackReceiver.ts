/**
 * Receives eSMS delivery callbacks (API.md §3: HTTP GET, the report in the query string, retried on
 * timeout, unsigned) and stores each report once.
 *
 * - The callback URL carries a secret token in its path (`/esms/callback/<token>`): a request with a
 *   wrong or missing token gets 403 (compared in constant time). The token is never logged.
 * - It answers at once: the report is stored (one SQLite insert) and 200 goes back; a repeated
 *   callback (same SMSID, status and result) is stored once and still gets 200, so eSMS stops.
 * - A query that is not a report, or whose percent-encoding is broken, gets 400; a request other than
 *   GET 405, an overlong URL 414, a body 413; nothing a caller sends makes the app fail. A socket that
 *   dribbles its headers is cut at 10 s.
 *
 * {@link httpApp} can be mounted in any Effect HTTP server; {@link serve} / {@link layer} run it on
 * its own Node server, with tracing off (a span would record the URL, token included).
 *
 * @since 0.1.0
 */
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import type * as HttpApp from "@effect/platform/HttpApp"
import * as HttpMiddleware from "@effect/platform/HttpMiddleware"
import type * as HttpServer from "@effect/platform/HttpServer"
import type * as HttpServerError from "@effect/platform/HttpServerError"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { DeliveryReport, Network } from "@esms-effect/core"
import { DeliveryReports } from "@esms-effect/store"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as Http from "node:http"
import * as CallbackToken from "./CallbackToken.js"

/** Where callbacks are received; the token follows as the last path segment. @since 0.1.0 @category constants */
export const DEFAULT_PATH = "/esms/callback"

/**
 * The longest request URL (path and query) accepted. The vendor's longest sample is under 600
 * characters; Zalo's `error_info` can grow, so there is room, but not for abuse.
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_MAX_URL_LENGTH = 8192

/**
 * @since 0.1.0
 * @category models
 */
export interface AppOptions {
  readonly token: Redacted.Redacted<string>
  /** Default {@link DEFAULT_PATH}. */
  readonly path?: string | undefined
  /** Default {@link DEFAULT_MAX_URL_LENGTH}. */
  readonly maxUrlLength?: number | undefined
  /** Runs once per report newly stored (not for eSMS's repeats of one), before the 200 goes back. */
  readonly onStored?: ((report: DeliveryReport.DeliveryReport) => Effect.Effect<void>) | undefined
}

const normalizePath = (path: string | undefined) => (path ?? DEFAULT_PATH).replace(/\/+$/, "")

const answer = (status: number, text: string, close = false) =>
  HttpServerResponse.text(text, {
    status,
    headers: close ? { "cache-control": "no-store", connection: "close" } : { "cache-control": "no-store" }
  })

const hasBody = (headers: Readonly<Record<string, string | undefined>>) =>
  headers["transfer-encoding"] !== undefined ||
  (headers["content-length"] !== undefined && headers["content-length"] !== "0")

/**
 * Whether every field of a query string decodes: each `%` starts an escape, and the escapes are UTF-8.
 *
 * @since 0.1.0
 * @category guards
 */
export const isWellEncoded = (query: string): boolean => {
  if (!query.includes("%")) return true
  try {
    for (const part of query.split("&")) decodeURIComponent(part.replace(/\+/g, " "))
    return true
  } catch {
    return false
  }
}

/**
 * The receiver as an app: checks the token, decodes the report, stores it, answers.
 *
 * @since 0.1.0
 * @category routes
 */
export const httpApp = (
  options: AppOptions
): HttpApp.Default<never, DeliveryReports.DeliveryReports | HttpServerRequest.HttpServerRequest> => {
  const base = normalizePath(options.path)
  const prefix = `${base}/`
  const maxUrlLength = options.maxUrlLength ?? DEFAULT_MAX_URL_LENGTH
  const handle = Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    if (request.url.length > maxUrlLength) return answer(414, "URI Too Long", true)
    if (hasBody(request.headers)) return answer(413, "A callback has no body", true)
    const queryAt = request.url.indexOf("?")
    const path = queryAt === -1 ? request.url : request.url.slice(0, queryAt)
    const token = path === base ? "" : path.startsWith(prefix) ? path.slice(prefix.length) : undefined
    if (token === undefined) return answer(404, "Not Found")
    // Checked before anything else is read: without the token, a caller learns nothing.
    if (!CallbackToken.matches(options.token, token)) return answer(403, "Forbidden")
    if (request.method !== "GET" && request.method !== "HEAD") return answer(405, "Method Not Allowed")
    const query = queryAt === -1 ? "" : request.url.slice(queryAt + 1)
    // URLSearchParams reads a broken escape (%FF%FE) as U+FFFD: two SMSIDs would become one.
    if (!isWellEncoded(query)) return answer(400, "Invalid percent-encoding in the query")
    let params: URLSearchParams
    try {
      params = new URLSearchParams(query)
    } catch {
      return answer(400, "Unreadable query")
    }
    const decoded = DeliveryReport.fromQueryString(params)
    if (Either.isLeft(decoded)) {
      yield* Effect.logDebug("callback refused: not a delivery report")
      return answer(
        400,
        `Not a delivery report: ${describeProblems(DeliveryReport.problems(decoded.left)).slice(0, 300)}`
      )
    }
    const report = decoded.right
    const stored = yield* DeliveryReports.DeliveryReports.pipe(Effect.flatMap((store) => store.record(report)))
    if (stored && options.onStored !== undefined) yield* options.onStored(report)
    yield* Effect.logDebug(stored ? "callback stored" : "callback repeated, already stored").pipe(
      Effect.annotateLogs({ smsId: report.smsId, status: report.sendStatus, requestId: report.requestId ?? "" })
    )
    return answer(200, "OK")
  })
  return handle.pipe(
    Effect.catchAllCause((cause) =>
      // The store failed (disk full, locked): not the caller's fault; the report is not lost to eSMS's retries.
      Effect.as(
        Effect.logError("callback not stored", cause),
        answer(503, "Service Unavailable")
      )
    )
  )
}

const quoted = (actual: string | undefined) => JSON.stringify((actual ?? "").slice(0, 40))

/**
 * A refused query's problems as one line for the caller: `SendStatus must be a whole number, got "five"; …`.
 *
 * @since 0.1.0
 * @category formatting
 */
export const describeProblems = (problems: ReadonlyArray<DeliveryReport.Problem>): string =>
  problems.map(({ actual, field, rule }) => {
    switch (rule) {
      case "Required":
        return `${field} is required`
      case "WholeNumber":
        return `${field} must be a whole number, got ${quoted(actual)}`
      case "NonNegative":
        return `${field} must not be negative`
      case "Number":
        return `${field} must be a number, got ${quoted(actual)}`
      case "TooLong":
        return `${field} is longer than ${DeliveryReport.MAX_SMSID_LENGTH} characters`
      case "ControlCharacters":
        return `${field} has control characters`
    }
  }).join("; ")

/**
 * The callback URL for a receiver reachable at `base` (scheme, host and port, as eSMS will call it).
 *
 * @since 0.1.0
 * @category utils
 */
export const callbackUrl = (
  base: string,
  token: Redacted.Redacted<string>,
  path?: string
): Redacted.Redacted<string> =>
  Redacted.make(`${base.replace(/\/+$/, "")}${normalizePath(path)}/${Redacted.value(token)}`)

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** The URL to give eSMS as `CallbackUrl`: token included, so `Redacted`. */
  readonly url: Redacted.Redacted<string>
  /** The address listened on. */
  readonly host: string
  readonly port: number
}

/**
 * @since 0.1.0
 * @category services
 */
export class CallbackReceiver
  extends Context.Tag("@esms-effect/callback-receiver/CallbackReceiver")<CallbackReceiver, Service>()
{}

/**
 * @since 0.1.0
 * @category models
 */
export interface ServeOptions extends AppOptions {
  /** Default `127.0.0.1`. */
  readonly host?: string | undefined
  /** Default 0: a free port. */
  readonly port?: number | undefined
  /**
   * How eSMS reaches this server (`https://hooks.example.vn`), when it is behind a proxy or tunnel;
   * the proxy must forward the path unchanged. Default `http://HOST:PORT`.
   */
  readonly publicUrl?: string | undefined
}

/**
 * Runs the receiver on its own Node HTTP server for the life of the scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const serve = (
  options: ServeOptions
): Effect.Effect<Service, HttpServerError.ServeError, Scope.Scope | DeliveryReports.DeliveryReports> =>
  Effect.gen(function*() {
    const server = yield* NodeHttpServer.make(
      // Slow or oversized requests are cut by Node before they reach the app. Node checks the timeouts
      // every `connectionsCheckingInterval` (30 s unless told): a slowloris socket lived ~32 s.
      () =>
        Http.createServer({
          maxHeaderSize: 16 * 1024,
          headersTimeout: 10_000,
          requestTimeout: 15_000,
          connectionsCheckingInterval: 1_000
        }),
      { host: options.host ?? "127.0.0.1", port: options.port ?? 0 }
    )
    yield* server.serve(httpApp(options)).pipe(
      // A span would record url.full and url.path: the token.
      Effect.locally(HttpMiddleware.currentTracerDisabledWhen, () => true)
    )
    const address = server.address as HttpServer.TcpAddress
    const base = options.publicUrl ?? `http://${Network.reachableUrlHost(address.hostname)}:${address.port}`
    return CallbackReceiver.of({
      url: callbackUrl(base, options.token, options.path),
      host: address.hostname,
      port: address.port
    })
  })

/**
 * The receiver as a service; reports go to the `DeliveryReports` store in context.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: ServeOptions
): Layer.Layer<CallbackReceiver, HttpServerError.ServeError, DeliveryReports.DeliveryReports> =>
  Layer.scoped(CallbackReceiver, serve(options))
