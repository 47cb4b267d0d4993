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

    it("leaves other text alone", () => {
      assert.strictEqual(Credentials.scrub(credentials, "<html>502 Bad Gateway</html>"), "<html>502 Bad Gateway</html>")
    })
  })
})
