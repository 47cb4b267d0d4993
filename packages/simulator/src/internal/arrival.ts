/**
 * When a request arrived: `Simulator.serve` stamps each one in the server's first `request` listener,
 * as soon as its headers are parsed and before any fiber runs for it; the handlers read the stamp, so
 * the TPS window and the record judge the arrival, not when the handler got its turn behind other
 * work. Routes mounted elsewhere (no stamp), or a clock other than the live one (a `TestClock`), take
 * the clock's time when the handler starts.
 */
import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import type * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as DefaultServices from "effect/DefaultServices"
import * as Effect from "effect/Effect"
import type * as Http from "node:http"

const ARRIVED_AT = Symbol.for("@esms-effect/simulator/arrivedAt")

interface Stamped {
  [ARRIVED_AT]?: number
}

/** The `request` listener: registered on the node server before the platform's handler. */
export const stamp = (request: Http.IncomingMessage): void => {
  ;(request as Stamped)[ARRIVED_AT] = Date.now()
}

const liveClock = Context.get(DefaultServices.liveServices, Clock.Clock)

const stampOf = (request: HttpServerRequest.HttpServerRequest): number | undefined => {
  const source: unknown = NodeHttpServerRequest.toIncomingMessage(request)
  return typeof source === "object" && source !== null ? (source as Stamped)[ARRIVED_AT] : undefined
}

/** The request's arrival in milliseconds since the epoch, on the clock in use. */
export const time = (request: HttpServerRequest.HttpServerRequest): Effect.Effect<number> =>
  Effect.clockWith((clock) => {
    const stamped = clock === liveClock ? stampOf(request) : undefined
    return stamped === undefined ? clock.currentTimeMillis : Effect.succeed(stamped)
  })
