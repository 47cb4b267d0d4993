/**
 * The account's TPS budget as a service: `take` waits for the next permit to start one send. The
 * default here is in-process (one process's sends spaced `1000 / perSecond` ms apart); a store shared
 * by several processes provides one that keeps the budget across all of them (`@esms-effect/store-pg`'s
 * `PgRateLimiter`). `EsmsClient.sendMany` paces with the one in context, if any: a permit for each
 * request, a send's retries included.
 *
 * @since 0.2.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Pacer from "./internal/pacer.js"

/**
 * @since 0.2.0
 * @category models
 */
export interface Service {
  /** Waits until one more send may start, then returns: never more than the budget, across its users. */
  readonly take: Effect.Effect<void>
}

/**
 * @since 0.2.0
 * @category tags
 */
export class RateLimiter extends Context.Tag("@esms-effect/http-client/RateLimiter")<RateLimiter, Service>() {}

/**
 * An in-process limiter: starts spaced at least `1000 / perSecond` ms apart across the fibers that share
 * it (a bucket of one token: a stall never turns into a burst), on the `Clock`.
 *
 * @since 0.2.0
 * @category constructors
 */
export const make = (perSecond: number): Effect.Effect<Service> =>
  Effect.sync(() => RateLimiter.of({ take: Pacer.make(perSecond) }))

/**
 * {@link make} as a layer.
 *
 * @since 0.2.0
 * @category layers
 */
export const layer = (options: { readonly perSecond: number }): Layer.Layer<RateLimiter> =>
  Layer.effect(RateLimiter, make(options.perSecond))
