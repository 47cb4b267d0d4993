/**
 * The retry policy, on the TestClock (no real sleeping), and what a send leaves in logs and spans.
 */
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { assert, describe, it } from "@effect/vitest"
import { Credentials } from "@esms-effect/core"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Fiber from "effect/Fiber"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import * as Schedule from "effect/Schedule"
import * as TestClock from "effect/TestClock"
import * as Tracer from "effect/Tracer"
import * as EsmsClient from "../src/EsmsClient.js"
import { accepted, message } from "./Fixtures.js"
import * as RecordingHttpClient from "./RecordingHttpClient.js"

const credentials = Credentials.make({ apiKey: "AK-RETRY-SECRET", secretKey: "SK-RETRY-SECRET", oaid: "42" })

/** Answers from a script, one per request; the last one repeats. */
const script = (...answers: ReadonlyArray<RecordingHttpClient.Respond>): Effect.Effect<RecordingHttpClient.Respond> =>
  Effect.map(Ref.make(0), (count) => (request, url) =>
    Effect.flatMap(
      Ref.getAndUpdate(count, (n) => n + 1),
      (n) => answers[Math.min(n, answers.length - 1)](request, url)
    ))

const status = (code: number, body = "upstream error"): RecordingHttpClient.Respond =>
  RecordingHttpClient.text(body, { status: code, contentType: "text/plain" })

const code = (value: string) => RecordingHttpClient.json({ CodeResult: value, CountRegenerate: 0 })

/** Forks a send through the double; answers the fiber and a way to count requests. */
const start = (respond: RecordingHttpClient.Respond, options: Partial<EsmsClient.Options> = {}) =>
  Effect.gen(function*() {
    const recorder = yield* RecordingHttpClient.make(respond)
    const client = yield* EsmsClient.make({ credentials, ...options }).pipe(Effect.provide(recorder.layer))
    const fiber = yield* Effect.fork(client.sendZaloImage({ ...message, requestId: "retry-1" }))
    const count = Effect.map(recorder.requests, (r) => r.length)
    return { fiber, count, requests: recorder.requests }
  })

describe("retry policy (TestClock)", () => {
  it.effect("default: exponential backoff from 250 ms with jitter, 5 attempts, then the last failure", () =>
    Effect.gen(function*() {
      const { count, fiber, requests } = yield* start(status(503))
      yield* TestClock.adjust("1 millis")
      assert.strictEqual(yield* count, 1)
      // The first wait is 250 ms ± 20 % jitter: not before 200 ms.
      yield* TestClock.adjust("198 millis")
      assert.strictEqual(yield* count, 1)
      yield* TestClock.adjust("101 millis")
      assert.strictEqual(yield* count, 2)
      yield* TestClock.adjust("10 seconds")
      const error = yield* Effect.flip(Fiber.join(fiber))
      assert.strictEqual(error._tag, "HttpStatusError")
      assert.strictEqual(yield* count, 5)
      // One RequestId for every attempt.
      const ids = new Set((yield* requests).map((r) => JSON.parse(r.body).RequestId))
      assert.deepStrictEqual([...ids], ["retry-1"])
    }))

  it.effect("a replaced schedule and the deadline: spaced 1 s, deadline 2.5 s → 3 attempts, DeadlineExceeded", () =>
    Effect.gen(function*() {
      const { count, fiber } = yield* start(status(500), {
        retry: Schedule.spaced("1 second"),
        deadline: "2500 millis"
      })
      yield* TestClock.adjust("999 millis")
      assert.strictEqual(yield* count, 1)
      yield* TestClock.adjust("1 millis")
      assert.strictEqual(yield* count, 2)
      yield* TestClock.adjust("1 second")
      assert.strictEqual(yield* count, 3)
      assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)))
      yield* TestClock.adjust("500 millis")
      const error = yield* Effect.flip(Fiber.join(fiber))
      assert.deepStrictEqual(
        error._tag === "DeadlineExceeded" && [error.deadlineMillis, error.attempts],
        [2500, 3]
      )
    }))

  it.effect("per-attempt timeouts are retried, each attempt gets the full timeout", () =>
    Effect.gen(function*() {
      const interrupted = yield* Ref.make(false)
      const { count, fiber } = yield* start(RecordingHttpClient.hang(interrupted), {
        timeout: "1 second",
        retry: Schedule.recurs(1)
      })
      yield* TestClock.adjust("1 second")
      assert.strictEqual(yield* count, 2)
      yield* TestClock.adjust("1 second")
      const error = yield* Effect.flip(Fiber.join(fiber))
      assert.strictEqual(error._tag, "RequestTimeout")
      assert.isTrue(yield* Ref.get(interrupted))
    }))

  it.effect("maxAttempts 1 turns retries off", () =>
    Effect.gen(function*() {
      const { count, fiber } = yield* start(status(503), { maxAttempts: 1 })
      yield* TestClock.adjust("1 minute")
      assert.strictEqual((yield* Effect.flip(Fiber.join(fiber)))._tag, "HttpStatusError")
      assert.strictEqual(yield* count, 1)
    }))

  for (
    const [name, respond, attempts] of [
      ["429", status(429), 5],
      ["160", code("160"), 5],
      ["400", status(400), 1],
      ["an HTML body", RecordingHttpClient.text("<html>oops</html>", { contentType: "text/html" }), 1],
      ["101", code("101"), 1],
      ["103", code("103"), 1],
      ["124", code("124"), 1]
    ] as const
  ) {
    it.effect(`${name}: ${attempts === 1 ? "never retried" : "retried"}`, () =>
      Effect.gen(function*() {
        const { count, fiber } = yield* start(respond)
        yield* TestClock.adjust("1 minute")
        yield* Effect.flip(Fiber.join(fiber))
        assert.strictEqual(yield* count, attempts)
      }))
  }

  it.effect("invalid input: no request at all", () =>
    Effect.gen(function*() {
      const recorder = yield* RecordingHttpClient.make(accepted)
      const client = yield* EsmsClient.make({ credentials }).pipe(Effect.provide(recorder.layer))
      const error = yield* Effect.flip(client.sendZaloImage({ ...message, imageUrl: "nope" }))
      assert.strictEqual(error._tag, "InvalidMessage")
      assert.deepStrictEqual(yield* recorder.requests, [])
    }))
})

