import { assert, describe, it } from "@effect/vitest"
import * as Schema from "effect/Schema"
import * as ResultCode from "../src/ResultCode.js"
import * as ZaloMessage from "../src/ZaloMessage.js"

const codes = Object.keys(ResultCode.table) as Array<ResultCode.KnownCode>
// Widened: the union of all 30 constructors is too large for TypeScript to call.
const classes = ResultCode.classes as unknown as ReadonlyArray<
  (new(props: {}) => ResultCode.ResultCodeError) & { readonly name: string }
>

describe("error classes and instanceof", () => {
  it("a result code's error is an instance of its exported class, named after its tag", () => {
    for (const [i, code] of codes.entries()) {
      const Class = classes[i]
      const error = ResultCode.fromCode(code, "vendor text")
      assert.instanceOf(error, Class, `fromCode(${code}) instanceof ${ResultCode.table[code].tag}`)
      assert.strictEqual(error.constructor, Class)
      assert.strictEqual(Class.name, ResultCode.table[code].tag)
      assert.instanceOf(error, Error)
    }
    assert.instanceOf(ResultCode.fromCode("101"), ResultCode.AuthorizeFailed)
    assert.notInstanceOf(ResultCode.fromCode("101"), ResultCode.InsufficientBalance)
    assert.instanceOf(ResultCode.fromCode("4242"), ResultCode.UnknownResultCode)
  })

  it("a decoded result-code error is an instance of its exported class", () => {
    const decode = Schema.decodeUnknownSync(ResultCode.ResultCodeError)
    const encode = Schema.encodeSync(ResultCode.ResultCodeError)
    for (const [i, code] of codes.entries()) {
      const decoded = decode(encode(ResultCode.fromCode(code, "x")))
      assert.instanceOf(decoded, classes[i], `decoded ${code}`)
      assert.strictEqual(decoded.code, code)
    }
    const unknown = decode(encode(ResultCode.fromCode("4242")))
    assert.instanceOf(unknown, ResultCode.UnknownResultCode)
  })

  it("byCode maps every known code to its exported class", () => {
    for (const [i, code] of codes.entries()) {
      assert.strictEqual(ResultCode.byCode.get(code), classes[i])
    }
    assert.strictEqual(ResultCode.byCode.size, codes.length)
  })

  it("InvalidMessage from validation is an instance of ZaloMessage.InvalidMessage", () => {
    const result = ZaloMessage.validateEither({ userId: "", text: "", imageUrl: "nope" })
    assert.isTrue(result._tag === "Left")
    if (result._tag === "Left") assert.instanceOf(result.left, ZaloMessage.InvalidMessage)
  })
})
