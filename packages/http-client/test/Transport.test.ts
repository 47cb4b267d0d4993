import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Fiber from "effect/Fiber"
import * as FiberId from "effect/FiberId"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import * as TestClock from "effect/TestClock"
import * as Http from "node:http"
import * as Net from "node:net"
import * as EsmsClient from "../src/EsmsClient.js"
import * as NodeEsmsClient from "../src/NodeEsmsClient.js"
import * as TransportError from "../src/TransportError.js"
import { credentials, message, send, sendFailure } from "./Fixtures.js"
import * as RecordingHttpClient from "./RecordingHttpClient.js"

const HTML = "<!DOCTYPE html>\n<html>\n  <head><title>502 Bad Gateway</title></head>\n  <body>nginx</body>\n</html>\n"

/** A port nothing listens on: bound by the OS a moment ago, then released. */
const closedPort = Effect.async<number>((resume) => {
  const server = Net.createServer()
  server.listen(0, "127.0.0.1", () => {
    const { port } = server.address() as Net.AddressInfo
    server.close(() => resume(Effect.succeed(port)))
  })
})

interface Seen {
  readonly method: string | undefined
  readonly url: string | undefined
  readonly headers: Http.IncomingHttpHeaders
  readonly body: string
}

/** A real HTTP server on loopback, port 0, that records what reaches it and answers 100. */
const loopbackServer = Effect.acquireRelease(
  Effect.async<{ readonly server: Http.Server; readonly port: number; readonly seen: Array<Seen> }>((resume) => {
    const seen: Array<Seen> = []
    const server = Http.createServer((req, res) => {
      const chunks: Array<Buffer> = []
      req.on("data", (chunk) => chunks.push(chunk))
      req.on("end", () => {
        seen.push({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString() })
        res.writeHead(200, { "content-type": "application/json" })
        res.end(JSON.stringify({ CodeResult: "100", CountRegenerate: 0, SMSID: "loopback-1" }))
      })
    })
    server.listen(0, "127.0.0.1", () => {
      resume(Effect.succeed({ server, port: (server.address() as Net.AddressInfo).port, seen }))
    })
  }),
  ({ server }) =>
    Effect.async<void>((resume) => {
      server.closeAllConnections()
      server.close(() => resume(Effect.void))
    })
)