/** A 503 or 429 with a Retry-After header. */
const retryAfter = (code: number, value: string): RecordingHttpClient.Respond => (request) =>
  Effect.sync(() =>
    HttpClientResponse.fromWeb(
      request,
      new Response("busy", { status: code, headers: { "content-type": "text/plain", "retry-after": value } })
    )
  )

describe("Retry-After (TestClock)", () => {
  it.effect("503 with Retry-After: 3 → the next attempt waits 3 s, not the 250 ms backoff", () =>
    Effect.gen(function*() {
      const { count, fiber } = yield* start(yield* script(retryAfter(503, "3"), accepted))
      yield* TestClock.adjust("2999 millis")
      assert.strictEqual(yield* count, 1)
      yield* TestClock.adjust("1 millis")
      assert.strictEqual(yield* count, 2)
      const result = yield* Fiber.join(fiber)
      assert.strictEqual(result.requestId, "retry-1")
    }))

  it.effect("429 with Retry-After as an HTTP date: waits until that date (on the clock of the send)", () =>
    Effect.gen(function*() {
      // The TestClock starts at the epoch: the date is 5 s after it.
      const { count, fiber } = yield* start(
        yield* script(retryAfter(429, new Date(5_000).toUTCString()), accepted)
      )
      yield* TestClock.adjust("4999 millis")
      assert.strictEqual(yield* count, 1)
      yield* TestClock.adjust("1 millis")
      assert.strictEqual(yield* count, 2)
      yield* Fiber.join(fiber)
    }))

  it.effect("Retry-After: 3 on every answer: 5 attempts take 12 s, not ~4 s", () =>
    Effect.gen(function*() {
      const { count, fiber } = yield* start(retryAfter(503, "3"))
      yield* TestClock.adjust("11999 millis")
      assert.strictEqual(yield* count, 4)
      yield* TestClock.adjust("1 millis")
      assert.strictEqual(yield* count, 5)
      const error = yield* Effect.flip(Fiber.join(fiber))
      assert.strictEqual(error._tag, "HttpStatusError")
      assert.include(error.message, "retry after 3 s")
    }))

  it.effect("a Retry-After beyond the deadline: no waiting for nothing, the 503 at once", () =>
    Effect.gen(function*() {
      const { count, fiber } = yield* start(retryAfter(503, "120"), { deadline: "60 seconds" })
      yield* TestClock.adjust("1 millis")
      const error = yield* Effect.flip(Fiber.join(fiber))
      assert.strictEqual(error._tag, "HttpStatusError")
      assert.strictEqual(yield* count, 1)
    }))

  it.effect("an unreadable Retry-After is ignored: the usual backoff", () =>
    Effect.gen(function*() {
      const { count, fiber } = yield* start(yield* script(retryAfter(503, "soon"), accepted))
      yield* TestClock.adjust("300 millis")
      assert.strictEqual(yield* count, 2)
      yield* Fiber.join(fiber)
    }))
})

describe("124 after a retry", () => {
  it.effect("after an attempt that may have reached eSMS (503): Accepted, de-duplicated, SMSID unknown", () =>
    Effect.gen(function*() {
      const { count, fiber } = yield* start(yield* script(status(503), code("124")))
      yield* TestClock.adjust("1 minute")
      const result = yield* Fiber.join(fiber)
      assert.deepStrictEqual([result.deduplicated, result.requestId, result.smsId], [true, "retry-1", undefined])
      assert.strictEqual(yield* count, 2)
    }))

  it.effect("after an attempt whose connection broke: de-duplicated", () =>
    Effect.gen(function*() {
      const lost = RecordingHttpClient.refuse(Object.assign(new Error("other side closed"), { code: "UND_ERR_SOCKET" }))
      const { fiber } = yield* start(yield* script(lost, code("124")))
      yield* TestClock.adjust("1 minute")
      assert.isTrue((yield* Fiber.join(fiber)).deduplicated)
    }))

  it.effect("after attempts that never left (refused) or were answered (160): the typed DuplicateRequestId", () =>
    Effect.gen(function*() {
      const refused = RecordingHttpClient.refuse(RecordingHttpClient.ECONNREFUSED)
      const { fiber } = yield* start(yield* script(refused, code("160"), code("124")))
      yield* TestClock.adjust("1 minute")
      const error = yield* Effect.flip(Fiber.join(fiber))
      assert.strictEqual(error._tag, "DuplicateRequestId")
    }))
})

