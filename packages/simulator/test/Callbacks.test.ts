import { assert, describe, it } from "@effect/vitest"
import { DeliveryReport } from "@esms-effect/core"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { CallbackCollector, Simulator } from "../src/index.js"
import { httpClient, payload, send } from "./EsmsWire.js"

const withSimulatorAndReceiver = (options: Simulator.Options = {}, receiver: CallbackCollector.Options = {}) =>
  Effect.provide(Layer.mergeAll(Simulator.layer(options), CallbackCollector.layer(receiver), httpClient))

const isDelivered = (received: CallbackCollector.Received) =>
  received.report !== undefined && DeliveryReport.Fate.$is("Delivered")(DeliveryReport.fate(received.report))

describe("Delivery callbacks", () => {
  it.live("a delivered message: one GET with eSMS's query fields, error_info encoded as for TypeId 26", () =>
    Effect.gen(function*() {
      const receiver = yield* CallbackCollector.CallbackCollector
      const simulator = yield* Simulator.Simulator
      const answer = yield* send({ RequestId: "order-42", CallbackUrl: `${receiver.url}?shop=7` })
      const received = yield* receiver.take
      assert.strictEqual(received.method, "GET")
      assert.strictEqual(received.query.shop, "7", "the URL's own query is kept")
      assert.deepStrictEqual(Object.keys(received.query), [
        "shop",
        "SMSID",
        "SendFailed",
        "SendStatus",
        "SendSuccess",
        "TotalPrice",
        "TotalReceiver",
        "TotalSent",
        "RequestId",
        "TypeId",
        "phonenumber",
        "error_info",
        "oaid",
        "partnerids"
      ])
      const { error_info, ...fields } = received.query
      assert.deepStrictEqual(fields, {
        shop: "7",
        SMSID: String(answer.SMSID),
        SendFailed: "0",
        SendStatus: "5",
        SendSuccess: "1",
        TotalPrice: "60.0000",
        TotalReceiver: "1",
        TotalSent: "1",
        RequestId: "order-42",
        TypeId: "26",
        phonenumber: "5308693166941955879",
        oaid: "1000000000000000001",
        partnerids: received.query.partnerids
      })
      assert.match(received.query.partnerids, /^[0-9a-f]{20}$/)
      // As in the vendor's sample: the query value is itself URL-encoded, then `____dd/MM/yyyy HH:mm:ss`.
      assert.match(received.url, /error_info=%257B%2522data%2522%3A%257B%2522message_id%2522/)
      const [json, time] = decodeURIComponent(error_info).split("____")
      assert.match(time, /^\d{2}\/\d{2}\/\d{4} \d{2}:\d{2}:\d{2}$/)
      assert.deepStrictEqual(JSON.parse(json), {
        data: { message_id: received.query.partnerids, user_id: "5308693166941955879" },
        error: 0,
        message: "Success"
      })
      assert.isTrue(isDelivered(received))
      const attempts = yield* simulator.awaitCallbacks(1)
      assert.deepStrictEqual(attempts.map((a) => [a.attempt, a.outcome]), [[1, { _tag: "Answered", status: 200 }]])
    }).pipe(withSimulatorAndReceiver()))

  it.live("a recipient who does not follow the OA: SendSuccess=0, SendFailed=1, Zalo's -213 in error_info", () =>
    Effect.gen(function*() {
      const receiver = yield* CallbackCollector.CallbackCollector
      const simulator = yield* Simulator.Simulator
      const answer = yield* send({ CallbackUrl: receiver.url, Payload: payload({ userId: "9000000000000000213" }) })
      assert.strictEqual(answer.CodeResult, "100", "eSMS accepts it: the failure comes later")
      const received = yield* receiver.take
      assert.strictEqual(received.query.SMSID, answer.SMSID)
      assert.strictEqual(received.query.SendSuccess, "0")
      assert.strictEqual(received.query.SendFailed, "1")
      assert.strictEqual(received.query.SendStatus, "5")
      assert.strictEqual(received.query.TotalSent, "0")
      assert.strictEqual(received.query.TotalPrice, "0.0000")
      assert.strictEqual(received.query.partnerids, "")
      assert.strictEqual(received.query.RequestId, "")
      assert.isFalse(isDelivered(received))
      assert.deepStrictEqual(received.report?.zalo, { error: -213, message: "User has not followed the OA" })
      const message = yield* simulator.message(String(answer.SMSID))
      assert.strictEqual(message._tag === "Some" && message.value.status, "Failed")
    }).pipe(withSimulatorAndReceiver()))

  it.live("configured failing recipients, and the once-encoded error_info style", () =>
    Effect.gen(function*() {
      const receiver = yield* CallbackCollector.CallbackCollector
      yield* send({ CallbackUrl: receiver.url, Payload: payload({ userId: "42" }) })
      const received = yield* receiver.take
      assert.deepStrictEqual(JSON.parse(received.query.error_info), { error: -230, message: "No interaction" })
      assert.strictEqual(received.report?.zalo?.error, -230)
    }).pipe(withSimulatorAndReceiver({
      failingRecipients: { "42": { error: -230, message: "No interaction" } },
      errorInfoStyle: "encodedOnce"
    })))

  it.live("retries a callback that times out, 5 times, then stops", () =>
    Effect.gen(function*() {
      const receiver = yield* CallbackCollector.CallbackCollector
      const simulator = yield* Simulator.Simulator
      yield* receiver.setResponseDelay("2 seconds")
      const answer = yield* send({ CallbackUrl: receiver.url })
      const attempts = yield* simulator.awaitCallbacks(6)
      yield* Effect.sleep("400 millis")
      assert.lengthOf(yield* simulator.callbacks, 6, "no seventh attempt")
      assert.deepStrictEqual(attempts.map((a) => [a.smsId, a.attempt, a.outcome._tag]), [
        [answer.SMSID, 1, "TimedOut"],
        [answer.SMSID, 2, "TimedOut"],
        [answer.SMSID, 3, "TimedOut"],
        [answer.SMSID, 4, "TimedOut"],
        [answer.SMSID, 5, "TimedOut"],
        [answer.SMSID, 6, "TimedOut"]
      ])
      const received = yield* receiver.received
      assert.lengthOf(received, 6)
      assert.lengthOf(new Set(received.map((r) => r.url)), 1, "each retry is the same callback")
    }).pipe(withSimulatorAndReceiver({ callbackDelay: "10 millis", callbackTimeout: "100 millis" })))

  it.live("a callback that answers, even with an error status, or cannot connect, is not retried", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.Simulator
      const receiver = yield* CallbackCollector.CallbackCollector
      yield* receiver.setResponseStatus(500)
      yield* send({ CallbackUrl: receiver.url })
      yield* send({ CallbackUrl: "http://127.0.0.1:1/unreachable" })
      const attempts = yield* simulator.awaitCallbacks(2)
      yield* Effect.sleep("300 millis")
      assert.lengthOf(yield* simulator.callbacks, 2)
      assert.deepStrictEqual(attempts.map((a) => a.outcome._tag).sort(), ["Answered", "Failed"])
      assert.deepStrictEqual(attempts.find((a) => a.outcome._tag === "Answered")?.outcome, {
        _tag: "Answered",
        status: 500
      })
      // A generous timeout: only an answer (or a refusal) is under test, not a slow one on a loaded machine.
    }).pipe(withSimulatorAndReceiver({ callbackDelay: "10 millis", callbackTimeout: "3 seconds" })))

  it.live("no callback without a CallbackUrl; the message still finishes", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.Simulator
      yield* send()
      const state = yield* simulator.waitUntil((s) => s.messages.every((m) => m.status === "Delivered"))
      assert.lengthOf(state.messages, 1)
      assert.lengthOf(state.callbacks, 0)
    }).pipe(withSimulatorAndReceiver({ callbackDelay: "10 millis" })))
})
