/**
 * The real `EsmsClient` (Node transport) against the simulator over loopback HTTP: the two were
 * written from the same contract (API.md) by different hands, so this is where they must agree.
 * (It lives here because the demo depends on both packages; the simulator must not depend on the client.)
 */
import { assert, describe, it } from "@effect/vitest"
import { Credentials } from "@esms-effect/core"
import { EsmsClient, NodeEsmsClient } from "@esms-effect/http-client"
import { Fault, Simulator } from "@esms-effect/simulator"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"

const OAID = "1000000000000000001"
const account = Simulator.defaultAccount

const credentials = (overrides: { readonly secretKey?: string; readonly oaid?: string } = {}) =>
  Credentials.make({
    apiKey: account.apiKey,
    secretKey: overrides.secretKey ?? account.secretKey,
    oaid: overrides.oaid ?? OAID
  })

const clientFor = (creds: Credentials.Credentials) =>
  Layer.unwrapEffect(
    Effect.map(Simulator.Simulator, (simulator) =>
      NodeEsmsClient.layer({ credentials: creds, baseUrl: simulator.baseUrl }))
  )

const withClient = (options: Simulator.Options = {}, creds = credentials()) =>
  Effect.provide(clientFor(creds).pipe(Layer.provideMerge(Simulator.layer(options))))

const message = (overrides: { readonly requestId?: string; readonly userId?: string } = {}) => ({
  userId: overrides.userId ?? "5308693166941955879",
  text: "Ảnh đơn hàng của bạn",
  imageUrl: "https://cdn.example.com/order.jpg",
  ...(overrides.requestId === undefined ? {} : { requestId: overrides.requestId })
})

const send = (overrides?: Parameters<typeof message>[0]) =>
  Effect.flatMap(EsmsClient.EsmsClient, (client) => client.sendZaloImage(message(overrides)))

const failureTag = (overrides?: Parameters<typeof message>[0]) =>
  send(overrides).pipe(Effect.flip, Effect.map((error) => error._tag))

describe("EsmsClient against the simulator", () => {
  it.live("100: Accepted with the SMSID the simulator stored; the body went as JSON with the RequestId", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.Simulator
      const accepted = yield* send({ requestId: "order-1" })
      const stored = yield* simulator.message(accepted.smsId ?? "")
      assert.isTrue(Option.isSome(stored))
      assert.strictEqual(Option.getOrThrow(stored).text, "Ảnh đơn hàng của bạn")
      const [attempt] = yield* simulator.attempts
      assert.strictEqual(attempt.contentType, "application/json; charset=utf-8")
      assert.strictEqual(attempt.requestId, "order-1")
      assert.strictEqual(yield* simulator.acceptedCount("order-1"), 1)
    }).pipe(withClient()))

  it.live("101 → AuthorizeFailed", () =>
    failureTag().pipe(
      Effect.map((tag) => assert.strictEqual(tag, "AuthorizeFailed")),
      withClient({}, credentials({ secretKey: "WRONG" }))
    ))

  it.live("103 → InsufficientBalance", () =>
    failureTag().pipe(
      Effect.map((tag) => assert.strictEqual(tag, "InsufficientBalance")),
      withClient({ accounts: [{ ...account, balance: 0 }] })
    ))

  it.live("204 → OaidNotFound, 799 → OaidInactive", () =>
    Effect.gen(function*() {
      assert.strictEqual(yield* failureTag().pipe(withClient({}, credentials({ oaid: "31337" }))), "OaidNotFound")
      assert.strictEqual(
        yield* failureTag().pipe(withClient({}, credentials({ oaid: "1000000000000000799" }))),
        "OaidInactive"
      )
    }))

  it.live("124 → DuplicateRequestId for a RequestId already accepted; eSMS keeps one message", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.Simulator
      yield* send({ requestId: "once" })
      assert.strictEqual(yield* failureTag({ requestId: "once" }), "DuplicateRequestId")
      assert.strictEqual(yield* simulator.acceptedCount("once"), 1)
    }).pipe(withClient()))

  it.live("210 → InvalidPayload (injected: the client validates before sending, so it never provokes one)", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.Simulator
      yield* simulator.injectFault(Fault.resultCode("210"))
      assert.strictEqual(yield* failureTag(), "InvalidPayload")
    }).pipe(withClient()))

  it.live("the connection dies after eSMS took the message: never two messages for one RequestId", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.Simulator
      yield* simulator.injectFault(Fault.drop({ processed: true }))
      const outcome = yield* Effect.either(send({ requestId: "answer-lost" }))
      assert.strictEqual(yield* simulator.acceptedCount("answer-lost"), 1)
      // Whether the client retries (and meets 124) or reports the lost connection, it never sends twice.
      if (outcome._tag === "Right") assert.isTrue(outcome.right.deduplicated)
      else assert.include(["ConnectionFailed", "ConnectionLost"], outcome.left._tag)
    }).pipe(withClient()))
})
