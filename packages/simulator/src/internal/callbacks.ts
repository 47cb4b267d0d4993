/**
 * The callback engine: after `callbackDelay` a message is settled (delivered, or failed with the
 * recipient's Zalo error) and its delivery report is sent to its `CallbackUrl`, retried as eSMS
 * does after a timeout only.
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import { DeliveryReport, Network } from "@esms-effect/core"
import * as Clock from "effect/Clock"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as HashMap from "effect/HashMap"
import * as Option from "effect/Option"
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

/** `deliver(smsId)`: what runs in the background for each accepted message. */
export const make = (
  httpClient: HttpClient.HttpClient,
  ref: SubscriptionRef.SubscriptionRef<State.State>,
  settings: Settings
) => {
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

  return (smsId: string) =>
    Effect.gen(function*() {
      yield* Effect.sleep(settings.callbackDelay)
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
        yield* sendCallbacks(settled, settled.callbackUrl, deliveredAt)
      }
    })
}
