import { assert, describe, it } from "@effect/vitest"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as ZaloMessage from "../src/ZaloMessage.js"

const valid: ZaloMessage.Input = {
  userId: "4872346234234",
  text: "Xin chào",
  imageUrl: "https://cdn.example.vn/promo/photo.jpg"
}

const rejects = (input: Partial<ZaloMessage.Input>) => {
  const result = ZaloMessage.validateEither({ ...valid, ...input })
  assert.isTrue(Either.isLeft(result), `expected ${JSON.stringify(input)} to be rejected`)
  return (result as Either.Left<ZaloMessage.InvalidMessage, ZaloMessage.ZaloMessage>).left
}

const accepts = (input: Partial<ZaloMessage.Input>) => {
  const result = ZaloMessage.validateEither({ ...valid, ...input })
  if (Either.isLeft(result)) assert.fail(`expected ${JSON.stringify(input)} to be valid: ${result.left.message}`)
  return result.right
}

const rejectsField = (field: keyof ZaloMessage.Input, value: string, rule: RegExp) => {
  const error = rejects({ [field]: value })
  assert.strictEqual(error._tag, "InvalidMessage")
  assert.deepStrictEqual(error.errors.map((e) => e.field), [field])
  assert.match(error.errors[0].message, rule)
  assert.include(error.message, field)
  assert.match(error.message, rule)
}

