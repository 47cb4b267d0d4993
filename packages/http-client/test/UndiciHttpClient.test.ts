import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as Http from "node:http"
import type * as Net from "node:net"
import * as UndiciHttpClient from "../src/UndiciHttpClient.js"

interface Seen {
  readonly method: string | undefined
  readonly url: string | undefined
  readonly headers: Http.IncomingHttpHeaders
  readonly body: string
  readonly remotePort: number | undefined
}

interface Server {
  readonly url: string
  readonly seen: Array<Seen>
  /** How many TCP connections reached the server. */
  readonly connections: () => number
}

/** A real node:http server on 127.0.0.1, port 0, that records each request, then lets `answer` respond. */
const serve = (
  answer: (req: Http.IncomingMessage, res: Http.ServerResponse, body: string) => void
): Effect.Effect<Server, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.async<{ readonly server: Http.Server } & Server>((resume) => {
      const seen: Array<Seen> = []
      let connections = 0
      const server = Http.createServer((req, res) => {
        const chunks: Array<Buffer> = []
        req.on("data", (chunk) => chunks.push(chunk))
        req.on("end", () => {
          const body = Buffer.concat(chunks).toString("utf8")
          seen.push({ method: req.method, url: req.url, headers: req.headers, body, remotePort: req.socket.remotePort })
          answer(req, res, body)
        })
      })
      server.on("connection", () => connections++)
      server.listen(0, "127.0.0.1", () => {
        const { port } = server.address() as Net.AddressInfo
        resume(Effect.succeed({ server, url: `http://127.0.0.1:${port}`, seen, connections: () => connections }))
      })
    }),
    ({ server }) =>
      Effect.async<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  )

/** A port nothing listens on: bound by the OS a moment ago, then released. */
const closedPort = Effect.async<number>((resume) => {
  const server = Http.createServer()
  server.listen(0, "127.0.0.1", () => {
    const { port } = server.address() as Net.AddressInfo
    server.close(() => resume(Effect.succeed(port)))
  })
})

/** The client, its pool open until the test's scope closes. */
const client = (options?: UndiciHttpClient.Options) =>
  Effect.map(Layer.build(UndiciHttpClient.layer(options)), Context.get(HttpClient.HttpClient))

const causeCode = (error: unknown): unknown => (error as { cause?: { code?: unknown } }).cause?.code

