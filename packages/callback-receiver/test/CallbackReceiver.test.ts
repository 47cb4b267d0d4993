import { assert, describe, it } from "@effect/vitest"
import { DeliveryReport } from "@esms-effect/core"
import { DeliveryReports } from "@esms-effect/store"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Net from "node:net"
import { CallbackReceiver, CallbackToken, DeliveryStatus } from "../src/index.js"
import { callbackPath, layer, request, tempStoreFile, TOKEN } from "./Fixtures.js"

// The vendor's Zalo consulting sample (error_info encoded twice, with a time) and its -114 sample.
const consulting = "SMSID=7d11c87a22934df390f73ec59d8defd6205&SendFailed=0&SendStatus=5&SendSuccess=1" +
  "&TotalPrice=60.0000&TotalReceiver=1&TotalSent=1&RequestId=&TypeId=26&phonenumber=312158068343230" +
  "&error_info=%257B%2522data%2522%3A%257B%2522message_id%2522%3A%2522e1a60e8890be9de4c4ab%2522%2C%2522user_id" +
  "%2522%3A%252231215806834323092%2522%257D%2C%2522error%2522%3A0%2C%2522message%2522%3A%2522Success%2522%257D" +
  "____24%2F04%2F2024%252016%3A58%3A01&oaid=4097311281936189049&partnerids=e1a60e8890be9de4c4ab"
const rejected = "SMSID=f66545d2-c7e2-4603-984e-d2238c363c8292&SendFailed=1&SendStatus=5&SendSuccess=0" +
  "&TotalPrice=0.0000&TotalReceiver=1&TotalSent=0&RequestId=req-9&TypeId=25&telcoid=2&phonenumber=0901888484" +
  "&partnerids=&error_info=%22{%5C%22error%5C%22%3A-114%2C%5C%22message%5C%22%3A%5C%22User%20is%20inactive%2C" +
  "%20or%20reject%20the%20message%2C%20or%20using%20an%20outdated%20Zalo%20version%2C%20or%20other%20internal" +
  "%20errors%5C%22}%22&oaid=1397492183140006179&tempid=2056446"

const setup = Effect.gen(function*() {
  const file = yield* tempStoreFile
  // Built into the test's scope: the server listens until the test ends.
  const context = yield* Layer.build(layer(file))
  const receiver = Context.get(context, CallbackReceiver.CallbackReceiver)
  const store = Context.get(context, DeliveryReports.DeliveryReports)
  return { receiver, store, get: (path: string) => request(receiver.port, path) }
})

