/**
 * Exactly once against the simulator, over real loopback HTTP: each fault is injected in the
 * simulator, and each test asserts what the simulator counted — requests, and messages taken.
 */
import { assert, describe, it, layer } from "@effect/vitest"
import { Credentials } from "@esms-effect/core"
import { Fault, Simulator } from "@esms-effect/simulator"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Schedule from "effect/Schedule"
import * as Http from "node:http"
import type * as Net from "node:net"
import * as EsmsClient from "../src/EsmsClient.js"
import * as NodeEsmsClient from "../src/NodeEsmsClient.js"

const account = Simulator.defaultAccount
const credentials = Credentials.make({
  apiKey: account.apiKey,
  secretKey: account.secretKey,
  oaid: account.oaids[0].oaid
})

const message = (requestId?: string) => ({
  userId: "5308693166941955879",
  text: "Ảnh sản phẩm tháng này",
  imageUrl: "https://cdn.example.vn/p/photo.png",
  ...(requestId === undefined ? {} : { requestId })
})

/** Sends one message through the production layer pointed at the simulator. */
const send = (input: ReturnType<typeof message>, options: Partial<EsmsClient.Options> = {}) =>
  Effect.gen(function*() {
    const simulator = yield* Simulator.Simulator
    return yield* Effect.gen(function*() {
      const client = yield* EsmsClient.EsmsClient
      return yield* Effect.either(client.sendZaloImage(input))
    }).pipe(
      Effect.provide(
        NodeEsmsClient.layer({ credentials, baseUrl: simulator.baseUrl, timeout: "2 seconds", ...options })
      )
    )
  })

const sendAttempts = Effect.map(
  Effect.flatMap(Simulator.Simulator, (s) => s.attempts),
  (attempts) => attempts.filter((a) => a.endpoint === "SendZaloFollowerMessage")
)

layer(Simulator.layer({ tps: 1000, callbackDelay: "1 hour" }), {
  timeout: "30 seconds",
  // Real time: the faults and the retry backoff run on the real clock.
  excludeTestServices: true
})("exactly once", (it) => {
  const fresh = Effect.flatMap(Simulator.Simulator, (s) => s.reset)

  it.effect("connection dropped after the server took the message: one message, accepted as de-duplicated", () =>
    Effect.gen(function*() {
      yield* fresh
      const simulator = yield* Simulator.Simulator
      yield* simulator.injectFault(Fault.drop({ processed: true }))
      const result = yield* send(message("drop-1"))
      assert.isTrue(result._tag === "Right")
      const accepted = (result as { right: { deduplicated: boolean; requestId?: string; smsId?: string } }).right
      assert.isTrue(accepted.deduplicated)
      assert.strictEqual(accepted.requestId, "drop-1")
      assert.isUndefined(accepted.smsId)
      const attempts = yield* sendAttempts
      // The first was taken (100) but its answer never left: the connection was dropped (no status).
      assert.deepStrictEqual(attempts.map((a) => [a.requestId, a.status, a.codeResult]), [
        ["drop-1", undefined, "100"],
        ["drop-1", 200, "124"]
      ])
      assert.strictEqual(yield* simulator.acceptedCount("drop-1"), 1)
      assert.strictEqual((yield* simulator.messages).length, 1)
    }))

  it.effect("a generated RequestId is the same on the retry after a dropped connection", () =>
    Effect.gen(function*() {
      yield* fresh
      const simulator = yield* Simulator.Simulator
      yield* simulator.injectFault(Fault.drop({ processed: true }))
      const result = yield* send(message())
      assert.strictEqual(result._tag, "Right")
      const attempts = yield* sendAttempts
      assert.strictEqual(attempts.length, 2)
      assert.isDefined(attempts[0].requestId)
      assert.strictEqual(attempts[0].requestId, attempts[1].requestId)
      assert.strictEqual((yield* simulator.messages).length, 1)
    }))

  it.effect("503 then success: one message, with its SMSID", () =>
    Effect.gen(function*() {
      yield* fresh
      const simulator = yield* Simulator.Simulator
      yield* simulator.injectFault(Fault.httpError({ status: 503, body: "Service Unavailable" }))
      const result = yield* send(message("r-503"))
      assert.strictEqual(result._tag, "Right")
      const [message1] = yield* simulator.messages
      assert.deepStrictEqual(result._tag === "Right" && [result.right.smsId, result.right.deduplicated], [
        message1.smsId,
        false
      ])
      assert.deepStrictEqual((yield* sendAttempts).map((a) => a.status), [503, 200])
      assert.strictEqual(yield* simulator.acceptedCount("r-503"), 1)
    }))

  it.effect("slow beyond the timeout, then success: one message", () =>
    Effect.gen(function*() {
      yield* fresh
      const simulator = yield* Simulator.Simulator
      yield* simulator.injectFault(Fault.delay(1500))
      const result = yield* send(message("r-slow"), { timeout: "300 millis" })
      assert.strictEqual(result._tag, "Right")
      assert.isTrue(result._tag === "Right" && result.right.deduplicated)
      assert.strictEqual(yield* simulator.acceptedCount("r-slow"), 1)
      assert.strictEqual((yield* simulator.messages).length, 1)
      assert.strictEqual((yield* sendAttempts).length, 2)
    }))

  it.effect("160 twice then success: three requests with one RequestId, one message", () =>
    Effect.gen(function*() {
      yield* fresh
      const simulator = yield* Simulator.Simulator
      yield* simulator.injectFault(Fault.resultCode("160", "TPS limit"), 2)
      const result = yield* send(message("r-160"))
      assert.strictEqual(result._tag, "Right")
      assert.isTrue(result._tag === "Right" && !result.right.deduplicated)
      const attempts = yield* sendAttempts
      assert.deepStrictEqual(attempts.map((a) => [a.requestId, a.codeResult]), [
        ["r-160", "160"],
        ["r-160", "160"],
        ["r-160", "100"]
      ])
      assert.strictEqual(yield* simulator.acceptedCount("r-160"), 1)
    }))

  it.effect("103: one request, no retry, a typed InsufficientBalance", () =>
    Effect.gen(function*() {
      yield* fresh
      const simulator = yield* Simulator.Simulator
      yield* simulator.setBalance(account.userId, 0)
      const result = yield* send(message("r-103"))
      assert.isTrue(result._tag === "Left" && result.left._tag === "InsufficientBalance")
      assert.strictEqual((yield* sendAttempts).length, 1)
      assert.strictEqual((yield* simulator.messages).length, 0)
    }))

  it.effect("an HTML body is a typed BodyNotJson, not retried", () =>
    Effect.gen(function*() {
      yield* fresh
      const simulator = yield* Simulator.Simulator
      yield* simulator.injectFault(Fault.html({ status: 200 }))
      const result = yield* send(message("r-html"))
      assert.isTrue(result._tag === "Left" && result.left._tag === "BodyNotJson")
      assert.strictEqual((yield* sendAttempts).length, 1)
    }))

  it.effect("124 on the first attempt stays the typed DuplicateRequestId (the caller reused an id)", () =>
    Effect.gen(function*() {
      yield* fresh
      const simulator = yield* Simulator.Simulator
      assert.strictEqual((yield* send(message("reused")))._tag, "Right")
      const again = yield* send(message("reused"))
      assert.isTrue(again._tag === "Left" && again.left._tag === "DuplicateRequestId")
      assert.strictEqual(yield* simulator.acceptedCount("reused"), 1)
    }))

  it.effect("101 is never retried", () =>
    Effect.gen(function*() {
      yield* fresh
      const simulator = yield* Simulator.Simulator
      const wrong = Credentials.make({ apiKey: "wrong", secretKey: "wrong", oaid: credentials.oaid })
      const result = yield* Effect.gen(function*() {
        const client = yield* EsmsClient.EsmsClient
        return yield* Effect.either(client.sendZaloImage(message("r-101")))
      }).pipe(Effect.provide(NodeEsmsClient.layer({ credentials: wrong, baseUrl: simulator.baseUrl })))
      assert.isTrue(result._tag === "Left" && result.left._tag === "AuthorizeFailed")
      assert.strictEqual((yield* sendAttempts).length, 1)
    }))
})

