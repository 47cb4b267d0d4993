import { assert, describe, it } from "@effect/vitest"
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import * as ResultCode from "../src/ResultCode.js"
import * as SendResponse from "../src/SendResponse.js"

const decode = Schema.decodeUnknownSync(SendResponse.SendResponse)
const interpret = (raw: unknown, requestId?: string) => SendResponse.interpret(decode(raw), requestId)

const codes = Object.keys(ResultCode.table) as Array<ResultCode.KnownCode>

describe("ResultCode", () => {
  it("has one error class per table entry, with the table's tag, code and description", () => {
    assert.strictEqual(ResultCode.classes.length, codes.length)
    assert.deepStrictEqual(
      // Widened: the union of all 30 constructors is too large for TypeScript to call.
      (ResultCode.classes as ReadonlyArray<new(props: {}) => ResultCode.ResultCodeError>).map((Class) =>
        new Class({})._tag
      ),
      codes.map((code) => ResultCode.table[code].tag)
    )
    for (const code of codes) {
      const error = ResultCode.fromCode(code, "vendor text")
      const info = ResultCode.table[code]
      assert.strictEqual(error._tag, info.tag)
      assert.strictEqual(error.code, code)
      assert.strictEqual(error.description, info.description)
      assert.strictEqual(error.errorMessage, "vendor text")
      assert.strictEqual(error.message, `eSMS answered ${code} (${info.tag}): ${info.description} — "vendor text"`)
      assert.instanceOf(error, Error)
    }
  })

  it("does not list 100 (accepted) as an error", () => {
    assert.isFalse("100" in ResultCode.table)
    assert.strictEqual(ResultCode.fromCode("100")._tag, "UnknownResultCode")
  })

  it("keeps an unknown code and the vendor's message", () => {
    const error = ResultCode.fromCode("555", "Something new")
    assert.strictEqual(error._tag, "UnknownResultCode")
    assert.strictEqual(error.code, "555")
    assert.strictEqual(error.errorMessage, "Something new")
    assert.include(error.message, "555")
    assert.include(error.message, "Something new")
  })

  it("leaves errorMessage absent when the vendor sent none", () => {
    const error = ResultCode.fromCode("101")
    assert.isFalse("errorMessage" in error && error.errorMessage !== undefined)
    assert.strictEqual(error.message, "eSMS answered 101 (AuthorizeFailed): wrong ApiKey or SecretKey")
  })

  it("treats only 160 (rate limited) as retryable", () => {
    const retryable = [...codes, "555", "100", "constructor", "toString"]
      .filter((code) => ResultCode.isRetryable(ResultCode.fromCode(code)))
    assert.deepStrictEqual(retryable, ["160"])
  })

  it("round-trips every error through the ResultCodeError schema", () => {
    const encode = Schema.encodeSync(ResultCode.ResultCodeError)
    const decodeError = Schema.decodeUnknownSync(ResultCode.ResultCodeError)
    for (const code of [...codes, "555"]) {
      const error = ResultCode.fromCode(code, "m")
      const back = decodeError(JSON.parse(JSON.stringify(encode(error))))
      assert.strictEqual(back._tag, error._tag)
      assert.strictEqual(back.code, code)
      assert.strictEqual(back.errorMessage, "m")
    }
  })
})

describe("SendResponse.interpret", () => {
  it("reads 100 as Accepted with SMSID and CountRegenerate", () => {
    const result = interpret({ CodeResult: "100", CountRegenerate: 2, SMSID: "d8e0f1f0702544b2acb456ca9ccfd111250" })
    const accepted = Either.getOrThrow(result)
    assert.strictEqual(accepted.smsId, "d8e0f1f0702544b2acb456ca9ccfd111250")
    assert.strictEqual(accepted.countRegenerate, 2)
    assert.isFalse(accepted.deduplicated)
  })

  it("carries the RequestId it was given into Accepted", () => {
    const accepted = Either.getOrThrow(interpret({ CodeResult: "100", SMSID: "x" }, "order-42"))
    assert.strictEqual(accepted.requestId, "order-42")
    assert.strictEqual(accepted.countRegenerate, 0)
  })

  it("maps every table code to its tagged error", () => {
    for (const code of codes) {
      const result = interpret({ CodeResult: code, CountRegenerate: 0, ErrorMessage: `message ${code}` })
      assert.isTrue(Either.isLeft(result), code)
      const error = (result as Either.Left<ResultCode.ResultCodeError, SendResponse.Accepted>).left
      assert.strictEqual(error._tag, ResultCode.table[code].tag)
      assert.strictEqual(error.code, code)
      assert.strictEqual(error.errorMessage, `message ${code}`)
    }
  })

  it("maps an unknown code to UnknownResultCode", () => {
    const result = interpret({ CodeResult: "555", ErrorMessage: "Brand new failure" })
    assert.deepStrictEqual(
      Either.flip(result).pipe(Either.map((e) => [e._tag, e.code, e.errorMessage])),
      Either.right(["UnknownResultCode", "555", "Brand new failure"])
    )
  })

  it("accepts CodeResult as a number, numeric strings for CountRegenerate, and nulls", () => {
    const accepted = Either.getOrThrow(interpret({ CodeResult: 100, SMSID: "s1", CountRegenerate: "3" }))
    assert.strictEqual(accepted.smsId, "s1")
    assert.strictEqual(accepted.countRegenerate, 3)
    const error = Either.flip(interpret({ CodeResult: 101, ErrorMessage: null, SMSID: null }))
    assert.strictEqual(Either.getOrThrow(error)._tag, "AuthorizeFailed")
    assert.isUndefined(Either.getOrThrow(error).errorMessage)
  })

  it("accepts SMSID as a number with CodeResult \"100\", as CodeResult is", () => {
    const accepted = Either.getOrThrow(interpret({ CodeResult: "100", SMSID: 2207040001, CountRegenerate: 0 }))
    assert.strictEqual(accepted.smsId, "2207040001")
  })

  it("numberAsWritten keeps every digit of a number JSON.parse would round", () => {
    const body = `{"CodeResult":"100","SMSID": 123456789012345678901}`
    assert.strictEqual(SendResponse.numberAsWritten(body, "SMSID"), "123456789012345678901")
    assert.isUndefined(SendResponse.numberAsWritten(`{"SMSID":"abc"}`, "SMSID"))
  })

  it("ignores fields it does not model", () => {
    const accepted = Either.getOrThrow(
      interpret({ CodeResult: "100", SMSID: "s1", CountRegenerate: 0, Extra: { nested: true }, Balance: 9 })
    )
    assert.strictEqual(accepted.smsId, "s1")
  })

  it("rejects a response without CodeResult", () => {
    assert.throws(() => decode({ SMSID: "s1" }))
    assert.throws(() => decode({ CodeResult: null }))
  })
})
