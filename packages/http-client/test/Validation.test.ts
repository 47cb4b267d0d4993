import { assert, describe, layer } from "@effect/vitest"
import type { ZaloMessage } from "@esms-effect/core"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as EsmsClient from "../src/EsmsClient.js"
import { accepted, credentials, message } from "./Fixtures.js"
import * as RecordingHttpClient from "./RecordingHttpClient.js"

const TestLive = EsmsClient.layer({ credentials }).pipe(Layer.provideMerge(RecordingHttpClient.layer(accepted)))

/** Sends, expects InvalidMessage, and checks that nothing reached the transport. */
const rejected = (input: Partial<ZaloMessage.Input>) =>
  Effect.gen(function*() {
    const recorder = yield* RecordingHttpClient.Recorder
    yield* recorder.clear
    const client = yield* EsmsClient.EsmsClient
    const error = yield* Effect.flip(client.sendZaloImage({ ...message, ...input }))
    assert.deepStrictEqual(yield* recorder.requests, [], "nothing may be sent")
    if (error._tag !== "InvalidMessage") return assert.fail(`expected InvalidMessage, got ${error._tag}`)
    return error
  })

const rejectsField = (field: keyof ZaloMessage.Input, value: string, rule: RegExp) =>
  Effect.gen(function*() {
    const error = yield* rejected({ [field]: value })
    assert.deepStrictEqual(error.errors.map((e) => e.field), [field], `${field}=${JSON.stringify(value)}`)
    assert.match(error.errors[0].message, rule)
    assert.include(error.message, field)
    assert.match(error.message, rule)
  })

const sent = (input: Partial<ZaloMessage.Input>) =>
  Effect.gen(function*() {
    const recorder = yield* RecordingHttpClient.Recorder
    yield* recorder.clear
    const client = yield* EsmsClient.EsmsClient
    const result = yield* client.sendZaloImage({ ...message, ...input })
    const requests = yield* recorder.requests
    assert.strictEqual(requests.length, 1)
    return { result, body: JSON.parse(requests[0].body) }
  })

layer(TestLive)("EsmsClient validation", (it) => {
  describe("rejects without sending anything", () => {
    it.effect("an empty userId", () => rejectsField("userId", "", /must not be empty/))
    it.effect("a userId with spaces", () =>
      Effect.gen(function*() {
        yield* rejectsField("userId", "123 456", /must not contain spaces/)
        yield* rejectsField("userId", " 123456", /must not contain spaces/)
      }))
    it.effect("an empty text", () => rejectsField("text", "", /must not be empty/))
    it.effect("a whitespace-only text", () => rejectsField("text", " \r\n\t ", /only spaces/))
    it.effect("a text of 2001 code points", () =>
      Effect.gen(function*() {
        yield* rejectsField("text", "😀".repeat(2001), /at most 2000 characters/)
        const vietnamese = Array.from("Tiếng Việt có dấu. ".repeat(200)).slice(0, 2001).join("")
        yield* rejectsField("text", vietnamese, /at most 2000 characters \(it has 2001\)/)
      }))
    it.effect("an image URL that is not absolute", () => rejectsField("imageUrl", "/img/photo.png", /absolute/))
    it.effect("an ftp image URL", () => rejectsField("imageUrl", "ftp://cdn.example.vn/photo.png", /https?:\/\//))
    it.effect("a .gif image", () =>
      rejectsField("imageUrl", "https://cdn.example.vn/anim.gif", /\.jpg, \.jpeg or \.png/))
    it.effect("a .webp image, whatever its case", () =>
      rejectsField("imageUrl", "https://cdn.example.vn/p/photo.WebP?w=800", /not \.webp/))
    it.effect("an invalid callback URL", () =>
      Effect.gen(function*() {
        yield* rejectsField("callbackUrl", "not a url", /absolute/)
        yield* rejectsField("callbackUrl", "javascript:alert(1)", /absolute/)
      }))
    it.effect("an empty RequestId", () => rejectsField("requestId", "", /must not be empty/))
    it.effect("a RequestId of 51 characters", () => rejectsField("requestId", "x".repeat(51), /at most 50/))
    it.effect("a sendDate in the wrong format", () =>
      Effect.gen(function*() {
        yield* rejectsField("sendDate", "2026-12-01T08:30:00", /yyyy-mm-dd hh:MM:ss/)
        yield* rejectsField("sendDate", "01/12/2026 08:30:00", /yyyy-mm-dd hh:MM:ss/)
      }))
    it.effect("an impossible sendDate", () => rejectsField("sendDate", "2026-02-30 10:00:00", /real date/))

    it.effect("several broken fields, listing each by name", () =>
      Effect.gen(function*() {
        const error = yield* rejected({
          userId: "a b",
          text: "",
          imageUrl: "https://cdn.example.vn/anim.gif",
          requestId: "",
          sendDate: "tomorrow"
        })
        assert.deepStrictEqual(
          error.errors.map((e) => e.field),
          ["userId", "text", "imageUrl", "requestId", "sendDate"]
        )
        for (const e of error.errors) assert.include(error.message, `${e.field} ${e.message}`)
      }))
  })

  describe("accepts and sends the valid edge cases", () => {
    it.effect("an upper-case .JPEG", () =>
      Effect.gen(function*() {
        const { body } = yield* sent({ imageUrl: "https://cdn.example.vn/PHOTO.JPEG" })
        assert.strictEqual(body.Payload.message.attachment.payload.elements[0].url, "https://cdn.example.vn/PHOTO.JPEG")
      }))
    it.effect("exactly 2000 code points (4000 UTF-16 units of emoji)", () =>
      Effect.gen(function*() {
        const text = "😀".repeat(2000)
        const { body } = yield* sent({ text })
        assert.strictEqual(body.Payload.message.text, text)
      }))
    it.effect("exactly 2000 Vietnamese characters", () =>
      Effect.gen(function*() {
        const text = "ữ".repeat(2000)
        const { body } = yield* sent({ text })
        assert.strictEqual(body.Payload.message.text, text)
      }))
    it.effect("a 50-character RequestId", () =>
      Effect.gen(function*() {
        const { body, result } = yield* sent({ requestId: "r".repeat(50) })
        assert.strictEqual(body.RequestId, "r".repeat(50))
        assert.strictEqual(result.requestId, "r".repeat(50))
      }))
    it.effect("an image URL without an extension (a CDN transformation, an image API)", () =>
      Effect.gen(function*() {
        for (
          const url of ["https://res.cloudinary.com/shop/image/upload/w_800/sku-42", "https://shop.vn/api/images/42"]
        ) {
          const { body } = yield* sent({ imageUrl: url })
          assert.strictEqual(body.Payload.message.attachment.payload.elements[0].url, url)
        }
      }))
    it.effect("a .png with a query string", () =>
      Effect.gen(function*() {
        const { body } = yield* sent({ imageUrl: "https://cdn.example.vn/photo.png?v=3" })
        assert.strictEqual(
          body.Payload.message.attachment.payload.elements[0].url,
          "https://cdn.example.vn/photo.png?v=3"
        )
      }))
  })
})