/** A loopback port that was just free: nothing listens there now. */
const closedPort = Effect.async<number>((resume) => {
  const server = Http.createServer()
  server.listen(0, "127.0.0.1", () => {
    const port = (server.address() as Net.AddressInfo).port
    server.close(() => resume(Effect.succeed(port)))
  })
})

describe("deadline and interruption", () => {
  it.live("a closed server: a typed failure after the deadline, in bounded time", () =>
    Effect.gen(function*() {
      const port = yield* closedPort
      const started = Date.now()
      const result = yield* Effect.gen(function*() {
        const client = yield* EsmsClient.EsmsClient
        return yield* Effect.either(client.sendZaloImage(message("r-closed")))
      }).pipe(
        Effect.provide(NodeEsmsClient.layer({
          credentials,
          baseUrl: `http://127.0.0.1:${port}/MainService.svc/json`,
          deadline: "1200 millis",
          retry: Schedule.spaced("100 millis")
        }))
      )
      const elapsed = Date.now() - started
      assert.isTrue(result._tag === "Left" && result.left._tag === "DeadlineExceeded", JSON.stringify(result))
      assert.isAtLeast(elapsed, 1100)
      assert.isBelow(elapsed, 3000)
    }))

  it.live("a closed server with the default policy: ConnectionFailed after 5 attempts", () =>
    Effect.gen(function*() {
      const port = yield* closedPort
      const result = yield* Effect.gen(function*() {
        const client = yield* EsmsClient.EsmsClient
        return yield* Effect.either(client.sendZaloImage(message("r-closed-2")))
      }).pipe(
        Effect.provide(NodeEsmsClient.layer({ credentials, baseUrl: `http://127.0.0.1:${port}/json` })),
        Effect.withSpan("test")
      )
      assert.isTrue(result._tag === "Left" && result.left._tag === "ConnectionFailed", JSON.stringify(result))
    }), { timeout: 15_000 })

  it.live("interrupting a send aborts its HTTP request", () =>
    Effect.gen(function*() {
      let closed: () => void = () => {}
      const requestClosed = new Promise<void>((resolve) => {
        closed = resolve
      })
      let received = 0
      const server = Http.createServer((req) => {
        received++
        // Never answer; note when the client goes away.
        req.socket.on("close", () => closed())
      })
      yield* Effect.async<void>((resume) => {
        server.listen(0, "127.0.0.1", () => resume(Effect.void))
      })
      const port = (server.address() as Net.AddressInfo).port
      const fiber = yield* Effect.gen(function*() {
        const client = yield* EsmsClient.EsmsClient
        return yield* client.sendZaloImage(message("r-interrupt"))
      }).pipe(
        Effect.provide(NodeEsmsClient.layer({ credentials, baseUrl: `http://127.0.0.1:${port}/json` })),
        Effect.fork
      )
      yield* Effect.sleep(Duration.millis(300))
      assert.strictEqual(received, 1)
      yield* Fiber.interrupt(fiber)
      const seen = yield* Effect.promise(() => requestClosed).pipe(Effect.timeout("3 seconds"), Effect.option)
      server.close()
      assert.strictEqual(seen._tag, "Some", "the server saw the request's connection close")
    }))
})
