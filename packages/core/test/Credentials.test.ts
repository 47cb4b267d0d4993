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

    // A key cut by line breaks or other white space, raw or as JSON escapes, at every position.
    const breaks: Record<string, string> = {
      "\\n": "\n",
      "\\r\\n": "\r\n",
      "a space": " ",
      "a tab and spaces": "\t  ",
      "JSON-escaped \\n": "\\n",
      "JSON-escaped \\r\\n": "\\r\\n",
      "JSON-in-JSON \\n": "\\\\n",
      "\\u000A": "\\u000A"
    }
    for (const [name, gap] of Object.entries(breaks)) {
      it(`removes a key split by ${name}, raw or JSON-escaped, at any position`, () => {
        for (const key of [apiKey, "SK-Zz09-TAIL"]) {
          const letters = [...key]
          for (let i = 1; i < letters.length; i++) {
            const [head, tail] = [letters.slice(0, i).join(""), letters.slice(i).join("")]
            const raw = `before ${head}${gap}${tail} after`
            assert.strictEqual(Credentials.scrub(hostile, raw), "before <redacted> after", raw)
            const escaped = `{"m":"${JSON.stringify(head).slice(1, -1)}${gap}${JSON.stringify(tail).slice(1, -1)}"}`
            assert.strictEqual(Credentials.scrub(hostile, escaped), `{"m":"<redacted>"}`, escaped)
          }
        }
      })
    }

    it("removes a key with a line break between every letter", () => {
      assert.strictEqual(Credentials.scrub(hostile, [...apiKey].join("\r\n")), "<redacted>")
      assert.strictEqual(Credentials.scrub(hostile, [..."SK-Zz09-TAIL"].join("\\r\\n")), "<redacted>")
    })

    const base64 = (text: string, urlSafe: boolean, padded: boolean) => {
      const encoded = Buffer.from(text, "utf8").toString(urlSafe ? "base64url" : "base64")
      const bare = encoded.replace(/=+$/, "")
      return padded ? bare.padEnd(Math.ceil(bare.length / 4) * 4, "=") : bare
    }
    const secretKey = Redacted.value(hostile.secretKey)
    for (const urlSafe of [false, true]) {
      for (const padded of [true, false]) {
        const how = `${urlSafe ? "URL-safe" : "standard"} base64, ${padded ? "padded" : "no padding"}`
        it(`removes each key, and apiKey:secretKey (HTTP Basic), as ${how}`, () => {
          for (const key of [apiKey, secretKey, "KEY1", "KEY12", "KEY123"]) {
            const keys = Credentials.make({ apiKey: key, secretKey: "SK-Zz09-TAIL", oaid: "1" })
            const text = `before ${base64(key, urlSafe, padded)} after`
            assert.strictEqual(Credentials.scrub(keys, text), "before <redacted> after", `${key}: ${text}`)
          }
          const basic = `Authorization: Basic ${base64(`${apiKey}:${secretKey}`, urlSafe, padded)}\r\n`
          assert.strictEqual(Credentials.scrub(hostile, basic), "Authorization: Basic <redacted>\r\n", basic)
        })
      }
    }

    // Whatever surrounds a key, its bytes cannot be read back from any run of base64 left in the text.
    const base64Runs = (text: string) => text.match(/[A-Za-z0-9+/_-]+/g) ?? []
    const decodesToKey = (text: string, key: string) =>
      base64Runs(text).some((run) =>
        [0, 1, 2, 3].some((skip) => Buffer.from(run.slice(skip), "base64").toString("latin1").includes(key))
      )
    it("removes a key base64-encoded inside a larger text, at any alignment, wrapped at 76 columns or not", () => {
      for (const key of [apiKey, secretKey]) {
        const latin1 = Buffer.from(key, "utf8").toString("latin1")
        for (const prefix of ["", "x", "xy", "{\"ApiKey\":\"", "Basic "]) {
          for (const suffix of ["", "!", "\",\"OAID\":\"1\"}"]) {
            const plain = Buffer.from(`${prefix}${key}${suffix}`, "utf8").toString("base64")
            assert.isTrue(decodesToKey(plain, latin1), "the oracle sees the key")
            for (
              const encoded of [
                plain,
                plain.replace(/(.{76})/g, "$1\r\n"),
                plain.replace(/[+/]/g, (c) => c === "+" ? "-" : "_")
              ]
            ) {
              const scrubbed = Credentials.scrub(hostile, `data: ${encoded} end`)
              assert.isFalse(decodesToKey(scrubbed.replace(/\s/g, ""), latin1), `${prefix}|${suffix}: ${scrubbed}`)
              assert.include(scrubbed, "<redacted>")
            }
          }
        }
      }
    })

    it("removes each key spelt as hex, lower or upper case", () => {
      for (const key of [apiKey, secretKey]) {
        const hex = Buffer.from(key, "utf8").toString("hex")
        for (const form of [hex, hex.toUpperCase()]) {
          assert.strictEqual(Credentials.scrub(hostile, `before ${form} after`), "before <redacted> after", form)
          assert.strictEqual(Credentials.scrub(hostile, `x=00${form}ff`), "x=00<redacted>ff", form)
        }
      }
    })

    it("leaves base64 and hex that are not the keys alone", () => {
      const other = `${Buffer.from("just a photo caption").toString("base64")} ${"deadbeef".repeat(8)}`
      assert.strictEqual(Credentials.scrub(hostile, other), other)
    })

    it("leaves other text alone", () => {
      assert.strictEqual(Credentials.scrub(credentials, "<html>502 Bad Gateway</html>"), "<html>502 Bad Gateway</html>")
    })
  })
})
