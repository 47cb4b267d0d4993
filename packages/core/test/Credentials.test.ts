import { assert, describe, it } from "@effect/vitest"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { inspect } from "node:util"
import * as Credentials from "../src/Credentials.js"

const API_KEY = "AK-SECRET-123"
const SECRET_KEY = "SK-SECRET-456"
const credentials = Credentials.make({ apiKey: API_KEY, secretKey: SECRET_KEY, oaid: "4321987654" })

const assertNoKeys = (text: string) => {
  assert.notInclude(text, API_KEY)
  assert.notInclude(text, SECRET_KEY)
}

describe("Credentials", () => {
  it("never shows the keys when printed or serialized", () => {
    assertNoKeys(String(credentials))
    assertNoKeys(JSON.stringify(credentials))
    assertNoKeys(inspect(credentials, { depth: 10 }))
    assertNoKeys(`${credentials.apiKey} ${credentials.secretKey}`)
    assert.include(String(credentials), "4321987654") // the OAID is not a secret
  })

  it("keeps the values for the wire encoder", () => {
    assert.strictEqual(Redacted.value(credentials.apiKey), API_KEY)
    assert.strictEqual(Redacted.value(credentials.secretKey), SECRET_KEY)
  })

  it("accepts keys that are already Redacted", () => {
    const again = Credentials.make({ apiKey: Redacted.make("a"), secretKey: Redacted.make("b"), oaid: "1" })
    assert.strictEqual(Redacted.value(again.apiKey), "a")
  })

  it("refuses keys or an OAID with spaces or control characters, as a .env file with CRLF leaves them", () => {
    for (const bad of ["AK-1\r", "AK-1 ", " AK-1", "AK\t1", "AK\u200b1", "AK\u00001", "AK\ud8001"]) {
      assert.throws(() => Credentials.make({ apiKey: bad, secretKey: "s", oaid: "1" }), /control characters/)
      assert.throws(() => Credentials.make({ apiKey: "a", secretKey: bad, oaid: "1" }), /control characters/)
      assert.throws(() => Credentials.make({ apiKey: "a", secretKey: "s", oaid: bad }), /control characters/)
      assert.isString(Credentials.problem(bad))
    }
    assert.isUndefined(Credentials.problem(`AK"q\\u/+!*'()~&<=>?é`))
  })

  it("refuses empty keys or OAID", () => {
    assert.throws(() => Credentials.make({ apiKey: " ", secretKey: "s", oaid: "1" }))
    assert.throws(() => Credentials.make({ apiKey: "a", secretKey: "", oaid: "1" }))
    assert.throws(() => Credentials.make({ apiKey: "a", secretKey: "s", oaid: "" }))
  })

  it("does not leak a key through a schema failure message", () => {
    const error = Schema.decodeUnknownEither(Credentials.Credentials)({
      apiKey: API_KEY,
      secretKey: SECRET_KEY,
      oaid: ""
    })
    assertNoKeys(JSON.stringify(error))
    assertNoKeys(String(error))
  })

  describe("scrub", () => {
    it("removes raw and URL-encoded keys", () => {
      const tricky = Credentials.make({ apiKey: "a+b/c=", secretKey: "s&t?u", oaid: "1" })
      const text = `ApiKey=a+b/c= SecretKey=s&t?u q=${encodeURIComponent("a+b/c=")}&s=${encodeURIComponent("s&t?u")}`
      assert.strictEqual(
        Credentials.scrub(tricky, text),
        "ApiKey=<redacted> SecretKey=<redacted> q=<redacted>&s=<redacted>"
      )
    })

    it("leaves no part of a key that contains the other key", () => {
      const nested = Credentials.make({ apiKey: "KEY", secretKey: "KEY-AND-MORE", oaid: "1" })
      const scrubbed = Credentials.scrub(nested, `{"ApiKey":"KEY","SecretKey":"KEY-AND-MORE"}`)
      assert.strictEqual(scrubbed, `{"ApiKey":"<redacted>","SecretKey":"<redacted>"}`)
    })

    // Keys with every character an encoder treats specially, and a letter beyond ASCII.
    const hostile = Credentials.make({ apiKey: `AK"q\\u/+!*'()~&<=>?é`, secretKey: "SK-Zz09-TAIL", oaid: "1" })
    const apiKey = Redacted.value(hostile.apiKey)
    const everyLetter = (key: string, upper: boolean) =>
      [...key].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)
        .map((e) => upper ? e.toUpperCase().replace("\\U", "\\u") : e).join("")
    const forms: Record<string, string> = {
      "raw": apiKey,
      "JSON-escaped": JSON.stringify(apiKey).slice(1, -1),
      "JSON in JSON": JSON.stringify(JSON.stringify(apiKey).slice(1, -1)).slice(1, -1),
      ".NET style (\\/ and \\u002B)": JSON.stringify(apiKey).slice(1, -1).replace(/\//g, "\\/").replace(
        /\+/g,
        "\\u002B"
      )
        .replace(/'/g, "\\u0027"),
      "letter by letter \\uXXXX (lower)": everyLetter(apiKey, false),
      "letter by letter \\uXXXX (upper)": everyLetter(apiKey, true),
      "encodeURIComponent": encodeURIComponent(apiKey),
      "form-encoded (%21, %2A, %27, +)": new URLSearchParams({ k: apiKey }).toString().slice(2),
      "percent-encoded, lower case hex": encodeURIComponent(apiKey).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()),
      "every byte percent-encoded": [...new TextEncoder().encode(apiKey)]
        .map((b) => `%${b.toString(16).padStart(2, "0")}`).join(""),
      "URL-encoded twice": encodeURIComponent(encodeURIComponent(apiKey)),
      "HTML entities": apiKey.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;")
        .replace(/>/g, "&gt;").replace(/'/g, "&#39;")
    }
    for (const [name, form] of Object.entries(forms)) {
      it(`removes the key spelt ${name}`, () => {
        const scrubbed = Credentials.scrub(hostile, `before ${form} after`)
        assert.strictEqual(scrubbed, "before <redacted> after", form)
      })
    }

    it("removes a spelling that mixes escapes letter by letter", () => {
      const mixed = [...apiKey].map((c, i) =>
        i % 3 === 0 ? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}` : i % 3 === 1 ? encodeURIComponent(c) : c
      ).join("")
      assert.strictEqual(Credentials.scrub(hostile, mixed), "<redacted>")
    })

    it("leaves other text alone", () => {
      assert.strictEqual(Credentials.scrub(credentials, "<html>502 Bad Gateway</html>"), "<html>502 Bad Gateway</html>")
    })
  })
})
