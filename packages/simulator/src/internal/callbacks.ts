/**
 * The callback engine: after `callbackDelay` a message is settled (delivered, or failed with the
 * recipient's Zalo error) and its delivery report is sent to its `CallbackUrl`, retried as eSMS
 * does after a timeout only.
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import { DeliveryReport, Network } from "@esms-effect/core"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FiberSet from "effect/FiberSet"
import * as HashMap from "effect/HashMap"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as SubscriptionRef from "effect/SubscriptionRef"
import * as State from "./state.js"
import * as Wire from "./wire.js"

export interface Settings {
  readonly callbackDelay: Duration.Duration
  readonly callbackTimeout: Duration.Duration
  readonly callbackRetries: number
  readonly failingRecipients: ReadonlyMap<string, State.ZaloError>
  readonly errorInfoStyle: DeliveryReport.ErrorInfoStyle
}

/** `deliver(smsId)` for each accepted message; the deliveries run for the life of the scope. */
export const make = (
  httpClient: HttpClient.HttpClient,
  ref: SubscriptionRef.SubscriptionRef<State.State>,
  background: FiberSet.FiberSet,
  settings: Settings
) =>
  Effect.gen(function*() {
    const callOnce = (url: string) =>
      httpClient.get(url, { headers: { "user-agent": "esms-simulator-callback" } }).pipe(
        Effect.flatMap((response) => Effect.as(Effect.ignore(response.text), response.status)),
        Effect.timeoutFail({ duration: settings.callbackTimeout, onTimeout: () => "TimedOut" as const }),
        Effect.match({
          onFailure: (error): State.CallbackOutcome =>
            error === "TimedOut"
              ? State.CallbackOutcome.TimedOut()
              : State.CallbackOutcome.Failed({ detail: Network.describeCause(error.cause, "request failed") }),
          onSuccess: (status) => State.CallbackOutcome.Answered({ status })
        })
      )

    const sendCallbacks = (message: State.Message, callbackUrl: string, deliveredAt: number) =>
      Effect.gen(function*() {
        const report = Wire.deliveryReport(message, { style: settings.errorInfoStyle, at: deliveredAt })
        const url = DeliveryReport.toUrl(callbackUrl, report)
        for (let attempt = 1; attempt <= settings.callbackRetries + 1; attempt++) {
          const at = yield* Clock.currentTimeMillis
          const outcome = yield* callOnce(url)
          yield* SubscriptionRef.update(
            ref,
            (state) => State.recordCallback(state, { smsId: message.smsId, attempt, url, at, outcome })
          )
          yield* Effect.logDebug("callback", outcome._tag).pipe(
            Effect.annotateLogs({ smsId: message.smsId, attempt })
          )
          if (!State.CallbackOutcome.$is("TimedOut")(outcome)) return
        }
      })

    const settle = (smsId: string) =>
      Effect.gen(function*() {
        const deliveredAt = yield* Clock.currentTimeMillis
        const settled = yield* SubscriptionRef.modify(ref, (state) => {
          const message = Option.getOrUndefined(HashMap.get(state.messages, smsId))
          const zaloError = message === undefined ? undefined : settings.failingRecipients.get(message.userId)
          return State.settle(
            state,
            smsId,
            zaloError === undefined ? { zaloMessageId: Wire.newZaloMessageId() } : { zaloError }
          )
        })
        if (settled !== undefined && settled.callbackUrl !== undefined) {
          yield* FiberSet.run(background, sendCallbacks(settled, settled.callbackUrl, deliveredAt))
        }
      })

    // Every message waits the same `callbackDelay`, so they fall due in the order accepted: one fiber
    // works through them instead of one sleeping fiber (and timer) per message.
    const due = yield* Queue.unbounded<{ readonly smsId: string; readonly at: number }>()
    const delayMillis = Duration.toMillis(settings.callbackDelay)
    yield* Effect.forkScoped(Effect.forever(Effect.gen(function*() {
      const next = yield* Queue.take(due)
      const now = yield* Clock.currentTimeMillis
      if (next.at > now) yield* Effect.sleep(Duration.millis(next.at - now))
      yield* settle(next.smsId)
    })))

    return {
      /** Settles `smsId` after `callbackDelay`, then sends its callbacks (in `background`). */
      deliver: (smsId: string): Effect.Effect<void> =>
        Effect.flatMap(Clock.currentTimeMillis, (now) => Queue.offer(due, { smsId, at: now + delayMillis })),
      /** Forgets the deliveries not yet due (`reset`); the callbacks in flight are `background`'s. */
      clear: Effect.asVoid(Queue.takeAll(due))
    }
  })
