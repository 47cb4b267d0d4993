/**
 * GetSendStatus against the simulator over loopback HTTP, and the keys in its query string kept out
 * of spans, errors and logs.
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { assert, describe, it } from "@effect/vitest"
import { Credentials } from "@esms-effect/core"
import { Simulator } from "@esms-effect/simulator"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Redacted from "effect/Redacted"
import * as Tracer from "effect/Tracer"
import * as Http from "node:http"
import type * as Net from "node:net"
import { EsmsClient, SendStatus } from "../src/index.js"

const account = Simulator.defaultAccount
const plain = (value: string | Redacted.Redacted<string>) => Redacted.isRedacted(value) ? Redacted.value(value) : value
const API_KEY = plain(account.apiKey)
const SECRET_KEY = plain(account.secretKey)
const credentials = Credentials.make({ apiKey: API_KEY, secretKey: SECRET_KEY, oaid: account.oaids[0].oaid })

const Env = Layer.mergeAll(Simulator.layer({ callbackDelay: "300 millis" }), NodeHttpClient.layerUndici)

const clients = Effect.gen(function*() {
  const simulator = yield* Simulator.Simulator
  const options = { credentials, baseUrl: simulator.baseUrl, maxAttempts: 1 }
  return {
    simulator,
    esms: yield* EsmsClient.make(options),
    status: yield* SendStatus.make(options)
  }
})

const photo = { text: "Xin chào", imageUrl: "https://cdn.example.vn/p.png" }

describe("SendStatus", () => {
  it.scopedLive(
    "answers delivered, failed and waiting from GetSendStatus; 105 for an unknown SMSID",
    () =>
      Effect.gen(function*() {
        const { esms, simulator, status } = yield* clients
        const ok = yield* esms.sendZaloImage({ ...photo, userId: "5308693166941955879" })
        const ko = yield* esms.sendZaloImage({ ...photo, userId: "9000000000000000213" })
        const early = yield* status.get(ok.smsId!)
        assert.strictEqual(early.sendStatus, "WaitingToSend")
        yield* simulator.waitUntil((s) => s.messages.every((m) => m.status !== "Pending"))
        const delivered = yield* status.get(ok.smsId!)
        assert.deepStrictEqual(
          { status: delivered.sendStatus, success: delivered.sendSuccess, smsId: delivered.smsId },
          { status: "Finished", success: 1, smsId: ok.smsId! }
        )
        const failed = yield* status.get(ko.smsId!)
        assert.strictEqual(failed.sendFailed, 1)
        const missing = yield* Effect.flip(status.get("0000"))
        assert.strictEqual(missing._tag, "SmsIdNotFound")
      }).pipe(Effect.provide(Env)),
    { timeout: 10_000 }
  )

  it.scopedLive("wrong keys: AuthorizeFailed", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.Simulator
      const status = yield* SendStatus.make({
        credentials: Credentials.make({ apiKey: "nope", secretKey: "nope", oaid: "1" }),
        baseUrl: simulator.baseUrl,
        maxAttempts: 1
      })
      assert.strictEqual((yield* Effect.flip(status.get("x")))._tag, "AuthorizeFailed")
    }).pipe(Effect.provide(Env)))

  it.scopedLive("the URL with the keys reaches no span, no error and no log line", () =>
    Effect.gen(function*() {
      const spans: Array<Tracer.Span> = []
      const native = yield* Effect.tracer
      const recording = Tracer.make({
        span: (...args) => {
          const span = native.span(...args)
          spans.push(span)
          return span
        },
        context: (f, fiber) => native.context(f, fiber)
      })
      const logs: Array<string> = []
      const logger = Logger.make(({ annotations, message }) => {
        logs.push(JSON.stringify([message, ...annotations]))
      })
      // An echoing proxy (HTTP 502 with the request URL in its body) and a closed port.
      const echo = yield* Effect.acquireRelease(
        Effect.async<Http.Server>((resume) => {
          const server = Http.createServer((req, res) => res.writeHead(502).end(`bad gateway for ${req.url}`))
          server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
        }),
        (server) => Effect.sync(() => server.close())
      )
      const echoPort = (echo.address() as Net.AddressInfo).port
      const failing = (baseUrl: string) =>
        SendStatus.make({ credentials, baseUrl, maxAttempts: 1 }).pipe(Effect.flatMap((s) => Effect.flip(s.get("abc"))))
      const run = Effect.gen(function*() {
        const { status } = yield* clients
        yield* status.get("abc").pipe(Effect.ignore)
        return [
          yield* failing(`http://127.0.0.1:${echoPort}/json`),
          yield* failing("http://127.0.0.1:9/json")
        ]
      })
      const failures = yield* run.pipe(
        Effect.withTracer(recording),
        Effect.provide(Logger.replace(Logger.defaultLogger, logger)),
        Logger.withMinimumLogLevel(LogLevel.All)
      )
      assert.deepStrictEqual(failures.map((e) => e._tag), ["HttpStatusError", "ConnectionFailed"])
      const seen = [
        ...failures.map((e) => `${e.message} ${JSON.stringify(e)}`),
        ...spans.map((s) => `${s.name} ${JSON.stringify([...s.attributes])}`),
        ...logs
      ].join("\n")
      // The proxy's echo is there, with the keys scrubbed.
      assert.include(seen, "bad gateway for /json/GetSendStatus?RefId=abc&ApiKey=<redacted>")
      assert.notInclude(seen, API_KEY)
      assert.notInclude(seen, SECRET_KEY)
      assert.include(spans.map((s) => s.name), "esms.getSendStatus")
      assert.isFalse(spans.some((s) => s.name.startsWith("http.client")))
    }).pipe(Effect.provide(Env)))
})
