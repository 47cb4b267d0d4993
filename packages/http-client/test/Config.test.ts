import { assert, describe, it } from "@effect/vitest"
import { ResultCode } from "@esms-effect/core"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as TestClock from "effect/TestClock"
import * as EsmsClient from "../src/EsmsClient.js"
import * as NodeEsmsClient from "../src/NodeEsmsClient.js"
import * as SendStatus from "../src/SendStatus.js"
import * as TransportError from "../src/TransportError.js"
import { accepted, credentials, message, send } from "./Fixtures.js"
import * as RecordingHttpClient from "./RecordingHttpClient.js"

const env = (entries: Record<string, string>) =>
  Effect.withConfigProvider(ConfigProvider.fromMap(
    new Map(
      Object.entries({ ESMS_API_KEY: "AK-SECRET-123", ESMS_SECRET_KEY: "SK-SECRET-456", ESMS_OAID: "42", ...entries })
    )
  ))

const readConfig = (entries: Record<string, string> = {}) => EsmsClient.config.pipe(env(entries))

describe("EsmsClient.config", () => {
  it.effect("reads the ESMS_* variables, keys redacted, with defaults", () =>
    Effect.gen(function*() {
      const options = yield* readConfig()
      assert.strictEqual(Redacted.value(options.credentials.apiKey), "AK-SECRET-123")
      assert.strictEqual(Redacted.value(options.credentials.secretKey), "SK-SECRET-456")
      assert.isTrue(Redacted.isRedacted(options.credentials.apiKey))
      assert.strictEqual(options.credentials.oaid, "42")
      assert.strictEqual(options.baseUrl, EsmsClient.DEFAULT_BASE_URL)
      assert.isTrue(Duration.equals(Duration.decode(options.timeout!), Duration.seconds(15)))
      assert.isFalse(options.allowInsecureHttp)
    }))

  it.effect("a key or OAID with a space or control character is refused, naming the variable, never quoting it", () =>
    Effect.gen(function*() {
      for (const name of ["ESMS_API_KEY", "ESMS_SECRET_KEY", "ESMS_OAID"]) {
        for (const bad of ["AK-CRLF-SECRET\r", "AK-SPACE-SECRET ", " AK-LEAD-SECRET", "AK-TAB\tSECRET", "   "]) {
          const error = yield* Effect.flip(readConfig({ [name]: bad }))
          const text = String(error)
          assert.include(text, name)
          assert.include(text, "control characters")
          assert.notInclude(text, bad.trim() === "" ? "\u0000" : bad.trim())
        }
      }
    }))

  it.effect("reads the optional variables", () =>
    Effect.gen(function*() {
      const options = yield* readConfig({
        ESMS_BASE_URL: "http://esms.example.com/json",
        ESMS_TIMEOUT: "30",
        ESMS_ALLOW_INSECURE_HTTP: "true"
      })
      assert.strictEqual(options.baseUrl, "http://esms.example.com/json")
      assert.isTrue(Duration.equals(Duration.decode(options.timeout!), Duration.seconds(30)))
      assert.isTrue(options.allowInsecureHttp)
    }))

  it.effect("accepts ESMS_TIMEOUT as seconds or as a duration, and rejects anything else", () =>
    Effect.gen(function*() {
      for (
        const [raw, millis] of [["10", 10_000], ["2.5", 2_500], ["500 millis", 500], ["1 minute", 60_000], [
          " 7 ",
          7_000
        ]] as const
      ) {
        const options = yield* readConfig({ ESMS_TIMEOUT: raw })
        assert.strictEqual(Duration.toMillis(Duration.decode(options.timeout!)), millis, raw)
      }
      for (const raw of ["abc", "", "0", "-1", "10 parsecs", "0 millis"]) {
        const error = yield* Effect.flip(readConfig({ ESMS_TIMEOUT: raw }))
        assert.strictEqual(error._op, "InvalidData", raw)
        assert.include(String(error), "ESMS_TIMEOUT", raw)
        assert.include(String(error), "500 millis", raw)
      }
    }))

  it.effect("requires the keys and the OAID, and refuses them empty", () =>
    Effect.gen(function*() {
      for (const name of ["ESMS_API_KEY", "ESMS_SECRET_KEY", "ESMS_OAID"]) {
        const missing = yield* Effect.flip(EsmsClient.config.pipe(Effect.withConfigProvider(ConfigProvider.fromMap(
          new Map(
            [["ESMS_API_KEY", "a"], ["ESMS_SECRET_KEY", "s"], ["ESMS_OAID", "1"]].filter(([k]) => k !== name) as Array<
              [string, string]
            >
          )
        ))))
        assert.include(String(missing), name)
        const empty = yield* Effect.flip(readConfig({ [name]: "" }))
        assert.include(String(empty), name)
      }
    }))

  it.effect("rejects a non-boolean ESMS_ALLOW_INSECURE_HTTP", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(readConfig({ ESMS_ALLOW_INSECURE_HTTP: "maybe" }))
      assert.include(String(error), "ESMS_ALLOW_INSECURE_HTTP")
    }))

  it.effect("layerConfig sends with what the environment says", () =>
    Effect.gen(function*() {
      const recorder = yield* RecordingHttpClient.make(RecordingHttpClient.hang(yield* Ref.make(false)))
      const fiber = yield* Effect.gen(function*() {
        const client = yield* EsmsClient.EsmsClient
        return yield* Effect.flip(client.sendZaloImage(message))
      }).pipe(
        Effect.provide(EsmsClient.layerConfig().pipe(Layer.provide(recorder.layer))),
        env({ ESMS_BASE_URL: "https://esms.example.com/svc/", ESMS_TIMEOUT: "500 millis", ESMS_MAX_ATTEMPTS: "1" }),
        Effect.fork
      )
      yield* TestClock.adjust("499 millis")
      assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)))
      yield* TestClock.adjust("1 millis")
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(error._tag, "RequestTimeout")
      const [request] = yield* recorder.requests
      assert.strictEqual(request.url, "https://esms.example.com/svc/SendZaloFollowerMessage_V5_post_json/")
      const body = JSON.parse(request.body)
      assert.deepStrictEqual([body.ApiKey, body.SecretKey, body.OAID], ["AK-SECRET-123", "SK-SECRET-456", "42"])
    }))
})