describe("CallbackReceiver", () => {
  it.scopedLive("stores a callback with the right token and answers 200; its URL carries the token", () =>
    Effect.gen(function*() {
      const { get, receiver, store } = yield* setup
      assert.strictEqual(
        Redacted.value(receiver.url),
        `http://127.0.0.1:${receiver.port}/esms/callback/${Redacted.value(TOKEN)}`
      )
      assert.notInclude(String(receiver.url), Redacted.value(TOKEN))
      const answer = yield* get(callbackPath(consulting))
      assert.deepStrictEqual(answer, { status: 200, body: "OK" })
      const stored = Option.getOrThrow(yield* store.latest("7d11c87a22934df390f73ec59d8defd6205"))
      assert.strictEqual(DeliveryStatus.describeFate(DeliveryReport.fate(stored.report)), "delivered")
      assert.strictEqual(stored.report.zalo?.data?.message_id, "e1a60e8890be9de4c4ab")
    }))

  it("behind a proxy: the public URL, the path and the token", () => {
    assert.strictEqual(
      Redacted.value(CallbackReceiver.callbackUrl("https://hooks.example.vn/", TOKEN)),
      `https://hooks.example.vn/esms/callback/${Redacted.value(TOKEN)}`
    )
  })

  it.scopedLive("a repeated callback (eSMS's retries, even concurrent) is stored once and answered 200 each time", () =>
    Effect.gen(function*() {
      const { get, store } = yield* setup
      const answers = yield* Effect.all(Array.from({ length: 10 }, () => get(callbackPath(rejected))), {
        concurrency: "unbounded"
      })
      assert.deepStrictEqual(new Set(answers.map((a) => a.status)), new Set([200]))
      assert.strictEqual(yield* store.count, 1)
      const stored = Option.getOrThrow(yield* store.latest("req-9"))
      assert.strictEqual(stored.report.zalo?.error, -114)
      // A later status of the same message is a new report.
      yield* get(callbackPath("SMSID=f66545d2-c7e2-4603-984e-d2238c363c8292&SendStatus=7&RequestId=req-9"))
      assert.strictEqual(yield* store.count, 2)
    }))

  it.scopedLive("403 for a wrong, partial, differently cased or missing token; nothing stored", () =>
    Effect.gen(function*() {
      const { get, store } = yield* setup
      const token = Redacted.value(TOKEN)
      const paths = [
        callbackPath(consulting, "wrong-token-0123456789abcdef"),
        callbackPath(consulting, token.slice(0, -1)),
        callbackPath(consulting, `${token}x`),
        callbackPath(consulting, token.toUpperCase()),
        callbackPath(consulting, ""),
        `/esms/callback?${consulting}`,
        `/esms/callback/${token}/extra?${consulting}`
      ]
      for (const path of paths) {
        const answer = yield* get(path)
        assert.strictEqual(answer.status, 403, path)
        assert.notInclude(answer.body, token)
      }
      assert.strictEqual((yield* get(`/elsewhere?${consulting}`)).status, 404)
      assert.strictEqual(yield* store.count, 0)
    }))

  it.scopedLive("garbage gets 400 (or 405, 413, 414), never a crash: the next good callback is stored", () =>
    Effect.gen(function*() {
      const { get, receiver, store } = yield* setup
      const garbage = [
        "",
        "hello",
        "SendStatus=5",
        "SMSID=x&SendStatus=five",
        "SMSID=%ZZ&SendStatus=%",
        "SMSID=x&SendStatus=5&SendSuccess=-1",
        `SMSID=${"a".repeat(500)}&SendStatus=5`,
        "SMSID=a%00b&SendStatus=5",
        "%F0%28%8C%BC=%E2%82",
        "SMSID[]=1&SendStatus=5&error_info=%7B%7B%7B"
      ]
      for (const query of garbage) {
        assert.strictEqual((yield* get(callbackPath(query))).status, 400, query)
      }
      // The refusal says which field breaks which rule (core's structured problems, phrased here).
      assert.strictEqual(
        (yield* get(callbackPath("SMSID=x&SendStatus=five"))).body,
        "Not a delivery report: SendStatus must be a whole number, got \"five\""
      )
      assert.strictEqual((yield* request(receiver.port, callbackPath(consulting), { method: "POST" })).status, 405)
      assert.strictEqual(
        (yield* request(receiver.port, callbackPath(consulting), { method: "PUT", body: "x".repeat(10_000) })).status,
        413
      )
      assert.strictEqual((yield* get(callbackPath(`${consulting}&pad=${"x".repeat(9000)}`))).status, 414)
      // Past Node's header limit: cut before the app (431 or a closed connection).
      assert.include([0, 431], (yield* get(callbackPath(`pad=${"x".repeat(20_000)}`))).status)
      assert.strictEqual(yield* store.count, 0)
      assert.strictEqual((yield* get(callbackPath(consulting))).status, 200)
      assert.strictEqual(yield* store.count, 1)
    }))

  it.scopedLive("the token appears in no log line, even at debug", () =>
    Effect.gen(function*() {
      const lines: Array<string> = []
      const logger = Logger.make(({ annotations, message }) => {
        lines.push(JSON.stringify([message, ...annotations]))
      })
      yield* Effect.gen(function*() {
        const { get } = yield* setup
        yield* get(callbackPath(consulting))
        yield* get(callbackPath(consulting))
        yield* get(callbackPath("garbage"))
        yield* get(callbackPath(consulting, "nope-nope-nope-nope-nope"))
      }).pipe(
        Effect.provide(Logger.replace(Logger.defaultLogger, logger)),
        Logger.withMinimumLogLevel(LogLevel.All)
      )
      assert.isAbove(lines.length, 2)
      assert.include(lines.join("\n"), "callback repeated, already stored")
      assert.notInclude(lines.join("\n"), Redacted.value(TOKEN))
    }))
})

