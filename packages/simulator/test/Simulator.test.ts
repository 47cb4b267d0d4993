import { assert, describe, it } from "@effect/vitest"
import { SendRequest, ZaloMessage } from "@esms-effect/core"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import * as Events from "node:events"
import * as Net from "node:net"
import { Simulator } from "../src/index.js"
import {
  ACTIVE_OA,
  API_KEY,
  body,
  httpClient,
  INACTIVE_OA,
  payload,
  request,
  SECRET_KEY,
  send,
  sendUrl
} from "./EsmsWire.js"

const withSimulator = (options: Simulator.Options = {}) =>
  Effect.provide(Layer.merge(Simulator.layer(options), httpClient))

const SMSID = /^[0-9a-f]{32}$/

describe("Simulator send endpoint", () => {
  it.live("accepts a valid photo message: 100 with a fresh 32-hex SMSID, and stores it", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.Simulator
      const first = yield* send({ RequestId: "order-1" })
      const second = yield* send({ RequestId: "order-2" })
      assert.strictEqual(first.CodeResult, "100")
      assert.strictEqual(first.CountRegenerate, 0)
      assert.match(String(first.SMSID), SMSID)
      assert.notStrictEqual(first.SMSID, second.SMSID)
      const stored = yield* simulator.message(String(first.SMSID))
      assert.isTrue(Option.isSome(stored))
      const message = Option.getOrThrow(stored)
      assert.strictEqual(message.requestId, "order-1")
      assert.strictEqual(message.userId, "5308693166941955879")
      assert.strictEqual(message.imageUrl, "https://cdn.example.com/photos/order.png")
      assert.strictEqual(yield* simulator.acceptedCount("order-1"), 1)
    }).pipe(withSimulator()))

  it.live("reads the body as JSON whatever the content type, and with or without the trailing slash", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.Simulator
      const text = JSON.stringify(body())
      for (const contentType of ["application/json; charset=utf-8", "text/plain", "text/plain; charset=utf-8"]) {
        const answer = yield* request("POST", sendUrl(simulator), text, contentType)
        assert.strictEqual(answer.status, 200)
        assert.strictEqual(JSON.parse(answer.text).CodeResult, "100", contentType)
        assert.include(answer.contentType, "application/json")
      }
      const noSlash = yield* request("POST", sendUrl(simulator).replace(/\/$/, ""), text, "text/plain")
      assert.strictEqual(JSON.parse(noSlash.text).CodeResult, "100")
      const attempts = yield* simulator.attempts
      assert.deepStrictEqual(attempts.map((a) => a.contentType), [
        "application/json; charset=utf-8",
        "text/plain",
        "text/plain; charset=utf-8",
        "text/plain"
      ])
    }).pipe(withSimulator()))

  it.live("101 Authorize Failed for a wrong ApiKey or SecretKey, before looking at the payload", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.Simulator
      const wrongSecret = yield* send({ SecretKey: "nope" })
      const wrongKey = yield* send({ ApiKey: "nope", Payload: {} })
      const missing = yield* send(JSON.stringify({ OAID: ACTIVE_OA }))
      for (const answer of [wrongSecret, wrongKey, missing]) {
        assert.deepStrictEqual(answer, { CodeResult: "101", CountRegenerate: 0, ErrorMessage: "Authorize Failed" })
      }
      assert.deepStrictEqual(yield* simulator.messages, [])
    }).pipe(withSimulator()))

  it.live("204 for an OAID the account has not registered, 799 for an inactive one", () =>
    Effect.gen(function*() {
      assert.strictEqual((yield* send({ OAID: "424242" })).CodeResult, "204")
      assert.strictEqual((yield* send({ OAID: INACTIVE_OA })).CodeResult, "799")
    }).pipe(withSimulator()))

  it.live("210 for a payload not as specified, naming the broken field", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.Simulator
      const image = payload().message.attachment.payload.elements[0]
      const cases: ReadonlyArray<readonly [string, unknown, string]> = [
        ["text over 2000 characters", payload({ text: "a".repeat(2001) }), "at most 2000"],
        ["a .gif photo", payload({ url: "https://cdn.example.com/cat.gif" }), ".jpg, .jpeg or .png"],
        ["no text", { ...payload(), message: { attachment: payload().message.attachment } }, "text"],
        [
          "two images",
          {
            ...payload(),
            message: {
              ...payload().message,
              attachment: { type: "template", payload: { template_type: "media", elements: [image, image] } }
            }
          },
          "elements"
        ],
        ["no Payload", undefined, "Payload"]
      ]
      for (const [name, Payload, expected] of cases) {
        const answer = yield* send(Payload === undefined ? { Payload: undefined } : { Payload })
        assert.strictEqual(answer.CodeResult, "210", name)
        assert.include(String(answer.ErrorMessage), expected, name)
      }
      // 2000 Vietnamese characters are 2000 code points, though more UTF-16 units and bytes.
      const vietnamese = "ệ".normalize("NFC").repeat(1000) + "𝒜".repeat(1000)
      assert.strictEqual((yield* send({ Payload: payload({ text: vietnamese }) })).CodeResult, "100")
      assert.strictEqual((yield* simulator.messages).length, 1)
    }).pipe(withSimulator()))

  it.live("answers every body as SendRequest.fromJson + toMessage judge it: same 210 text, same message", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.Simulator
      const element = payload().message.attachment.payload.elements[0]
      const withElements = (elements: unknown) => ({
        ...payload(),
        message: {
          ...payload().message,
          attachment: { type: "template", payload: { template_type: "media", elements } }
        }
      })
      const bodies: ReadonlyArray<Record<string, unknown>> = [
        body(),
        body({ RequestId: "r-1", CallbackUrl: "https://example.com/cb", SendDate: "2026-12-01 10:00:00" }),
        body({ Extra: 1, Payload: { ...payload(), extra: [1] } }),
        body({ RequestId: 7 }),
        body({ RequestId: null }),
        body({ SendDate: "tomorrow" }),
        body({ CallbackUrl: "not a url" }),
        body({ Payload: [] }),
        body({ Payload: { ...payload(), recipient: { user_id: 5308693166941955 } } }),
        body({ Payload: { ...payload(), recipient: [] } }),
        body({ Payload: payload({ text: "" }) }),
        body({ Payload: payload({ userId: "not-digits" }) }),
        body({ Payload: withElements([]) }),
        body({ Payload: withElements(element) }),
        body({ Payload: withElements([{ ...element, media_type: "video" }]) }),
        body({ Payload: withElements([{ ...element, url: 42 }]) }),
        body({ Payload: withElements([{ ...element, extra: true }]) }),
        body({ Payload: { ...payload(), message: { ...payload().message, attachment: { type: "file" } } } })
      ]
      for (const [i, fields] of bodies.entries()) {
        const text = JSON.stringify(fields)
        const expected = yield* SendRequest.fromJson(text).pipe(
          Effect.flatMap(SendRequest.toMessage),
          Effect.mapError((error) =>
            `Payload is not as specified: ${ZaloMessage.formatFieldErrors(ZaloMessage.fieldErrors(error))}`
          ),
          Effect.either
        )
        const answer = yield* send(text)
        if (Either.isLeft(expected)) {
          assert.deepStrictEqual([answer.CodeResult, answer.ErrorMessage], ["210", expected.left], text)
        } else {
          assert.strictEqual(answer.CodeResult, "100", text)
          const stored = Option.getOrThrow(yield* simulator.message(String(answer.SMSID)))
          const m = expected.right
          assert.deepStrictEqual(
            [stored.userId, stored.text, stored.imageUrl, stored.requestId, stored.callbackUrl, stored.sendDate],
            [m.userId, m.text, m.imageUrl, m.requestId, m.callbackUrl, m.sendDate],
            `body ${i}`
          )
        }
      }
    }).pipe(withSimulator({ accounts: [{ ...Simulator.defaultAccount, balance: 1_000_000 }] })))

  it.live("103 when the balance cannot pay for the message; each accepted message costs the price", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.Simulator
      assert.strictEqual((yield* send()).CodeResult, "100")
      assert.deepStrictEqual(yield* simulator.balance(9999), Option.some(40))
      const answer = yield* send()
      assert.strictEqual(answer.CodeResult, "103")
      assert.deepStrictEqual(yield* simulator.balance(9999), Option.some(40))
      yield* simulator.setBalance(9999, 1000)
      assert.strictEqual((yield* send()).CodeResult, "100")
    }).pipe(withSimulator({ accounts: [{ ...Simulator.defaultAccount, balance: 100 }], price: 60 })))

  it.effect("124 for a RequestId seen in the last 24 hours (TestClock), accepted again after", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.Simulator
      assert.strictEqual((yield* send({ RequestId: "pay-7" })).CodeResult, "100")
      const repeat = yield* send({ RequestId: "pay-7" })
      assert.strictEqual(repeat.CodeResult, "124")
      assert.isUndefined(repeat.SMSID)
      assert.strictEqual((yield* send({ RequestId: "pay-8" })).CodeResult, "100")
      yield* TestClock.adjust("23 hours")
      assert.strictEqual((yield* send({ RequestId: "pay-7" })).CodeResult, "124")
      assert.strictEqual(yield* simulator.acceptedCount("pay-7"), 1)
      yield* TestClock.adjust("1 hour")
      assert.strictEqual((yield* send({ RequestId: "pay-7" })).CodeResult, "100")
      assert.strictEqual(yield* simulator.acceptedCount("pay-7"), 2)
    }).pipe(withSimulator()))

  it.effect("RequestIds are de-duplicated per account", () =>
    Effect.gen(function*() {
      assert.strictEqual((yield* send({ RequestId: "same" })).CodeResult, "100")
      const fromOther = yield* send({ RequestId: "same", ApiKey: "OTHER-KEY", SecretKey: "OTHER-SECRET", OAID: "77" })
      assert.strictEqual(fromOther.CodeResult, "100")
    }).pipe(withSimulator({
      accounts: [
        Simulator.defaultAccount,
        {
          apiKey: "OTHER-KEY",
          secretKey: Redacted.make("OTHER-SECRET"),
          userId: 7,
          balance: 1000,
          oaids: [{ oaid: "77", active: true }]
        }
      ]
    })))

  it.effect("160 once an account exceeds its messages per second; the next second is open again", () =>
    Effect.gen(function*() {
      const codes = []
      for (let i = 0; i < 4; i++) codes.push((yield* send()).CodeResult)
      assert.deepStrictEqual(codes, ["100", "100", "100", "160"])
      yield* TestClock.adjust("1 second")
      assert.strictEqual((yield* send()).CodeResult, "100")
    }).pipe(withSimulator({ tps: 3 })))

  it.live("records every request with the keys redacted, and never logs a key", () => {
    const lines: Array<string> = []
    const capture = Logger.make(({ annotations, message }) => {
      lines.push(JSON.stringify({ message, annotations: Object.fromEntries(annotations) }))
    })
    // The server logs in the runtime it was built in: give that one the capturing logger.
    const simulatorWithLogs = Simulator.layer().pipe(
      Layer.provide(Logger.replace(Logger.defaultLogger, capture)),
      Layer.provide(Logger.minimumLogLevel(LogLevel.All))
    )
    return Effect.gen(function*() {
      const simulator = yield* Simulator.Simulator
      yield* send({ RequestId: "logged", CallbackUrl: "http://127.0.0.1:1/cb" })
      yield* send({ SecretKey: "WRONG-SECRET-VALUE" })
      yield* request("GET", `${simulator.baseUrl}/GetSendStatus?RefId=x&ApiKey=${API_KEY}&SecretKey=${SECRET_KEY}`)
      yield* request(
        "POST",
        `${simulator.baseUrl}/GetBalance_json`,
        JSON.stringify({ ApiKey: API_KEY, SecretKey: SECRET_KEY })
      )
      yield* simulator.awaitCallbacks(1)
      const attempts = yield* simulator.attempts
      assert.deepStrictEqual(attempts.map((a) => [a.seq, a.endpoint, a.codeResult]), [
        [1, "SendZaloFollowerMessage", "100"],
        [2, "SendZaloFollowerMessage", "101"],
        [3, "GetSendStatus", "105"],
        [4, "GetBalance", "100"]
      ])
      assert.include(attempts[0].body, "\"RequestId\":\"logged\"")
      const recorded = JSON.stringify(attempts)
      for (const secret of [API_KEY, SECRET_KEY, "WRONG-SECRET-VALUE"]) {
        assert.notInclude(recorded, secret)
        assert.notInclude(lines.join("\n"), secret)
      }
      assert.include(recorded, "<redacted>")
      assert.isTrue(lines.some((line) => line.includes("message accepted")), "the debug log was captured")
    }).pipe(Effect.provide(Layer.merge(simulatorWithLogs, httpClient)))
  })

  it.live("judges a send by when its headers arrived, not when its body was read (TPS window, record)", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.Simulator
      const url = new URL(sendUrl(simulator))
      const text = Buffer.from(JSON.stringify(body({ RequestId: "slow-body" })))
      const socket = Net.connect(Number(url.port), url.hostname)
      yield* Effect.promise(() => Events.once(socket, "connect"))
      const headersSent = Date.now()
      socket.write(
        `POST ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${text.length}\r\nConnection: close\r\n\r\n`
      )
      // The body comes 1.5 s later: past the TPS window, had the stamp waited for it.
      yield* Effect.sleep("1500 millis")
      socket.end(text)
      let answer = ""
      socket.setEncoding("utf8").on("data", (chunk: string) => (answer += chunk))
      yield* Effect.promise(() => Events.once(socket, "end"))
      assert.include(answer, `"CodeResult":"100"`)
      const [attempt] = yield* simulator.attempts
      const [message] = yield* simulator.messages
      assert.strictEqual(message.requestId, "slow-body")
      assert.isBelow(attempt.at - headersSent, 500)
      assert.strictEqual(message.acceptedAt, attempt.at)
    }).pipe(withSimulator()))

  it.live("reads a body of many chunks whole, a UTF-8 character split across two of them included", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.Simulator
      // ~600 KB of 3-byte characters: many socket reads, characters cut between two of them.
      const padding = "ệ".normalize("NFC").repeat(200_000)
      const text = "ệ".normalize("NFC").repeat(1999) + "!"
      const big = yield* send({ Padding: padding, Payload: payload({ text }) })
      assert.strictEqual(big.CodeResult, "100")
      const [message] = yield* simulator.messages
      assert.strictEqual(message.text, text)
      const [attempt] = yield* simulator.attempts
      assert.strictEqual(JSON.parse(attempt.body).Padding, padding)
    }).pipe(withSimulator()))

  it.live("answers 400 with an HTML page for a body that is not JSON, and 404 for an unknown endpoint", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.Simulator
      const notJson = yield* request(
        "POST",
        sendUrl(simulator),
        "ApiKey=x&SecretKey=y",
        "application/x-www-form-urlencoded"
      )
      assert.strictEqual(notJson.status, 400)
      assert.include(notJson.contentType, "text/html")
      const unknown = yield* request("POST", `${simulator.baseUrl}/SendZaloFollowerMessage_V4_post_json/`, "{}")
      assert.strictEqual(unknown.status, 404)
    }).pipe(withSimulator()))
})