describe("EsmsClient base URL", () => {
  const build = (baseUrl: string, allowInsecureHttp?: boolean) =>
    send(message, accepted, { baseUrl, ...(allowInsecureHttp === undefined ? {} : { allowInsecureHttp }) }).pipe(
      Effect.map(({ requests }) => requests.map((r) => r.url)),
      Effect.either
    )

  it.effect("refuses plain http:// to a host that is not loopback", () =>
    Effect.gen(function*() {
      for (
        const baseUrl of [
          "http://rest.esms.vn/MainService.svc/json",
          "http://10.0.0.5:8080",
          "http://127.0.0.1.evil.example/json",
          "http://localhost.evil.example",
          "http://0.0.0.0:8080"
        ]
      ) {
        const result = yield* build(baseUrl)
        const error = Either.getOrThrow(Either.flip(result))
        assert.strictEqual(error._tag, "InvalidConfiguration", baseUrl)
        assert.strictEqual(error.field, "baseUrl")
        assert.include(error.message, "allowInsecureHttp")
      }
    }))

  it.effect("allows plain http:// to a remote host when opted in", () =>
    Effect.gen(function*() {
      const result = yield* build("http://rest.esms.vn/MainService.svc/json", true)
      assert.deepStrictEqual(
        result,
        Either.right(["http://rest.esms.vn/MainService.svc/json/SendZaloFollowerMessage_V5_post_json/"])
      )
    }))

  it.effect("allows plain http:// to loopback", () =>
    Effect.gen(function*() {
      for (
        const [baseUrl, url] of [
          ["http://127.0.0.1:8080", "http://127.0.0.1:8080/"],
          ["http://127.1.2.3:9/json/", "http://127.1.2.3:9/json/"],
          ["http://localhost", "http://localhost/"],
          ["http://LOCALHOST:3000/json", "http://localhost:3000/json/"],
          ["http://[::1]:4000", "http://[::1]:4000/"]
        ]
      ) {
        const result = yield* build(baseUrl)
        assert.deepStrictEqual(result, Either.right([`${url}SendZaloFollowerMessage_V5_post_json/`]), baseUrl)
      }
    }))

  it.effect("refuses what is not an absolute http(s) URL without query or fragment", () =>
    Effect.gen(function*() {
      for (
        const baseUrl of [
          "rest.esms.vn/json",
          "ftp://rest.esms.vn/json",
          "",
          "https://rest.esms.vn/json?x=1",
          "https://rest.esms.vn/json#f"
        ]
      ) {
        const result = yield* build(baseUrl, true)
        assert.strictEqual(Either.getOrThrow(Either.flip(result))._tag, "InvalidConfiguration", baseUrl)
      }
    }))

  it.effect("NodeEsmsClient.layer refuses an insecure base URL before sending anything", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        Layer.build(NodeEsmsClient.layer({ credentials, baseUrl: "http://rest.esms.vn/json" })).pipe(Effect.scoped)
      )
      assert.strictEqual(error._tag, "InvalidConfiguration")
    }))

  it.effect("layerConfig refuses an insecure ESMS_BASE_URL unless ESMS_ALLOW_INSECURE_HTTP=true", () =>
    Effect.gen(function*() {
      const recorder = yield* RecordingHttpClient.make(accepted)
      const sendWith = (entries: Record<string, string>) =>
        Effect.flatMap(EsmsClient.EsmsClient, (client) => client.sendZaloImage(message)).pipe(
          Effect.provide(EsmsClient.layerConfig().pipe(Layer.provide(recorder.layer))),
          env(entries),
          Effect.either
        )
      const refused = yield* sendWith({ ESMS_BASE_URL: "http://esms.example.com" })
      assert.strictEqual(Either.getOrThrow(Either.flip(refused))._tag, "InvalidConfiguration")
      assert.strictEqual((yield* recorder.requests).length, 0)
      const allowed = yield* sendWith({ ESMS_BASE_URL: "http://esms.example.com", ESMS_ALLOW_INSECURE_HTTP: "true" })
      assert.isTrue(Either.isRight(allowed))
      assert.strictEqual(
        (yield* recorder.requests)[0].url,
        "http://esms.example.com/SendZaloFollowerMessage_V5_post_json/"
      )
    }))
})