describe("UndiciHttpClient", () => {
  it.scopedLive("answers the status, the headers and the body as text and as JSON", () =>
    Effect.gen(function*() {
      const server = yield* serve((_req, res) => {
        res.setHeader("set-cookie", ["session=abc; Path=/", "theme=dark"])
        res.writeHead(201, { "content-type": "application/json; charset=utf-8", "x-request-id": "r-42" })
        res.end(JSON.stringify({ CodeResult: "100", SMSID: "Xin chào 👋" }))
      })
      const http = yield* client()
      const response = yield* http.get(`${server.url}/status?x=1`)
      assert.strictEqual(response.status, 201)
      assert.strictEqual(response.headers["content-type"], "application/json; charset=utf-8")
      assert.strictEqual(response.headers["x-request-id"], "r-42")
      assert.deepStrictEqual(Object.keys(response.cookies.cookies).sort(), ["session", "theme"])
      assert.strictEqual(yield* response.text, `{"CodeResult":"100","SMSID":"Xin chào 👋"}`)
      // The body is read once; later reads answer the same text.
      assert.deepStrictEqual(yield* response.json, { CodeResult: "100", SMSID: "Xin chào 👋" })
      assert.strictEqual(server.seen[0].method, "GET")
      assert.strictEqual(server.seen[0].url, "/status?x=1")
    }))

  it.scopedLive("a small body of declared length and a chunked one read alike: text (BOM dropped), bytes, stream", () =>
    Effect.gen(function*() {
      const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from("{\"SMSID\":\"Xin chào\"}")])
      const server = yield* serve((req, res) => {
        if (req.url === "/declared") res.writeHead(200, { "content-length": String(bytes.length) })
        else res.writeHead(200, { "transfer-encoding": "chunked" })
        res.end(bytes)
      })
      const http = yield* client()
      for (const path of ["/declared", "/chunked"]) {
        const text = yield* Effect.flatMap(http.get(server.url + path), (response) => response.text)
        assert.strictEqual(text, "{\"SMSID\":\"Xin chào\"}", path)
        const buffer = yield* Effect.flatMap(http.get(server.url + path), (response) => response.arrayBuffer)
        assert.deepStrictEqual(Buffer.from(buffer), bytes, path)
        const chunks = yield* Stream.runCollect(Stream.unwrap(Effect.map(http.get(server.url + path), (r) => r.stream)))
        assert.deepStrictEqual(Buffer.concat(Chunk.toArray(chunks)), bytes, path)
      }
    }))

  it.scopedLive("delivers the request body intact, with the headers and the byte length", () =>
    Effect.gen(function*() {
      const server = yield* serve((_req, res) => res.end("ok"))
      const http = yield* client()
      const text = "Xin chào 👋\r\nƯu đãi hôm nay: ".repeat(500)
      const response = yield* http.execute(
        HttpClientRequest.post(`${server.url}/SendZaloFollowerMessage_V5_post_json/`).pipe(
          HttpClientRequest.setHeaders({ "user-agent": "test-agent", accept: "application/json" }),
          HttpClientRequest.bodyText(JSON.stringify({ text }), "application/json; charset=utf-8")
        )
      )
      assert.strictEqual(yield* response.text, "ok")
      const seen = server.seen[0]
      assert.strictEqual(seen.method, "POST")
      assert.strictEqual(seen.url, "/SendZaloFollowerMessage_V5_post_json/")
      assert.deepStrictEqual(JSON.parse(seen.body), { text })
      assert.strictEqual(seen.headers["content-type"], "application/json; charset=utf-8")
      assert.strictEqual(seen.headers["content-length"], String(Buffer.byteLength(seen.body)))
      assert.strictEqual(seen.headers["user-agent"], "test-agent")
      assert.isUndefined(seen.headers["traceparent"], "no trace headers unless spans: true")
    }))

  it.scopedLive("streams a request body and a response body", () =>
    Effect.gen(function*() {
      const server = yield* serve((_req, res, body) => res.end(body.toUpperCase()))
      const http = yield* client()
      const parts = ["één ", "hai ", "ba"]
      const response = yield* http.execute(
        HttpClientRequest.post(server.url).pipe(
          HttpClientRequest.bodyStream(Stream.fromIterable(parts).pipe(Stream.encodeText), {
            contentType: "text/plain"
          })
        )
      )
      const chunks = yield* Stream.runCollect(response.stream.pipe(Stream.decodeText()))
      assert.strictEqual(Chunk.join(chunks, ""), "ÉÉN HAI BA")
      assert.strictEqual(server.seen[0].body, parts.join(""))
    }))

  it.scopedLive("keeps connections alive: requests one after another reuse them", () =>
    Effect.gen(function*() {
      const server = yield* serve((_req, res) => res.end("ok"))
      const http = yield* client()
      for (let i = 0; i < 20; i++) yield* Effect.flatMap(http.get(server.url), (response) => response.text)
      assert.strictEqual(server.seen.length, 20)
      // undici may open a second one while the first finishes its previous response.
      assert.isAtMost(server.connections(), 2)
    }))

  it.scopedLive("opens at most `connections` connections per origin; more requests wait for one", () =>
    Effect.gen(function*() {
      const server = yield* serve((_req, res) => setTimeout(() => res.end("ok"), 20))
      const http = yield* client({ connections: 2 })
      const texts = yield* Effect.forEach(
        Array.from({ length: 6 }),
        () => Effect.flatMap(http.get(server.url), (response) => response.text),
        { concurrency: "unbounded" }
      )
      assert.deepStrictEqual(texts, Array(6).fill("ok"))
      assert.strictEqual(server.connections(), 2)
    }))

  it.scopedLive("a refused connection is a Transport RequestError whose cause is undici's, code ECONNREFUSED", () =>
    Effect.gen(function*() {
      const port = yield* closedPort
      const http = yield* client()
      const error = yield* Effect.flip(http.get(`http://127.0.0.1:${port}/`))
      assert.strictEqual(error._tag, "RequestError")
      assert.strictEqual(error.reason, "Transport")
      assert.strictEqual(causeCode(error), "ECONNREFUSED")
    }))

  it.scopedLive("a server that drops the socket before answering is a Transport RequestError, code UND_ERR_SOCKET", () =>
    Effect.gen(function*() {
      const server = yield* serve((req) => req.socket.destroy())
      const http = yield* client()
      const error = yield* Effect.flip(http.post(server.url, { body: undefined }))
      assert.strictEqual(error._tag, "RequestError")
      assert.strictEqual(error.reason, "Transport")
      assert.strictEqual(causeCode(error), "UND_ERR_SOCKET")
      assert.strictEqual(server.seen.length, 1, "the request did reach the server")
    }))

  it.scopedLive("a server that drops the socket in the middle of the body fails the read with a ResponseError", () =>
    Effect.gen(function*() {
      const server = yield* serve((req, res) => {
        res.writeHead(200, { "content-length": "1000" })
        res.write("{\"CodeResult\":", () => req.socket.destroy())
      })
      const http = yield* client()
      const response = yield* http.get(server.url)
      assert.strictEqual(response.status, 200)
      const error = yield* Effect.flip(response.text)
      assert.strictEqual(error._tag, "ResponseError")
      assert.strictEqual(error.reason, "Decode")
      assert.strictEqual(causeCode(error), "UND_ERR_SOCKET")
    }))

  it.scopedLive("interrupting a request aborts it: the server sees its connection close", () =>
    Effect.gen(function*() {
      const arrived = yield* Deferred.make<void>()
      const closed = yield* Deferred.make<void>()
      const server = yield* serve((req) => {
        req.socket.once("close", () => Deferred.unsafeDone(closed, Effect.void))
        Deferred.unsafeDone(arrived, Effect.void) // and never answer
      })
      const http = yield* client()
      const fiber = yield* Effect.fork(http.get(server.url))
      yield* Deferred.await(arrived)
      yield* Fiber.interrupt(fiber)
      yield* Deferred.await(closed).pipe(Effect.timeoutFail({ duration: "5 seconds", onTimeout: () => "not aborted" }))
      // The pool still works after an aborted request.
      assert.strictEqual(server.seen.length, 1)
    }))

  it.scopedLive("interrupting a body read aborts it too", () =>
    Effect.gen(function*() {
      const closed = yield* Deferred.make<void>()
      const server = yield* serve((req, res) => {
        req.socket.once("close", () => Deferred.unsafeDone(closed, Effect.void))
        res.writeHead(200, { "content-type": "text/plain" })
        res.write("the first half, and the rest never comes")
      })
      const http = yield* client()
      const response = yield* http.get(server.url)
      const fiber = yield* Effect.fork(response.text)
      // The read has begun once its fiber waits on the body (nothing else in it suspends): no timer.
      yield* Fiber.status(fiber).pipe(
        Effect.zipLeft(Effect.yieldNow()),
        Effect.repeat({ until: (status) => status._tag === "Suspended" })
      )
      yield* Fiber.interrupt(fiber)
      yield* Deferred.await(closed).pipe(Effect.timeoutFail({ duration: "5 seconds", onTimeout: () => "not aborted" }))
    }))

  it.scopedLive("an invalid URL fails with reason InvalidUrl, without a connection", () =>
    Effect.gen(function*() {
      const http = yield* client()
      const error = yield* Effect.flip(http.get("not a url"))
      assert.strictEqual(error._tag, "RequestError")
      assert.strictEqual(error.reason, "InvalidUrl")
    }))

  it.scopedLive("with spans: true, each request carries W3C trace headers", () =>
    Effect.gen(function*() {
      const server = yield* serve((_req, res) => res.end("ok"))
      const http = yield* client({ spans: true })
      yield* Effect.flatMap(http.get(server.url), (response) => response.text).pipe(Effect.withSpan("parent"))
      assert.match(String(server.seen[0].headers["traceparent"]), /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/)
    }))
})
