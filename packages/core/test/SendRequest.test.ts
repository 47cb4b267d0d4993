import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Equal from "effect/Equal"
import * as Redacted from "effect/Redacted"
import * as Credentials from "../src/Credentials.js"
import * as SendRequest from "../src/SendRequest.js"
import * as ZaloMessage from "../src/ZaloMessage.js"

const credentials = Credentials.make({ apiKey: "AK-SECRET-123", secretKey: "SK-SECRET-456", oaid: "4321987654" })

const message = (input: Partial<ZaloMessage.Input> = {}) =>
  Effect.runSync(ZaloMessage.validate({
    userId: "4872346234234",
    text: "Xin chào 👋\r\nƯu đãi hôm nay",
    imageUrl: "https://cdn.example.vn/promo/photo.png",
    ...input
  }))

const payload = (text: string, url: string) => ({
  recipient: { user_id: "4872346234234" },
  message: {
    text,
    attachment: {
      type: "template",
      payload: { template_type: "media", elements: [{ media_type: "image", url }] }
    }
  }
})

describe("SendRequest", () => {
  it("encodes a message without optional fields to the API.md §1 body, leaving them out", () => {
    const json = SendRequest.toJson(SendRequest.fromMessage(credentials, message()))
    const body = JSON.parse(json)
    assert.deepStrictEqual(body, {
      ApiKey: "AK-SECRET-123",
      SecretKey: "SK-SECRET-456",
      OAID: "4321987654",
      Payload: payload("Xin chào 👋\r\nƯu đãi hôm nay", "https://cdn.example.vn/promo/photo.png")
    })
    for (const absent of ["RequestId", "CallbackUrl", "SendDate"]) {
      assert.isFalse(absent in body, `${absent} must be absent`)
    }
    assert.notInclude(json, "null")
  })

  it("encodes every optional field with its exact wire name", () => {
    const body = JSON.parse(SendRequest.toJson(SendRequest.fromMessage(
      credentials,
      message({
        requestId: "order-42",
        callbackUrl: "https://shop.example.vn/esms/callback",
        sendDate: "2026-12-01 08:30:00"
      })
    )))
    assert.deepStrictEqual(body, {
      ApiKey: "AK-SECRET-123",
      SecretKey: "SK-SECRET-456",
      OAID: "4321987654",
      RequestId: "order-42",
      CallbackUrl: "https://shop.example.vn/esms/callback",
      SendDate: "2026-12-01 08:30:00",
      Payload: payload("Xin chào 👋\r\nƯu đãi hôm nay", "https://cdn.example.vn/promo/photo.png")
    })
  })

  it("keeps the keys redacted in the decoded form", () => {
    const request = SendRequest.fromMessage(credentials, message())
    assert.isTrue(Redacted.isRedacted(request.ApiKey))
    assert.notInclude(String(request), "AK-SECRET-123")
    assert.notInclude(JSON.stringify(request), "SK-SECRET-456")
  })

  it.effect("rejects a wire body whose shape is wrong", () =>
    Effect.gen(function*() {
      const valid = JSON.parse(SendRequest.toJson(SendRequest.fromMessage(credentials, message())))
      const twoElements = structuredClone(valid)
      twoElements.Payload.message.attachment.payload.elements.push({ media_type: "image", url: "https://x/y.png" })
      yield* Effect.flip(SendRequest.fromJson(JSON.stringify(twoElements)))
      yield* Effect.flip(SendRequest.fromJson(JSON.stringify({ ...valid, OAID: undefined })))
      yield* Effect.flip(SendRequest.fromJson("{not json"))
      // Extra fields are ignored, as eSMS would.
      const decoded = yield* SendRequest.fromJson(JSON.stringify({ ...valid, Sandbox: "1" }))
      assert.strictEqual(decoded.OAID, "4321987654")
    }))

  // `it.prop` (not `it.effect.prop`): building the test services for each run would make this 10x slower.
  it.prop(
    "any valid message survives encode → JSON → decode unchanged",
    [ZaloMessage.ZaloMessage],
    ([msg]) => {
      const json = SendRequest.toJson(SendRequest.fromMessage(credentials, msg))
      const request = Effect.runSync(SendRequest.fromJson(json))
      assert.strictEqual(Redacted.value(request.ApiKey), "AK-SECRET-123")
      assert.strictEqual(Redacted.value(request.SecretKey), "SK-SECRET-456")
      assert.strictEqual(request.OAID, "4321987654")
      const back = Effect.runSync(SendRequest.toMessage(request))
      assert.isTrue(Equal.equals(back, msg), `${JSON.stringify(back)} !== ${JSON.stringify(msg)}`)
      assert.deepStrictEqual({ ...back }, { ...msg })
    },
    { fastCheck: { numRuns: 200 } }
  )
})
