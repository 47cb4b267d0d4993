/**
 * Spaces starts at least `1000 / perSecond` ms apart, across concurrent callers: a token bucket of one
 * token, so a stall never turns into a burst that would break the account's TPS limit.
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"

export const make = (perSecond: number): Effect.Effect<void> => {
  const interval = 1000 / perSecond
  let next = 0
  // The slot is claimed synchronously (one JS thread): two callers can never take the same one.
  return Effect.flatMap(Clock.currentTimeMillis, (now) => {
    const at = Math.max(now, next)
    next = at + interval
    return at > now ? Effect.sleep(at - now) : Effect.void
  })
}
