import { assert, describe, it } from "@effect/vitest"
import { Credentials, ResultCode } from "@esms-effect/core"
import * as Cause from "effect/Cause"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Ref from "effect/Ref"
import * as TestClock from "effect/TestClock"
import { inspect } from "node:util"
import * as EsmsClient from "../src/EsmsClient.js"
import { message } from "./Fixtures.js"
import * as RecordingHttpClient from "./RecordingHttpClient.js"

const keySets = [
  { name: "plain keys", apiKey: "AK-SECRET-123", secretKey: "SK-SECRET-456" },
  // These change under URL encoding, so an echo of a form or query string shows a second spelling.
  { name: "keys with URL-special characters", apiKey: "AK+SECRET/123=", secretKey: "SK!SECRET&456?*'()" },
  // A quote and a backslash change under JSON escaping.
  { name: "keys with JSON-special characters", apiKey: "AK\"SECRET\\123", secretKey: "SK<SECRET>é456" }
] as const

const everyLetterEscaped = (key: string) =>
  [...key].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`).join("")

/** Every spelling of the keys that could reach a person: raw, URL- or form-encoded, JSON-escaped. */
const spellings = (
  keys: { readonly apiKey: string; readonly secretKey: string }
) => [
  ...new Set([keys.apiKey, keys.secretKey].flatMap((key) => [
    key,
    encodeURIComponent(key),
    new URLSearchParams({ k: key }).toString().slice(2),
    JSON.stringify(key).slice(1, -1),
    everyLetterEscaped(key)
  ]))
]

const assertNoSecrets = (
  keys: { readonly apiKey: string; readonly secretKey: string },
  label: string,
  value: unknown
) => {
  const error = value as Error
  const renderings = {
    "String(error)": String(error),
    "error.message": error.message,
    "JSON.stringify(error)": JSON.stringify(error),
    "inspect(error)": inspect(error, { depth: 10 }),
    "Cause.pretty": Cause.pretty(Cause.fail(error))
  }
  for (const [how, text] of Object.entries(renderings)) {
    assert.isString(text, `${label}: ${how}`)
    for (const secret of spellings(keys)) {
      assert.notInclude(text, secret, `${label}: ${how} leaks a key`)
    }
  }
}

for (const keys of keySets) {
  describe(`secrets never leak (${keys.name})`, () => {
    const credentials = Credentials.make({ ...keys, oaid: "4321987654" })
    const wireBody = (body: string) => `${body} ${encodeURIComponent(body)} ApiKey=${encodeURIComponent(keys.apiKey)}`

    /** The error a send fails with; the answer is recorded so an echo can show the keys. */
    const failure = (
      respond: RecordingHttpClient.Respond,
      input = message,
      options: Partial<EsmsClient.Options> = {}
    ) =>
      Effect.gen(function*() {
        const recorder = yield* RecordingHttpClient.make(respond)
        const client = yield* EsmsClient.make({ credentials, maxAttempts: 1, ...options }).pipe(
          Effect.provide(recorder.layer)
        )
        return yield* Effect.flip(client.sendZaloImage(input))
      })

    it("Credentials print and serialize without the keys", () => {
      assertNoSecrets(keys, "Credentials", Object.assign(new Error(String(credentials)), credentials))
      for (const secret of spellings(keys)) {
        assert.notInclude(String(credentials), secret)
        assert.notInclude(JSON.stringify(credentials), secret)
        assert.notInclude(inspect(credentials, { depth: 10 }), secret)
      }
    })

    it.effect("every result code, even when ErrorMessage echoes the keys", () =>
      Effect.gen(function*() {
        for (const code of [...Object.keys(ResultCode.table), "555"]) {
          const error = yield* failure(RecordingHttpClient.json({
            CodeResult: code,
            ErrorMessage: `Authorize Failed for ApiKey=${keys.apiKey} SecretKey=${keys.secretKey}`
          }))
          assert.strictEqual(error._tag, code === "555" ? "UnknownResultCode" : ResultCode.table[code as "101"].tag)
          assert.include(error.message, "Authorize Failed for ApiKey=")
          assertNoSecrets(keys, code, error)
        }
      }))

    it.effect("BodyNotJson whose HTML body echoes the request body", () =>
      Effect.gen(function*() {
        const error = yield* failure(
          RecordingHttpClient.echo((body) => `<html><pre>${wireBody(body)}</pre></html>`, { contentType: "text/html" })
        )
        assert.strictEqual(error._tag, "BodyNotJson")
        assert.include(error.message, "<redacted>")
        assertNoSecrets(keys, "BodyNotJson", error)
      }))

    it.effect("HttpStatusError whose body echoes the keys raw and URL-encoded", () =>
      Effect.gen(function*() {
        const error = yield* failure(RecordingHttpClient.echo(wireBody, { status: 400 }))
        assert.strictEqual(error._tag, "HttpStatusError")
        assert.include(error.message, "<redacted>")
        assertNoSecrets(keys, "HttpStatusError", error)
      }))

    it.effect("ResponseDecodeFailed on JSON that echoes the request, or carries a key where CodeResult goes", () =>
      Effect.gen(function*() {
        const echoed = yield* failure(RecordingHttpClient.echo())
        assert.strictEqual(echoed._tag, "ResponseDecodeFailed")
        assertNoSecrets(keys, "ResponseDecodeFailed (echo)", echoed)
        const misplaced = yield* failure(RecordingHttpClient.json({ CodeResult: { ApiKey: keys.apiKey }, x: keys }))
        assert.strictEqual(misplaced._tag, "ResponseDecodeFailed")
        assertNoSecrets(keys, "ResponseDecodeFailed (misplaced)", misplaced)
      }))

    it.effect("ConnectionFailed and ConnectionLost, even when the transport error quotes the keys", () =>
      Effect.gen(function*() {
        const refused = yield* failure(RecordingHttpClient.refuse(RecordingHttpClient.ECONNREFUSED))
        assert.strictEqual(refused._tag, "ConnectionFailed")
        assertNoSecrets(keys, "ConnectionFailed", refused)
        const quoting = yield* failure(RecordingHttpClient.refuse(
          new Error(
            `socket hang up while writing ApiKey=${keys.apiKey}&SecretKey=${encodeURIComponent(keys.secretKey)}`
          )
        ))
        // No "never sent" code: the request may have reached eSMS.
        assert.strictEqual(quoting._tag, "ConnectionLost")
        assert.include(quoting.message, "socket hang up")
        assertNoSecrets(keys, "ConnectionLost (quoting)", quoting)
      }))

    it.effect("RequestTimeout", () =>
      Effect.gen(function*() {
        const fiber = yield* Effect.fork(failure(RecordingHttpClient.hang(yield* Ref.make(false))))
        yield* TestClock.adjust("15 seconds")
        const error = yield* Fiber.join(fiber)
        assert.strictEqual(error._tag, "RequestTimeout")
        assertNoSecrets(keys, "RequestTimeout", error)
      }))

    it.effect("InvalidMessage", () =>
      Effect.gen(function*() {
        const error = yield* failure(RecordingHttpClient.json({ CodeResult: "100" }), {
          ...message,
          userId: "",
          imageUrl: "ftp://x/y.gif"
        })
        assert.strictEqual(error._tag, "InvalidMessage")
        assertNoSecrets(keys, "InvalidMessage", error)
      }))

    it.effect("InvalidConfiguration", () =>
      Effect.gen(function*() {
        const recorder = yield* RecordingHttpClient.make(RecordingHttpClient.json({ CodeResult: "100" }))
        for (const baseUrl of ["http://esms.example.com/json", "not a url", "https://x.example/?ApiKey=1"]) {
          const error = yield* Effect.flip(
            EsmsClient.make({ credentials, baseUrl }).pipe(Effect.provide(recorder.layer))
          )
          assert.strictEqual(error._tag, "InvalidConfiguration")
          assertNoSecrets(keys, `InvalidConfiguration ${baseUrl}`, error)
        }
      }))

    it.effect("a configuration error when the keys come from the environment", () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(EsmsClient.config).pipe(
          Effect.withConfigProvider(ConfigProvider.fromMap(
            new Map([
              ["ESMS_API_KEY", keys.apiKey],
              ["ESMS_SECRET_KEY", keys.secretKey],
              ["ESMS_OAID", "1"],
              ["ESMS_TIMEOUT", "abc"]
            ])
          ))
        )
        assertNoSecrets(keys, "ConfigError", Object.assign(new Error(String(error)), { detail: String(error) }))
      }))

    it.effect("debug logs of a failed send", () =>
      Effect.gen(function*() {
        const lines: Array<string> = []
        const capture = Logger.make((options) => {
          lines.push(Logger.stringLogger.log(options))
        })
        yield* failure(RecordingHttpClient.echo((body) => `<p>${body}</p>`)).pipe(
          Effect.provide(Logger.replace(Logger.defaultLogger, capture)),
          Logger.withMinimumLogLevel(LogLevel.All)
        )
        assert.isAbove(lines.length, 0, "the client logs a failed send at debug level")
        for (const secret of spellings(keys)) {
          for (const line of lines) assert.notInclude(line, secret)
        }
      }))
  })
}