describe("EsmsClient transport failures", () => {
  it.effect("an HTML page with status 200 fails with BodyNotJson and a one-line excerpt", () =>
    Effect.gen(function*() {
      const { error } = yield* sendFailure(message, RecordingHttpClient.text(HTML, { contentType: "text/html" }))
      assert.strictEqual(error._tag, "BodyNotJson")
      const e = error as TransportError.BodyNotJson
      assert.strictEqual(e.status, 200)
      assert.strictEqual(e.excerpt, HTML.replace(/\s+/g, " ").trim())
      assert.include(e.message, "not JSON")
      assert.include(e.message, "502 Bad Gateway")
    }))

  it.effect("a long body is cut to EXCERPT_LENGTH characters", () =>
    Effect.gen(function*() {
      const { error } = yield* sendFailure(message, RecordingHttpClient.text("x".repeat(5000), { status: 500 }))
      const e = error as TransportError.HttpStatusError
      assert.strictEqual(e.excerpt, "x".repeat(TransportError.EXCERPT_LENGTH) + "…")
    }))

  it.effect("HTTP 500 fails with HttpStatusError carrying the status, even when the body is a valid answer", () =>
    Effect.gen(function*() {
      const { error } = yield* sendFailure(message, RecordingHttpClient.text("Internal Server Error", { status: 500 }))
      assert.strictEqual(error._tag, "HttpStatusError")
      assert.strictEqual((error as TransportError.HttpStatusError).status, 500)
      assert.strictEqual((error as TransportError.HttpStatusError).excerpt, "Internal Server Error")
      assert.strictEqual(error.message, "eSMS answered HTTP 500: Internal Server Error")

      const json500 = yield* sendFailure(message, RecordingHttpClient.json({ CodeResult: "100", SMSID: "s" }, 503))
      assert.strictEqual(json500.error._tag, "HttpStatusError")
      assert.strictEqual((json500.error as TransportError.HttpStatusError).status, 503)

      const html502 = yield* sendFailure(message, RecordingHttpClient.text(HTML, { status: 502 }))
      assert.strictEqual(html502.error._tag, "HttpStatusError")
    }))

  it.effect("JSON without CodeResult fails with ResponseDecodeFailed", () =>
    Effect.gen(function*() {
      const { error } = yield* sendFailure(message, RecordingHttpClient.json({ SMSID: "s1", Status: "ok" }))
      assert.strictEqual(error._tag, "ResponseDecodeFailed")
      const e = error as TransportError.ResponseDecodeFailed
      assert.strictEqual(e.detail, "CodeResult: is missing")
      assert.strictEqual(e.excerpt, `{"SMSID":"s1","Status":"ok"}`)
      for (const body of [[], "100", null, { CodeResult: true }]) {
        const other = yield* sendFailure(message, RecordingHttpClient.json(body))
        assert.strictEqual(other.error._tag, "ResponseDecodeFailed", JSON.stringify(body))
      }
    }))

  it.effect("a refused connection fails with ConnectionFailed (test double)", () =>
    Effect.gen(function*() {
      const { error } = yield* sendFailure(message, RecordingHttpClient.refuse(RecordingHttpClient.ECONNREFUSED))
      assert.strictEqual(error._tag, "ConnectionFailed")
      assert.strictEqual((error as TransportError.ConnectionFailed).detail, "ECONNREFUSED")
      assert.strictEqual(error.message, "Could not connect to eSMS: ECONNREFUSED")
      const noCause = yield* sendFailure(message, RecordingHttpClient.refuse(undefined))
      assert.strictEqual((noCause.error as TransportError.ConnectionFailed).detail, "transport error")
    }))

  it.live("a refused connection fails with ConnectionFailed (real undici on a closed loopback port)", () =>
    Effect.gen(function*() {
      const port = yield* closedPort
      // One attempt: this is about how a refusal maps (ExactlyOnce.test.ts retries against a closed port).
      const options = { credentials, baseUrl: `http://127.0.0.1:${port}`, maxAttempts: 1 }
      const layers = {
        "EsmsClient.layer + NodeHttpClient.layerUndici": EsmsClient.layer(options).pipe(
          Layer.provide(NodeHttpClient.layerUndici)
        ),
        "NodeEsmsClient.layer": NodeEsmsClient.layer(options)
      }
      for (const [name, layer] of Object.entries(layers)) {
        const error = yield* Effect.flatMap(
          EsmsClient.EsmsClient,
          (client) => Effect.flip(client.sendZaloImage(message))
        )
          .pipe(Effect.provide(layer))
        assert.strictEqual(error._tag, "ConnectionFailed", name)
        assert.include((error as TransportError.ConnectionFailed).detail, "ECONNREFUSED", name)
      }
    }))

  it.live("over real HTTP the server sees the method, path, headers and body", () =>
    Effect.gen(function*() {
      const server = yield* loopbackServer
      const accepted = yield* Effect.flatMap(
        EsmsClient.make({ credentials, baseUrl: `http://127.0.0.1:${server.port}/json/` }),
        (client) => client.sendZaloImage({ ...message, requestId: "r-1" })
      ).pipe(Effect.provide(NodeHttpClient.layerUndici))
      assert.strictEqual(accepted.smsId, "loopback-1")
      assert.strictEqual(server.seen.length, 1)
      const [seen] = server.seen
      assert.strictEqual(seen.method, "POST")
      assert.strictEqual(seen.url, "/json/SendZaloFollowerMessage_V5_post_json/")
      assert.strictEqual(seen.headers["content-type"], "application/json; charset=utf-8")
      assert.strictEqual(seen.headers["user-agent"], EsmsClient.USER_AGENT)
      assert.strictEqual(JSON.parse(seen.body).Payload.message.text, message.text)
      assert.strictEqual(JSON.parse(seen.body).RequestId, "r-1")
    }).pipe(Effect.scoped))
})

