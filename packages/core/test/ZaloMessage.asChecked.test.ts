/**
 * What is sent is what was checked, and nothing no recipient should get: URLs that the URL parser
 * would have to mend, invisible or control characters, lone surrogates, credentials in a photo URL.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"
import * as Credentials from "../src/Credentials.js"
import * as SendRequest from "../src/SendRequest.js"
import * as ZaloMessage from "../src/ZaloMessage.js"

const valid: ZaloMessage.Input = {
  userId: "4872346234234",
  text: "Xin chào",
  imageUrl: "https://cdn.example.vn/promo/photo.jpg"
}

const problems = (input: Partial<ZaloMessage.Input>) => {
  const result = ZaloMessage.validateEither({ ...valid, ...input })
  if (Either.isRight(result)) assert.fail(`expected ${JSON.stringify(input)} to be refused`)
  return result.left.errors.map((e) => `${e.field} ${e.message}`)
}

const refused = (field: keyof ZaloMessage.Input, value: string, rule: RegExp) => {
  const found = problems({ [field]: value })
  assert.strictEqual(found.length, 1, found.join("; "))
  assert.match(found[0], new RegExp(`^${field} `))
  assert.match(found[0], rule)
}

const accepted = (input: Partial<ZaloMessage.Input>) => {
  const result = ZaloMessage.validateEither({ ...valid, ...input })
  if (Either.isLeft(result)) assert.fail(`expected ${JSON.stringify(input)} to be valid: ${result.left.message}`)
  return result.right
}

const HIDDEN = /must not contain spaces, tabs, line breaks, control characters or backslashes/

describe("URLs: refused when the URL parser would have to change them (one rule for the photo and the callback)", () => {
  const mended = {
    "leading and trailing spaces": "  https://cdn.example.vn/p/photo.png  ",
    "a trailing line break": "https://cdn.example.vn/p/photo.png\n",
    "a line break and a tab inside": "https://cdn.example.vn/p/pho\n\tto.png",
    "backslashes for slashes": "https:\\\\cdn.example.vn\\p\\photo.png",
    "a space inside the path": "https://cdn.example.vn/p/my photo.png",
    "a zero-width space": "https://cdn.example.vn/p/pho\u200bto.png"
  }
  for (const [name, url] of Object.entries(mended)) {
    it(`${name}: imageUrl and callbackUrl refused, the field named`, () => {
      // The WHATWG parser takes every one of these, quietly changed.
      assert.isTrue(URL.canParse(url))
      refused("imageUrl", url, HIDDEN)
      refused("callbackUrl", url.replace(/photo\.png/, "cb"), HIDDEN)
    })
  }

  it("a URL that needs no mending goes out character for character as typed", () => {
    const imageUrl = "https://cdn.example.vn/ảnh/photo.png?v=2&size=large"
    const callbackUrl = "https://hooks.example.vn/esms/callback/tok-123?src=campaign"
    const message = accepted({ imageUrl, callbackUrl })
    const credentials = Credentials.make({ apiKey: "a", secretKey: "b", oaid: "1" })
    const wire = JSON.parse(SendRequest.toJson(SendRequest.fromMessage(credentials, message)))
    assert.strictEqual(wire.Payload.message.attachment.payload.elements[0].url, imageUrl)
    assert.strictEqual(wire.CallbackUrl, callbackUrl)
    assert.strictEqual(Redacted.value(credentials.apiKey), "a")
  })

  it("a user name or password in the photo URL is refused", () => {
    refused("imageUrl", "https://user:pass@cdn.example.vn/p/photo.png", /user name or password/)
    refused("imageUrl", "https://token@cdn.example.vn/p/photo.png", /user name or password/)
  })
})

describe("text that no recipient should get", () => {
  for (
    const [name, text] of Object.entries({
      "only zero-width characters": "\u200b\u200c\u200d\u2060\ufeff",
      "only control characters": "\u0000\u0001\u0007",
      "zero-width and spaces": " \u200b \u200b "
    })
  ) {
    it(`${name}: refused`, () => refused("text", text, /visible character/))
  }

  it("control characters inside a text: refused; tabs and line breaks are fine", () => {
    refused("text", "Xin chào\u001b[2J", /control characters/)
    refused("text", "Xin\u0000chào", /control characters/)
    accepted({ text: "Xin chào\r\n\tƯu đãi" })
  })

  it("a lone surrogate (from JSON Lines or the library): refused; whole emoji and ZWJ sequences are fine", () => {
    refused("text", "Xin chào \ud83d", /lone surrogate/)
    refused("text", "\ude00 Xin chào", /lone surrogate/)
    accepted({ text: "Xin chào 👨‍👩‍👧 😀" })
  })
})

describe("ids carry no control characters", () => {
  it("userId: control or invisible characters refused", () => {
    refused("userId", "4872346234234\u0000", /control or invisible/)
    refused("userId", "4872346234234\u200b", /control or invisible/)
    refused("userId", "4872\ud800", /lone surrogate/)
  })

  it("requestId: whitespace only, control or invisible characters, lone surrogates refused", () => {
    refused("requestId", "   ", /only spaces/)
    refused("requestId", "req-1\n", /control or invisible/)
    refused("requestId", "req\u0007-1", /control or invisible/)
    refused("requestId", "req\ud800", /lone surrogate/)
  })

  it("requestId length is counted in code points, as the text is: 50 emoji are valid, 51 are not", () => {
    accepted({ requestId: "😀".repeat(50) })
    refused("requestId", "😀".repeat(51), /at most 50 characters \(it has 51\)/)
    accepted({ requestId: "x".repeat(50) })
  })
})
