import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { readFileSync } from "node:fs"
import * as EsmsClient from "../src/EsmsClient.js"
import { API_KEY, message, OAID, SECRET_KEY, send } from "./Fixtures.js"
import * as RecordingHttpClient from "./RecordingHttpClient.js"

const ENDPOINT = "https://rest.esms.vn/MainService.svc/json/SendZaloFollowerMessage_V5_post_json/"

const payload = (text: string, url: string) => ({
  recipient: { user_id: message.userId },
  message: {
    text,
    attachment: {
      type: "template",
      payload: { template_type: "media", elements: [{ media_type: "image", url }] }
    }
  }
})

describe("EsmsClient request", () => {
  it.effect("POSTs to the V5 endpoint under the default base URL", () =>
    Effect.gen(function*() {
      const { requests, result } = yield* send(message)
      assert.strictEqual(result._tag, "Right")
      assert.strictEqual(requests.length, 1)
      assert.strictEqual(requests[0].method, "POST")
      assert.strictEqual(requests[0].url, ENDPOINT)
    }))

  it.effect("appends the path to a custom base URL, with or without a trailing slash", () =>
    Effect.gen(function*() {
      for (
        const [baseUrl, expected] of [
          ["https://esms.internal.example/svc/json", "https://esms.internal.example/svc/json"],
          ["https://esms.internal.example/svc/json/", "https://esms.internal.example/svc/json"],
          ["https://esms.internal.example/svc/json//", "https://esms.internal.example/svc/json"],
          ["https://esms.internal.example", "https://esms.internal.example"],
          ["https://esms.internal.example/", "https://esms.internal.example"],
          ["http://127.0.0.1:8080/json", "http://127.0.0.1:8080/json"]
        ]
      ) {
        const { requests } = yield* send(message, undefined, { baseUrl })
        assert.deepStrictEqual(
          requests.map((r) => r.url),
          [`${expected}/SendZaloFollowerMessage_V5_post_json/`],
          baseUrl
        )
      }
    }))

  it.effect("sends JSON in UTF-8 with this package's User-Agent", () =>
    Effect.gen(function*() {
      const { requests } = yield* send(message)
      const { body, headers } = requests[0]
      assert.strictEqual(headers["content-type"], "application/json; charset=utf-8")
      assert.strictEqual(headers["user-agent"], "@esms-effect/http-client/0.1.0")
      assert.strictEqual(headers["accept"], "application/json")
      // Vietnamese and emoji are multi-byte: the length is in bytes, not characters.
      assert.strictEqual(headers["content-length"], String(Buffer.byteLength(body, "utf8")))
      assert.notStrictEqual(Buffer.byteLength(body, "utf8"), body.length)
    }))

  it("reports the version in package.json", () => {
    const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"))
    assert.strictEqual(EsmsClient.VERSION, pkg.version)
    assert.strictEqual(EsmsClient.USER_AGENT, `@esms-effect/http-client/${pkg.version}`)
  })

  it.effect("sends the API.md §1 body for a message with no optional field: a generated RequestId, no others", () =>
    Effect.gen(function*() {
      const { requests, result } = yield* send(message)
      const body = JSON.parse(requests[0].body)
      assert.match(body.RequestId, /^esms-[0-9a-f-]{36}$/)
      assert.isAtMost(body.RequestId.length, 50)
      assert.deepStrictEqual(body, {
        ApiKey: API_KEY,
        SecretKey: SECRET_KEY,
        OAID,
        RequestId: body.RequestId,
        Payload: payload(message.text, message.imageUrl)
      })
      assert.deepStrictEqual(Object.keys(body), ["ApiKey", "SecretKey", "OAID", "RequestId", "Payload"])
      assert.notInclude(requests[0].body, "null")
      // The generated id is the one the caller gets back.
      assert.strictEqual(Either.getOrThrow(result).requestId, body.RequestId)
      const second = yield* send(message)
      assert.notStrictEqual(JSON.parse(second.requests[0].body).RequestId, body.RequestId)
    }))

  it.effect("sends every optional field under its wire name", () =>
    Effect.gen(function*() {
      const { requests, result } = yield* send({
        ...message,
        requestId: "order-42",
        callbackUrl: "https://shop.example.vn/esms/callback?shop=1",
        sendDate: "2026-12-01 08:30:00"
      })
      assert.deepStrictEqual(JSON.parse(requests[0].body), {
        ApiKey: API_KEY,
        SecretKey: SECRET_KEY,
        OAID,
        RequestId: "order-42",
        CallbackUrl: "https://shop.example.vn/esms/callback?shop=1",
        SendDate: "2026-12-01 08:30:00",
        Payload: payload(message.text, message.imageUrl)
      })
      assert.strictEqual(result._tag === "Right" && result.right.requestId, "order-42")
    }))

  it.effect("treats optional fields given as undefined as absent", () =>
    Effect.gen(function*() {
      const { requests } = yield* send({
        ...message,
        requestId: undefined,
        callbackUrl: undefined,
        sendDate: undefined
      })
      assert.deepStrictEqual(Object.keys(JSON.parse(requests[0].body)), [
        "ApiKey",
        "SecretKey",
        "OAID",
        "RequestId",
        "Payload"
      ])
    }))

  it.effect("sends the text exactly, line breaks and all", () =>
    Effect.gen(function*() {
      const text = "Dòng một\r\nDòng hai \"trích dẫn\" \\ 😀"
      const { requests } = yield* send({ ...message, text })
      assert.strictEqual(JSON.parse(requests[0].body).Payload.message.text, text)
    }))

  it.effect("sends exactly one request per send, even when the answer is a failure", () =>
    Effect.gen(function*() {
      const { requests, result } = yield* send(message, RecordingHttpClient.text("oops", { status: 500 }))
      assert.strictEqual(result._tag, "Left")
      assert.strictEqual(requests.length, 1)
    }))
})
