import { assert, describe, layer } from "@effect/vitest"
import type { ZaloMessage } from "@esms-effect/core"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as EsmsClient from "../src/EsmsClient.js"
import { accepted, credentials, message } from "./Fixtures.js"
import * as RecordingHttpClient from "./RecordingHttpClient.js"

const TestLive = EsmsClient.layer({ credentials }).pipe(Layer.provideMerge(RecordingHttpClient.layer(accepted)))

// The rules themselves are core's (packages/core/test/ZaloMessage.test.ts); here only what the client
// does with a message that breaks one: it answers InvalidMessage and sends nothing.

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

const rejectsField = (field: keyof ZaloMessage.Input, value: string) =>
  Effect.gen(function*() {
    const error = yield* rejected({ [field]: value })
    assert.deepStrictEqual(error.errors.map((e) => e.field), [field], `${field}=${JSON.stringify(value)}`)
    assert.include(error.message, field)
  })

layer(TestLive)("EsmsClient validation", (it) => {
  describe("an invalid message is refused, naming the field, and nothing is sent", () => {
    const cases: ReadonlyArray<readonly [keyof ZaloMessage.Input, string]> = [
      ["userId", ""],
      ["userId", "123 456"],
      ["text", " \r\n\t "],
      ["text", "😀".repeat(2001)],
      ["imageUrl", "https://cdn.example.vn/anim.gif"],
      ["callbackUrl", "javascript:alert(1)"],
      ["requestId", "x".repeat(51)],
      ["sendDate", "2026-02-30 10:00:00"]
    ]
    for (const [field, value] of cases) {
      it.effect(`${field} = ${JSON.stringify(value.slice(0, 20))}`, () => rejectsField(field, value))
    }

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
})