describe("EsmsClient timeout", () => {
  it.effect("gives up after the default 15 seconds with RequestTimeout and interrupts the request", () =>
    Effect.gen(function*() {
      const interrupted = yield* Ref.make(false)
      const fiber = yield* Effect.fork(send(message, RecordingHttpClient.hang(interrupted)))
      yield* TestClock.adjust("14999 millis")
      assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)), "must still be waiting before the timeout")
      assert.isFalse(yield* Ref.get(interrupted))
      yield* TestClock.adjust("1 millis")
      const { requests, result } = yield* Fiber.join(fiber)
      assert.strictEqual(requests.length, 1)
      const error = Either.getOrThrow(Either.flip(result))
      assert.strictEqual(error._tag, "RequestTimeout")
      assert.strictEqual((error as TransportError.RequestTimeout).timeoutMillis, 15_000)
      assert.strictEqual(error.message, "eSMS did not answer within 15000 ms")
      assert.isTrue(yield* Ref.get(interrupted), "the in-flight request must be interrupted")
    }))

  it.live("on the real clock too: RequestTimeout after the timeout, the request interrupted, not before", () =>
    Effect.gen(function*() {
      const interrupted = yield* Ref.make(false)
      const started = Date.now()
      const { requests, result } = yield* send(message, RecordingHttpClient.hang(interrupted), {
        timeout: "200 millis",
        maxAttempts: 1
      })
      assert.isAtLeast(Date.now() - started, 195)
      assert.strictEqual(requests.length, 1)
      assert.strictEqual(Either.getOrThrow(Either.flip(result))._tag, "RequestTimeout")
      assert.isTrue(yield* Ref.get(interrupted), "the in-flight request must be interrupted")
    }))

  it.live("on the real clock, interrupting the send interrupts the request in flight", () =>
    Effect.gen(function*() {
      const interrupted = yield* Ref.make(false)
      const fiber = yield* Effect.fork(send(message, RecordingHttpClient.hang(interrupted), { timeout: "10 seconds" }))
      yield* Effect.sleep("50 millis")
      yield* Fiber.interrupt(fiber)
      assert.isTrue(yield* Ref.get(interrupted), "the in-flight request must be interrupted")
    }))

  it.effect("uses the configured timeout", () =>
    Effect.gen(function*() {
      const interrupted = yield* Ref.make(false)
      const fiber = yield* Effect.fork(
        send(message, RecordingHttpClient.hang(interrupted), { timeout: "2 seconds" })
      )
      yield* TestClock.adjust("2 seconds")
      const { result } = yield* Fiber.join(fiber)
      const error = Either.getOrThrow(Either.flip(result))
      assert.strictEqual(error._tag, "RequestTimeout")
      assert.strictEqual((error as TransportError.RequestTimeout).timeoutMillis, 2000)
      assert.isTrue(yield* Ref.get(interrupted))
    }))

  it.effect("counts reading the body against the timeout", () =>
    Effect.gen(function*() {
      const started = yield* Deferred.make<void>()
      const fiber = yield* Effect.fork(send(message, RecordingHttpClient.endlessBody(started), { timeout: "1 second" }))
      yield* Deferred.await(started)
      yield* TestClock.adjust("999 millis")
      assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)))
      yield* TestClock.adjust("1 millis")
      const { result } = yield* Fiber.join(fiber)
      assert.strictEqual(Either.getOrThrow(Either.flip(result))._tag, "RequestTimeout")
    }))

  it.effect("an answer that comes in time is not a timeout", () =>
    Effect.gen(function*() {
      const slow: RecordingHttpClient.Respond = (request, url) =>
        Effect.zipRight(
          Effect.sleep("9 seconds"),
          RecordingHttpClient.json({ CodeResult: "100", SMSID: "late" })(request, url)
        )
      const fiber = yield* Effect.fork(send(message, slow, { timeout: "10 seconds" }))
      yield* TestClock.adjust("9 seconds")
      const { result } = yield* Fiber.join(fiber)
      assert.strictEqual(result._tag === "Right" && result.right.smsId, "late")
    }))
})