describe("observability without leaks", () => {
  const keys = ["AK-OBS-0001", "SK-OBS-0002"] as const
  const obsCredentials = Credentials.make({ apiKey: keys[0], secretKey: keys[1], oaid: "42" })
  const echoKeys = `${keys[0]} ${keys[1]} ${encodeURIComponent(keys[1])}`

  const paths: ReadonlyArray<readonly [string, RecordingHttpClient.Respond, Partial<EsmsClient.Options>]> = [
    ["accepted", accepted, {}],
    ["101 echoing the keys", RecordingHttpClient.json({ CodeResult: "101", ErrorMessage: echoKeys }), {}],
    ["160 then 124", (req, url) => code("160")(req, url), { maxAttempts: 2 }],
    ["503 echoing the body", RecordingHttpClient.echo((b) => `<h1>503</h1>${b}`, { status: 503 }), {}],
    ["HTML echoing the body", RecordingHttpClient.echo((b) => `<html>${b}</html>`, { contentType: "text/html" }), {}],
    ["JSON echoing the body", RecordingHttpClient.echo(), {}],
    ["refused, quoting the keys", RecordingHttpClient.refuse({ code: "ECONNREFUSED", message: echoKeys }), {}],
    ["socket closed, quoting the keys", RecordingHttpClient.refuse(new Error(`closed ${echoKeys}`)), {}],
    ["timeout", RecordingHttpClient.hang(Ref.unsafeMake(false)), { timeout: "1 second", maxAttempts: 2 }],
    ["deadline", RecordingHttpClient.hang(Ref.unsafeMake(false)), { timeout: "10 seconds", deadline: "3 seconds" }]
  ]

  it.effect("every path at debug level: the keys appear in no error, log line or span attribute", () =>
    Effect.gen(function*() {
      const logs: Array<string> = []
      const logger = Logger.make(({ annotations, logLevel, message: m }) => {
        logs.push(`${logLevel.label} ${JSON.stringify(m)} ${JSON.stringify([...annotations])}`)
      })
      const spans: Array<Tracer.Span> = []
      const base = yield* Effect.tracer
      const tracer = Tracer.make({
        context: base.context,
        span: (...args) => {
          const span = base.span(...args)
          spans.push(span)
          return span
        }
      })
      const outcomes: Array<string> = []
      for (const [, respond, options] of paths) {
        const recorder = yield* RecordingHttpClient.make(respond)
        const client = yield* EsmsClient.make({ credentials: obsCredentials, ...options }).pipe(
          Effect.provide(recorder.layer)
        )
        const fiber = yield* client.sendZaloImage(message).pipe(
          Effect.either,
          Effect.withTracer(tracer),
          Logger.withMinimumLogLevel(LogLevel.Debug),
          Effect.provide(Logger.replace(Logger.defaultLogger, logger)),
          Effect.fork
        )
        yield* TestClock.adjust("1 minute")
        const result = yield* Fiber.join(fiber)
        outcomes.push(
          Either.isLeft(result)
            ? `${String(result.left)} ${result.left.message} ${JSON.stringify(result.left)}`
            : JSON.stringify(result.right)
        )
      }
      const sendSpans = spans.filter((s) => s.name === "esms.sendZaloImage")
      assert.strictEqual(sendSpans.length, paths.length)
      const attributes = spans.map((s) => `${s.name} ${JSON.stringify([...s.attributes])}`)
      for (const text of [...outcomes, ...logs, ...attributes]) {
        for (const key of keys) {
          assert.notInclude(text, key)
          assert.notInclude(text, encodeURIComponent(key))
        }
      }
      // And there is something to see: per-attempt debug lines and the span's attributes.
      assert.isTrue(logs.some((l) => l.startsWith("DEBUG") && l.includes("attempt 1")))
      const rejected = sendSpans[1].attributes
      assert.strictEqual(rejected.get("esms.result_code"), "101")
      assert.strictEqual(rejected.get("esms.attempts"), 1)
      assert.isString(rejected.get("esms.request_id"))
      assert.strictEqual(sendSpans[2].attributes.get("esms.attempts"), 2)
      assert.strictEqual(sendSpans[8].attributes.get("esms.outcome"), "RequestTimeout")
      assert.strictEqual(sendSpans[9].attributes.get("esms.outcome"), "DeadlineExceeded")
    }))
})