describe("CallbackReceiver against hostile callers", () => {
  it.scopedLive("an invalid percent-encoding (%FF%FE) gets 400, not a report with U+FFFD: two SMSIDs never collapse", () =>
    Effect.gen(function*() {
      const { get, store } = yield* setup
      for (const smsId of ["%FF%FE", "%FE%FF", "abc%E0%A4", "abc%zz", "%"]) {
        const answer = yield* get(callbackPath(`SMSID=${smsId}&SendStatus=5&SendSuccess=1`))
        assert.strictEqual(answer.status, 400, smsId)
        assert.match(answer.body, /percent-encoding/)
      }
      const badError = yield* get(callbackPath("SMSID=sms-ok-1&SendStatus=5&error_info=%C3%28"))
      assert.strictEqual(badError.status, 400)
      assert.strictEqual(yield* store.count, 0)
      // Valid UTF-8, encoded or not, and + for a space, are read as before.
      const good = yield* get(callbackPath("SMSID=sms-%C3%A9-1&SendStatus=5&SendSuccess=1&error_info=a+b%20c"))
      assert.strictEqual(good.status, 200)
      const stored = Option.getOrThrow(yield* store.latest("sms-é-1"))
      assert.strictEqual(stored.report.errorInfo, "a b c")
    }))

  it.scopedLive(
    "a slowloris socket that dribbles its headers is cut at the headers timeout (10 s)",
    () =>
      Effect.gen(function*() {
        const { receiver } = yield* setup
        const started = Date.now()
        const closedAfter = yield* Effect.async<number>((resume) => {
          const socket = Net.connect(receiver.port, "127.0.0.1", () => {
            socket.write(`GET ${CallbackReceiver.DEFAULT_PATH}/${Redacted.value(TOKEN)}?SMSID=x HTTP/1.1\r\n`)
          })
          // One header line every half second, never the blank line that ends them.
          let n = 0
          const drip = setInterval(() => socket.write(`X-Drip-${n++}: a\r\n`), 500)
          socket.on("error", () => {})
          socket.on("close", () => {
            clearInterval(drip)
            resume(Effect.succeed(Date.now() - started))
          })
          return Effect.sync(() => {
            clearInterval(drip)
            socket.destroy()
          })
        }).pipe(Effect.timeout("20 seconds"), Effect.orDie)
        console.log(`slowloris socket cut after ${closedAfter} ms`)
        assert.isAtLeast(closedAfter, 9_000)
        assert.isAtMost(closedAfter, 12_500, `cut after ${closedAfter} ms`)
      }),
    { timeout: 30_000 }
  )
})

describe("CallbackToken", () => {
  it("generates a different 43-character URL-safe token each time", () => {
    const tokens = new Set(Array.from({ length: 20 }, () => Redacted.value(CallbackToken.generate())))
    assert.strictEqual(tokens.size, 20)
    for (const token of tokens) {
      assert.match(token, /^[A-Za-z0-9_-]{43}$/)
      assert.isUndefined(CallbackToken.problem(token))
    }
  })

  it("matches only the exact token", () => {
    assert.isTrue(CallbackToken.matches(TOKEN, Redacted.value(TOKEN)))
    for (const candidate of ["", "test-token", `${Redacted.value(TOKEN)} `, "TEST-TOKEN-0123456789ABCDEF"]) {
      assert.isFalse(CallbackToken.matches(TOKEN, candidate), candidate)
    }
  })

  it.effect("reads ESMS_CALLBACK_TOKEN, refuses a short or unsafe one, generates one when unset", () =>
    Effect.gen(function*() {
      const read = (env: Record<string, string>) =>
        Effect.either(
          Effect.withConfigProvider(CallbackToken.config, ConfigProvider.fromMap(new Map(Object.entries(env))))
        )
      const given = yield* read({ ESMS_CALLBACK_TOKEN: "a-stable-token-of-32-characters!".replace("!", "x") })
      assert.strictEqual(Redacted.value(Either.getOrThrow(given)), "a-stable-token-of-32-charactersx")
      assert.isTrue(Either.isLeft(yield* read({ ESMS_CALLBACK_TOKEN: "short" })))
      assert.isTrue(Either.isLeft(yield* read({ ESMS_CALLBACK_TOKEN: "has spaces in it, sixteen+" })))
      assert.strictEqual(Redacted.value(Either.getOrThrow(yield* read({ ESMS_CALLBACK_TOKEN: "" }))).length, 43)
      const generated = yield* read({})
      assert.strictEqual(Redacted.value(Either.getOrThrow(generated)).length, 43)
    }))
})
