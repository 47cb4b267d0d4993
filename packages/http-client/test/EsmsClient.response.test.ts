import { assert, describe, it } from "@effect/vitest"
import { ResultCode } from "@esms-effect/core"
import * as Effect from "effect/Effect"
import { message, send, sendFailure } from "./Fixtures.js"
import * as RecordingHttpClient from "./RecordingHttpClient.js"

const codes = Object.keys(ResultCode.table) as Array<ResultCode.KnownCode>

describe("EsmsClient response", () => {
  it.effect("answers Accepted with SMSID and CountRegenerate for 100", () =>
    Effect.gen(function*() {
      const { result } = yield* send(
        { ...message, requestId: "order-7" },
        RecordingHttpClient.json({
          CodeResult: "100",
          CountRegenerate: 1,
          SMSID: "d8e0f1f0702544b2acb456ca9ccfd111250"
        })
      )
      assert.strictEqual(result._tag, "Right")
      if (result._tag !== "Right") return
      assert.strictEqual(result.right.smsId, "d8e0f1f0702544b2acb456ca9ccfd111250")
      assert.strictEqual(result.right.countRegenerate, 1)
      assert.strictEqual(result.right.requestId, "order-7")
      assert.isFalse(result.right.deduplicated)
    }))

  it.effect("fails with the code's tagged error for every code in the table", () =>
    Effect.gen(function*() {
      for (const code of codes) {
        const { error } = yield* sendFailure(
          message,
          RecordingHttpClient.json({ CodeResult: code, CountRegenerate: 0, ErrorMessage: `vendor says ${code}` })
        )
        assert.strictEqual(error._tag, ResultCode.table[code].tag, code)
        assert.strictEqual((error as ResultCode.ResultCodeError).code, code)
        assert.strictEqual((error as ResultCode.ResultCodeError).errorMessage, `vendor says ${code}`)
        assert.include(error.message, code)
      }
    }))

  it.effect("lets a pipeline catch one code by its tag", () =>
    Effect.gen(function*() {
      const { result } = yield* send(message, RecordingHttpClient.json({ CodeResult: "103", ErrorMessage: "Low" }))
      const recovered = yield* Effect.catchTag(
        result._tag === "Left" ? Effect.fail(result.left) : Effect.succeed("sent"),
        "InsufficientBalance",
        (e) => Effect.succeed(`top up (${e.errorMessage})`)
      )
      assert.strictEqual(recovered, "top up (Low)")
    }))

  it.effect("fails with UnknownResultCode for a code it does not know, keeping code and message", () =>
    Effect.gen(function*() {
      const { error } = yield* sendFailure(
        message,
        RecordingHttpClient.json({ CodeResult: "555", ErrorMessage: "Something new" })
      )
      assert.strictEqual(error._tag, "UnknownResultCode")
      assert.strictEqual((error as ResultCode.UnknownResultCode).code, "555")
      assert.strictEqual((error as ResultCode.UnknownResultCode).errorMessage, "Something new")
      assert.include(error.message, "555")
      assert.include(error.message, "Something new")
    }))

  it.effect("reads CodeResult sent as a number", () =>
    Effect.gen(function*() {
      const ok = yield* send(message, RecordingHttpClient.json({ CodeResult: 100, SMSID: "n1", CountRegenerate: 0 }))
      assert.strictEqual(ok.result._tag === "Right" && ok.result.right.smsId, "n1")
      const { error } = yield* sendFailure(message, RecordingHttpClient.json({ CodeResult: 124 }))
      assert.strictEqual(error._tag, "DuplicateRequestId")
    }))

  it.effect("ignores response fields it does not model", () =>
    Effect.gen(function*() {
      const { result } = yield* send(
        message,
        RecordingHttpClient.json({
          CodeResult: "100",
          SMSID: "x1",
          CountRegenerate: 0,
          Sandbox: "0",
          Extra: { nested: [1, 2] }
        })
      )
      assert.strictEqual(result._tag === "Right" && result.right.smsId, "x1")
      const { error } = yield* sendFailure(
        message,
        RecordingHttpClient.json({ CodeResult: "101", ErrorMessage: "Authorize Failed", Whatever: true })
      )
      assert.strictEqual(error._tag, "AuthorizeFailed")
      assert.instanceOf(error, ResultCode.AuthorizeFailed)
    }))

  it.effect("retries nothing by itself and marks only 160 as retryable", () =>
    Effect.gen(function*() {
      const retryable: Array<string> = []
      for (const code of [...codes, "555"]) {
        const { error, requests } = yield* sendFailure(message, RecordingHttpClient.json({ CodeResult: code }))
        assert.strictEqual(requests.length, 1)
        if (ResultCode.isRetryable(error as ResultCode.ResultCodeError)) retryable.push(code)
      }
      assert.deepStrictEqual(retryable, ["160"])
    }))
})