/** A loopback server that lets `answer` do what it likes (hang, half an answer), and tells when a socket closes. */
const misbehaving = (answer: (req: Http.IncomingMessage, res: Http.ServerResponse) => void) =>
  Effect.acquireRelease(
    Effect.async<{ readonly server: Http.Server; readonly port: number; readonly closed: Deferred.Deferred<void> }>(
      (resume) => {
        const closed = Deferred.unsafeMake<void>(FiberId.none)
        const server = Http.createServer((req, res) => {
          req.socket.once("close", () => Deferred.unsafeDone(closed, Effect.void))
          req.resume()
          req.on("end", () => answer(req, res))
        })
        server.listen(0, "127.0.0.1", () => {
          resume(Effect.succeed({ server, port: (server.address() as Net.AddressInfo).port, closed }))
        })
      }
    ),
    ({ server }) =>
      Effect.async<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  )

describe("EsmsClient timeout on NodeEsmsClient.layer (the transport's own timer, real clock)", () => {
  const cases: ReadonlyArray<readonly [string, (req: Http.IncomingMessage, res: Http.ServerResponse) => void]> = [
    ["no answer at all", () => {}],
    ["headers and half a small body of declared length", (_req, res) => {
      res.writeHead(200, { "content-type": "application/json", "content-length": "60" })
      res.write("{\"CodeResult\":")
    }],
    ["headers and half a chunked body", (_req, res) => {
      res.writeHead(200, { "content-type": "application/json", "transfer-encoding": "chunked" })
      res.write("{\"CodeResult\":")
    }]
  ]
  for (const [name, answer] of cases) {
    it.live(`${name}: RequestTimeout after the timeout, not before, and the connection is closed`, () =>
      Effect.gen(function*() {
        const server = yield* misbehaving(answer)
        const started = Date.now()
        const error = yield* Effect.flatMap(
          EsmsClient.EsmsClient,
          (client) => Effect.flip(client.sendZaloImage(message))
        )
          .pipe(
            Effect.provide(
              NodeEsmsClient.layer({
                credentials,
                baseUrl: `http://127.0.0.1:${server.port}`,
                timeout: "300 millis",
                maxAttempts: 1
              })
            )
          )
        assert.isAtLeast(Date.now() - started, 295)
        assert.strictEqual(error._tag, "RequestTimeout")
        assert.strictEqual((error as TransportError.RequestTimeout).timeoutMillis, 300)
        yield* Deferred.await(server.closed).pipe(
          Effect.timeoutFail({ duration: "5 seconds", onTimeout: () => "the request was not aborted" })
        )
      }).pipe(Effect.scoped))
  }

  it.live("interrupting the send aborts the request in flight", () =>
    Effect.gen(function*() {
      const server = yield* misbehaving(() => {})
      const layer = NodeEsmsClient.layer({
        credentials,
        baseUrl: `http://127.0.0.1:${server.port}`,
        timeout: "10 seconds"
      })
      const fiber = yield* Effect.flatMap(EsmsClient.EsmsClient, (client) => client.sendZaloImage(message)).pipe(
        Effect.provide(layer),
        Effect.fork
      )
      yield* Effect.sleep("100 millis")
      yield* Fiber.interrupt(fiber)
      yield* Deferred.await(server.closed).pipe(
        Effect.timeoutFail({ duration: "5 seconds", onTimeout: () => "the request was not aborted" })
      )
    }).pipe(Effect.scoped))

  it.live("an answer in time is accepted, and its timer does not outlive it", () =>
    Effect.gen(function*() {
      const server = yield* misbehaving((_req, res) => {
        res.writeHead(200, { "content-type": "application/json" })
        res.end(JSON.stringify({ CodeResult: "100", CountRegenerate: 0, SMSID: "in-time" }))
      })
      const accepted = yield* Effect.flatMap(EsmsClient.EsmsClient, (client) => client.sendZaloImage(message)).pipe(
        Effect.provide(
          NodeEsmsClient.layer({ credentials, baseUrl: `http://127.0.0.1:${server.port}`, timeout: "300 millis" })
        )
      )
      assert.strictEqual(accepted.smsId, "in-time")
    }).pipe(Effect.scoped))
})
