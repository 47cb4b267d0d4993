/**
 * A test double for a customer's webhook: a small HTTP server that stands where a `CallbackUrl`
 * would and collects every request it receives into a queue, decoded as a delivery report, so a
 * test or a demo can wait for one. It can answer late, or with an error status, to make the sender
 * time out or see a failure. (The production receiver is `@esms-effect/callback-receiver`.)
 *
 * @since 0.1.0
 */
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as HttpRouter from "@effect/platform/HttpRouter"
import type * as HttpServer from "@effect/platform/HttpServer"
import type * as HttpServerError from "@effect/platform/HttpServerError"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { DeliveryReport, Network } from "@esms-effect/core"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Queue from "effect/Queue"
import * as Ref from "effect/Ref"
import type * as Scope from "effect/Scope"
import * as Http from "node:http"

/**
 * One request the collector got.
 *
 * @since 0.1.0
 * @category models
 */
export interface Received {
  readonly at: number
  readonly method: string
  /** Path and query exactly as received. */
  readonly url: string
  /** The query, decoded once (as any query parser would). */
  readonly query: Readonly<Record<string, string>>
  /** The query read as a delivery report; `undefined` when it is not one (every request is collected). */
  readonly report: DeliveryReport.DeliveryReport | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** Where to point a `CallbackUrl`: `http://127.0.0.1:PORT/esms/callback`. */
  readonly url: string
  /** The next request not yet taken (waits for one). */
  readonly take: Effect.Effect<Received>
  /** Every request received so far, taken or not. */
  readonly received: Effect.Effect<ReadonlyArray<Received>>
  /** From now on, answer each request this late (zero: at once). */
  readonly setResponseDelay: (delay: Duration.DurationInput) => Effect.Effect<void>
  /** From now on, answer each request with this HTTP status (default 200). */
  readonly setResponseStatus: (status: number) => Effect.Effect<void>
}

/**
 * @since 0.1.0
 * @category services
 */
export class CallbackCollector
  extends Context.Tag("@esms-effect/simulator/CallbackCollector")<CallbackCollector, Service>()
{}

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Default `127.0.0.1`. */
  readonly host?: string | undefined
  /** Default 0: a free port. */
  readonly port?: number | undefined
  /** Default `/esms/callback` (every path is collected; this one goes into `url`). */
  readonly path?: string | undefined
  /** Default 0. */
  readonly responseDelay?: Duration.DurationInput | undefined
}

/**
 * Starts the collector for the life of the scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const serve = (options: Options = {}): Effect.Effect<Service, HttpServerError.ServeError, Scope.Scope> =>
  Effect.gen(function*() {
    const server = yield* NodeHttpServer.make(() => Http.createServer(), {
      host: options.host ?? "127.0.0.1",
      port: options.port ?? 0
    })
    const queue = yield* Queue.unbounded<Received>()
    const all = yield* Ref.make<ReadonlyArray<Received>>([])
    const delay = yield* Ref.make(Duration.decode(options.responseDelay ?? Duration.zero))
    const status = yield* Ref.make(200)

    const handle = Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      const at = yield* Clock.currentTimeMillis
      const params = new URL(request.url, "http://collector").searchParams
      const received: Received = {
        at,
        method: request.method,
        url: request.url,
        query: Object.fromEntries(params),
        report: Either.getOrUndefined(DeliveryReport.fromQueryString(params))
      }
      yield* Ref.update(all, (list) => [...list, received])
      yield* Queue.offer(queue, received)
      yield* Effect.sleep(yield* Ref.get(delay))
      return HttpServerResponse.text("OK", { status: yield* Ref.get(status) })
    })

    yield* server.serve(HttpRouter.empty.pipe(HttpRouter.all("*", handle)))
    const address = server.address as HttpServer.TcpAddress
    return CallbackCollector.of({
      url: `http://${Network.urlHost(address.hostname)}:${address.port}${options.path ?? "/esms/callback"}`,
      take: Queue.take(queue),
      received: Ref.get(all),
      setResponseDelay: (d) => Ref.set(delay, Duration.decode(d)),
      setResponseStatus: (s) => Ref.set(status, s)
    })
  })

/**
 * The collector as a service.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<CallbackCollector, HttpServerError.ServeError> =>
  Layer.scoped(CallbackCollector, serve(options))
