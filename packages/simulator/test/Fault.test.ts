import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import { Fault, Simulator } from "../src/index.js"
import { API_KEY, body, httpClient, request, SECRET_KEY, send, sendUrl } from "./EsmsWire.js"

const withSimulator = (options: Simulator.Options = {}) =>
  Effect.provide(Layer.merge(Simulator.layer(options), httpClient))

const post = (fields: Record<string, unknown> = {}) =>
  Effect.flatMap(Simulator.Simulator, (simulator) => request("POST", sendUrl(simulator), JSON.stringify(body(fields))))

describe("Fault injection", () => {
  it.live("delay: the message is taken, the answer comes late", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.Simulator
      yield* simulator.injectFault(Fault.delay(300))
      const started = Date.now()
      const answer = yield* send({ RequestId: "slow" })
      assert.isAtLeast(Date.now() - started, 290)
      assert.strictEqual(answer.CodeResult, "100")
      assert.strictEqual(yield* simulator.acceptedCount("slow"), 1)
      const fast = Date.now()
      yield* send()
      assert.isBelow(Date.now() - fast, 250, "one request only")
    }).pipe(withSimulator()))

  it.live("drop after processing: no answer, yet the message was taken; a retry with its RequestId meets 124", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.Simulator
      yield* simulator.injectFault(Fault.drop({ processed: true }))
      const dropped = yield* Effect.either(post({ RequestId: "lost-answer" }))
      assert.isTrue(Either.isLeft(dropped), "the connection died before an answer")
      assert.strictEqual(yield* simulator.acceptedCount("lost-answer"), 1)
      const retry = yield* send({ RequestId: "lost-answer" })
      assert.strictEqual(retry.CodeResult, "124")
      assert.strictEqual(yield* simulator.acceptedCount("lost-answer"), 1)
      const attempts = yield* simulator.attempts
      assert.deepStrictEqual(attempts.map((a) => [a.status, a.codeResult, a.fault?._tag]), [
        [undefined, "100", "Drop"],
        [200, "124", undefined]
      ])
    }).pipe(withSimulator()))

  it.live("drop before processing: no answer and nothing taken; a retry is accepted", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.Simulator
      yield* simulator.injectFault(Fault.drop({ processed: false }))
      assert.isTrue(Either.isLeft(yield* Effect.either(post({ RequestId: "never-arrived" }))))
      assert.strictEqual(yield* simulator.acceptedCount("never-arrived"), 0)
      assert.strictEqual((yield* send({ RequestId: "never-arrived" })).CodeResult, "100")
    }).pipe(withSimulator()))

  it.live("HTTP 5xx with a body, for the next N requests, then normal service", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.Simulator
      yield* simulator.injectFault(Fault.httpError({ status: 503, body: "Service Unavailable" }), 2)
      assert.lengthOf(yield* simulator.faults, 1)
      for (let i = 0; i < 2; i++) {
        const answer = yield* post()
        assert.deepStrictEqual([answer.status, answer.text], [503, "Service Unavailable"])
      }
      assert.deepStrictEqual(yield* simulator.faults, [])
      assert.strictEqual((yield* post()).status, 200)
      assert.lengthOf(yield* simulator.messages, 1, "the faulted requests were not processed")
    }).pipe(withSimulator()))

  it.live("an HTML page with HTTP 200 or 502, as a proxy answers", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.Simulator
      yield* simulator.injectFault(Fault.html({ status: 200 }))
      yield* simulator.injectFault(Fault.html({ status: 502, processed: true }))
      const ok = yield* post()
      const badGateway = yield* post()
      assert.deepStrictEqual([ok.status, badGateway.status], [200, 502])
      for (const answer of [ok, badGateway]) {
        assert.include(answer.contentType, "text/html")
        assert.match(answer.text, /^<!DOCTYPE html>/)
      }
      assert.lengthOf(yield* simulator.messages, 1, "only the 502 was processed first")
    }).pipe(withSimulator()))

  it.live("a given result code for the next N requests, with the documented JSON", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.Simulator
      yield* simulator.injectFault(Fault.resultCode("160"), 2)
      yield* simulator.injectFault(Fault.resultCode("999", "Something new"))
      assert.deepStrictEqual(yield* send(), {
        CodeResult: "160",
        CountRegenerate: 0,
        ErrorMessage: "The account's rate (TPS) limit was exceeded"
      })
      assert.strictEqual((yield* send()).CodeResult, "160")
      assert.deepStrictEqual(yield* send(), { CodeResult: "999", CountRegenerate: 0, ErrorMessage: "Something new" })
      assert.strictEqual((yield* send()).CodeResult, "100")
    }).pipe(withSimulator()))

  it.live("faults apply to send requests only, and clearFaults / reset forget them", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.Simulator
      yield* simulator.injectFault(Fault.httpError(), 3)
      const balance = yield* request(
        "POST",
        `${simulator.baseUrl}/GetBalance_json`,
        JSON.stringify({ ApiKey: API_KEY, SecretKey: SECRET_KEY })
      )
      assert.strictEqual(balance.status, 200)
      assert.deepStrictEqual((yield* simulator.faults).map((f) => f.remaining), [3])
      yield* simulator.clearFaults
      assert.strictEqual((yield* send()).CodeResult, "100")
      yield* simulator.injectFault(Fault.httpError())
      yield* simulator.reset
      assert.deepStrictEqual(yield* simulator.snapshot, {
        attempts: [],
        messages: [],
        callbacks: [],
        balances: [{ userId: 9999, balance: 100_000 }],
        faults: []
      })
    }).pipe(withSimulator()))
})