describe("Simulator status and balance endpoints", () => {
  it.live("GetSendStatus: pending, then finished with the delivery result; 101 on bad keys; 105 unknown SMSID", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.Simulator
      const status = (refId: string, secret = SECRET_KEY) =>
        request(
          "GET",
          `${simulator.baseUrl}/GetSendStatus?RefId=${refId}&ApiKey=${API_KEY}&SecretKey=${encodeURIComponent(secret)}`
        ).pipe(Effect.map((a) => JSON.parse(a.text)))
      const smsId = String((yield* send()).SMSID)
      const failedId = String((yield* send({ Payload: payload({ userId: "9000000000000000213" }) })).SMSID)
      const pending = yield* status(smsId)
      assert.strictEqual(pending.CodeResponse, "100")
      assert.strictEqual(pending.SendStatus, 2)
      yield* simulator.waitUntil((s) => s.messages.every((m) => m.status !== "Pending"))
      assert.deepStrictEqual(yield* status(smsId), {
        CodeResponse: "100",
        SMSID: smsId,
        SendFailed: 0,
        SendStatus: 5,
        SendSuccess: 1,
        TotalPrice: 60,
        TotalReceiver: 1,
        TotalSent: 1
      })
      const failed = yield* status(failedId)
      assert.deepStrictEqual([failed.SendStatus, failed.SendSuccess, failed.SendFailed, failed.TotalPrice], [
        5,
        0,
        1,
        0
      ])
      assert.deepStrictEqual(yield* status(smsId, "wrong"), { CodeResponse: "101", SMSID: smsId })
      assert.deepStrictEqual(yield* status("0123456789abcdef0123456789abcdef"), {
        CodeResponse: "105",
        SMSID: "0123456789abcdef0123456789abcdef"
      })
    }).pipe(withSimulator({ callbackDelay: "200 millis" })))

  it.live("GetBalance_json: balance after sends (a failed delivery is refunded); 101 on bad keys", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.Simulator
      const balance = (secret: string, contentType?: string) =>
        request(
          "POST",
          `${simulator.baseUrl}/GetBalance_json`,
          JSON.stringify({ ApiKey: API_KEY, SecretKey: secret }),
          contentType
        )
          .pipe(Effect.map((a) => JSON.parse(a.text)))
      assert.deepStrictEqual(yield* balance(SECRET_KEY), { Balance: 100_000, CodeResponse: "100", UserID: 9999 })
      yield* send()
      yield* send({ Payload: payload({ userId: "9000000000000000213" }) })
      assert.strictEqual((yield* balance(SECRET_KEY, "text/plain")).Balance, 100_000 - 120)
      yield* simulator.waitUntil((s) => s.messages.every((m) => m.status !== "Pending"))
      assert.strictEqual((yield* balance(SECRET_KEY)).Balance, 100_000 - 60)
      assert.deepStrictEqual(yield* balance("wrong"), {
        Balance: 0,
        CodeResponse: "101",
        ErrorMessage: "Authorize Failed"
      })
    }).pipe(withSimulator()))
})