describe("ZaloMessage.validate", () => {
  it("accepts a message with only the required fields, and with every optional field", () => {
    const minimal = accepts({})
    assert.strictEqual(minimal.userId, valid.userId)
    assert.isFalse("callbackUrl" in minimal)
    assert.isFalse("requestId" in minimal)
    assert.isFalse("sendDate" in minimal)
    const full = accepts({
      callbackUrl: "https://shop.example.vn/esms/callback?x=1",
      requestId: "order-42",
      sendDate: "2026-12-01 08:30:00"
    })
    assert.strictEqual(full.callbackUrl, "https://shop.example.vn/esms/callback?x=1")
    assert.strictEqual(full.requestId, "order-42")
    assert.strictEqual(full.sendDate, "2026-12-01 08:30:00")
  })

  it("treats an optional field given as undefined as absent", () => {
    const message = accepts({ callbackUrl: undefined, requestId: undefined, sendDate: undefined })
    assert.deepStrictEqual(Object.keys(message).sort(), ["imageUrl", "text", "userId"])
  })

  describe("userId", () => {
    it("must not be empty", () => rejectsField("userId", "", /must not be empty/))
    it("must not contain spaces", () => {
      rejectsField("userId", "123 456", /must not contain spaces/)
      rejectsField("userId", " 123", /must not contain spaces/)
      rejectsField("userId", "   ", /must not contain spaces/)
    })
  })

  describe("text", () => {
    it("must not be empty", () => rejectsField("text", "", /must not be empty/))
    it("must not be only whitespace", () => {
      rejectsField("text", "   ", /only spaces/)
      rejectsField("text", "\r\n\t ", /only spaces/)
    })
    it("counts code points, not UTF-16 units: 2000 emoji are valid, 2001 are not", () => {
      const emoji2000 = "😀".repeat(2000)
      assert.strictEqual(emoji2000.length, 4000) // UTF-16 units: a length check would wrongly reject it
      assert.strictEqual(ZaloMessage.codePointLength(emoji2000), 2000)
      accepts({ text: emoji2000 })
      rejectsField("text", "😀".repeat(2001), /at most 2000 characters \(it has 2001\)/)
    })
    it("accepts exactly 2000 Vietnamese characters and rejects 2001", () => {
      const vi = "ệ".repeat(2000) // precomposed: one code point, three UTF-8 bytes
      assert.strictEqual(accepts({ text: vi }).text, vi)
      rejectsField("text", vi + "ệ", /at most 2000 characters/)
    })
    it("keeps \\r\\n line breaks", () => {
      assert.strictEqual(accepts({ text: "dòng 1\r\ndòng 2" }).text, "dòng 1\r\ndòng 2")
    })
  })

  describe("imageUrl", () => {
    it("must be absolute", () => {
      rejectsField("imageUrl", "/promo/photo.jpg", /absolute http/)
      rejectsField("imageUrl", "photo.png", /absolute http/)
    })
    it("must be http or https", () => {
      rejectsField("imageUrl", "ftp://cdn.example.vn/photo.png", /http:\/\/ or https:\/\//)
      rejectsField("imageUrl", "file:///tmp/photo.png", /http:\/\/ or https:\/\//)
    })
    it("refuses a path that names a format eSMS does not take, in any case", () => {
      rejectsField("imageUrl", "https://cdn.example.vn/anim.gif", /\.jpg, \.jpeg or \.png image .*not \.gif/)
      rejectsField("imageUrl", "https://cdn.example.vn/photo.webp", /not \.webp/)
      rejectsField("imageUrl", "https://cdn.example.vn/photo.WEBP?v=2", /not \.webp/)
      for (const ext of ["bmp", "svg", "heic", "HEIF", "tif", "tiff", "avif", "ico"]) {
        rejectsField("imageUrl", `https://cdn.example.vn/p/photo.${ext}`, new RegExp(`not \\.${ext.toLowerCase()}`))
      }
    })
    it("accepts URLs without an extension or with a query: only the image can tell its format", () => {
      accepts({ imageUrl: "https://res.cloudinary.com/shop/image/upload/w_800/sku-42" })
      accepts({ imageUrl: "https://shop.vn/api/images/42" })
      accepts({ imageUrl: "https://cdn.example.vn/render?file=photo.png" })
      accepts({ imageUrl: "https://cdn.example.vn/render#photo.png" })
      accepts({ imageUrl: "https://s3.example.vn/b/k?X-Amz-Signature=abc&X-Amz-Expires=900" })
      accepts({ imageUrl: "https://shop.vn/image.php?id=42" })
      accepts({ imageUrl: "https://cdn.example.vn/photo.png?v=2" })
    })
    it("looks at the path, not the query string or fragment", () => {
      accepts({ imageUrl: "https://cdn.example.vn/render?file=anim.gif" })
      accepts({ imageUrl: "https://cdn.example.vn/render#anim.gif" })
    })
    it("accepts any case of the extension", () => {
      accepts({ imageUrl: "https://cdn.example.vn/PHOTO.JPEG" })
      accepts({ imageUrl: "http://cdn.example.vn/a/b/photo.Png" })
      accepts({ imageUrl: "https://cdn.example.vn/photo.jpeg" })
    })
  })

  describe("callbackUrl", () => {
    it("must be an absolute http(s) URL", () => {
      rejectsField("callbackUrl", "not a url", /absolute http/)
      rejectsField("callbackUrl", "/esms/callback", /absolute http/)
      rejectsField("callbackUrl", "ftp://shop.example.vn/cb", /absolute http/)
      rejectsField("callbackUrl", "", /absolute http/)
    })
  })

  describe("requestId", () => {
    it("must not be empty", () => rejectsField("requestId", "", /must not be empty/))
    it("is at most 50 characters", () => {
      assert.strictEqual(accepts({ requestId: "r".repeat(50) }).requestId, "r".repeat(50))
      rejectsField("requestId", "r".repeat(51), /at most 50 characters \(it has 51\)/)
    })
  })

  describe("sendDate", () => {
    it("must have the form yyyy-mm-dd hh:MM:ss", () => {
      for (
        const bad of [
          "2026-12-01T08:30:00",
          "2026-12-01 08:30",
          "01/12/2026 08:30:00",
          "2026-12-01 08:30:00Z",
          "2026-12-1 08:30:00"
        ]
      ) {
        rejectsField("sendDate", bad, /yyyy-mm-dd hh:MM:ss/)
      }
    })
    it("must be a real calendar date and time", () => {
      rejectsField("sendDate", "2026-02-30 10:00:00", /real date and time/)
      rejectsField("sendDate", "2026-13-01 10:00:00", /real date and time/)
      rejectsField("sendDate", "2026-12-01 24:00:00", /real date and time/)
      rejectsField("sendDate", "2026-12-01 10:60:00", /real date and time/)
      rejectsField("sendDate", "2025-02-29 10:00:00", /real date and time/)
      accepts({ sendDate: "2028-02-29 23:59:59" })
    })
  })

  it("lists every broken field at once, each with its name and rule", () => {
    const error = rejects({
      userId: "",
      text: "  ",
      imageUrl: "ftp://x/y.gif",
      callbackUrl: "nope",
      requestId: "x".repeat(51),
      sendDate: "2026-02-30 10:00:00"
    })
    assert.deepStrictEqual(
      error.errors.map((e) => e.field).sort(),
      ["callbackUrl", "imageUrl", "requestId", "sendDate", "text", "userId"]
    )
    for (const field of ["userId", "text", "imageUrl", "callbackUrl", "requestId", "sendDate"]) {
      assert.include(error.message, field)
    }
    assert.match(error.message, /^Invalid message: /)
  })

  it("names a missing required field", () => {
    const error = rejects({ text: undefined as unknown as string })
    assert.deepStrictEqual(error.errors.map((e) => [e.field, e.message]), [["text", "is required"]])
  })

  it("says when a field is not a string", () => {
    const error = rejects({ userId: 42 as unknown as string })
    assert.deepStrictEqual(error.errors.map((e) => [e.field, e.message]), [["userId", "must be a string"]])
  })

  it.effect("validate fails with the same InvalidMessage in the error channel", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(ZaloMessage.validate({ ...valid, imageUrl: "https://x.vn/a.gif" }))
      assert.strictEqual(error._tag, "InvalidMessage")
      assert.deepStrictEqual(error.errors.map((e) => e.field), ["imageUrl"])
      const ok = yield* ZaloMessage.validate(valid)
      assert.strictEqual(ok.text, valid.text)
    }))

  it("passes an already validated ZaloMessage through unchanged", () => {
    const message = new ZaloMessage.ZaloMessage({
      userId: ZaloMessage.UserId.make("1"),
      text: "a",
      imageUrl: "https://x.vn/a.png"
    })
    assert.strictEqual(Either.getOrThrow(ZaloMessage.validateEither(message)), message)
  })
})