describe("SendStatus.config", () => {
  it.effect("reads the keys and the connection, no ESMS_OAID: the lookup is by SMSID", () =>
    Effect.gen(function*() {
      const provider = ConfigProvider.fromMap(
        new Map([["ESMS_API_KEY", "AK-1"], ["ESMS_SECRET_KEY", "SK-1"], ["ESMS_TIMEOUT", "3"]])
      )
      const options = yield* Effect.withConfigProvider(SendStatus.config, provider)
      assert.strictEqual(Redacted.value(options.credentials.secretKey), "SK-1")
      assert.isTrue(Duration.equals(Duration.decode(options.timeout!), Duration.seconds(3)))
      assert.notProperty(options.credentials, "oaid")
    }))
})

describe("TransportError.isTransportError", () => {
  it("knows every transport error by its TypeId, and nothing else (not a look-alike tag)", () => {
    const all = [
      new TransportError.ConnectionFailed({ detail: "ECONNREFUSED" }),
      new TransportError.ConnectionLost({ detail: "ECONNRESET" }),
      new TransportError.RequestTimeout({ timeoutMillis: 1 }),
      new TransportError.DeadlineExceeded({ deadlineMillis: 1, attempts: 1 }),
      new TransportError.HttpStatusError({ status: 503, excerpt: "" }),
      new TransportError.ResponseTooLarge({ status: 200, limitBytes: 1 }),
      new TransportError.BodyNotJson({ status: 200, excerpt: "<html>" }),
      new TransportError.ResponseDecodeFailed({ detail: "CodeResult: missing", excerpt: "{}" })
    ]
    assert.deepStrictEqual(
      all.map((e) => e._tag).sort(),
      TransportError.TransportError.members.map((m) => m._tag).sort()
    )
    for (const error of all) assert.isTrue(TransportError.isTransportError(error), error._tag)
    assert.isFalse(TransportError.isTransportError(ResultCode.fromCode("124")))
    assert.isFalse(
      TransportError.isTransportError(new EsmsClient.InvalidConfiguration({ field: "baseUrl", detail: "" }))
    )
    assert.isFalse(TransportError.isTransportError({ _tag: "ConnectionFailed", detail: "forged" }))
  })
})