describe("ZaloMessage.sendDateFrom", () => {
  it("renders an instant in Vietnam time (UTC+7) as yyyy-mm-dd hh:MM:ss", () => {
    assert.strictEqual(ZaloMessage.sendDateFrom(new Date("2026-12-01T01:30:00Z")), "2026-12-01 08:30:00")
    // 17:00 UTC is already the next day in Vietnam
    assert.strictEqual(ZaloMessage.sendDateFrom(new Date("2026-12-31T17:00:05Z")), "2027-01-01 00:00:05")
    assert.strictEqual(
      ZaloMessage.sendDateFrom(DateTime.unsafeMake("2026-02-28T20:15:09.999Z")),
      "2026-03-01 03:15:09"
    )
  })

  it("gives the same wall time whatever zone the DateTime carries", () => {
    const instant = DateTime.unsafeMakeZoned(new Date("2026-06-15T23:45:00Z"), { timeZone: "America/New_York" })
    assert.strictEqual(ZaloMessage.sendDateFrom(instant), "2026-06-16 06:45:00")
  })

  it("produces a SendDate the validator accepts", () => {
    const sendDate = ZaloMessage.sendDateFrom(new Date("2028-02-28T17:00:00Z"))
    assert.strictEqual(sendDate, "2028-02-29 00:00:00")
    assert.strictEqual(accepts({ sendDate }).sendDate, sendDate)
  })
})
