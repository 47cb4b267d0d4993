/**
 * The one configured eSMS client every endpoint is a few lines on (the shape of `OpenAiClient.make`):
 * built once from the options — base URL, headers, per-attempt timeout, the answer's size cap and
 * `Retry-After`, error mapping and scrubbing of the keys — and the retry/deadline policy around an
 * attempt. Only the keys (ApiKey, SecretKey): the OAID belongs to the send alone.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { Credentials, ResultCode } from "@esms-effect/core"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as DefaultServices from "effect/DefaultServices"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import type * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as FiberRef from "effect/FiberRef"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as Tracer from "effect/Tracer"
import * as TransportError from "../TransportError.js"
import * as Answer from "./answer.js"
import * as Timed from "./timed.js"
import { moduleVersion } from "./version.js"

/** This package's version, sent in the User-Agent. @since 0.1.0 */
export const VERSION: string = moduleVersion

/** @since 0.1.0 */
export const USER_AGENT = `@esms-effect/http-client/${VERSION}`

/** @since 0.1.0 */
export const DEFAULT_BASE_URL = "https://rest.esms.vn/MainService.svc/json"

/** Time allowed for one attempt: connect, headers and body. @since 0.1.0 */
export const DEFAULT_TIMEOUT: Duration.DurationInput = "15 seconds"

/** Time allowed for a whole send: every attempt and the waits between them. @since 0.1.0 */
export const DEFAULT_DEADLINE: Duration.DurationInput = "60 seconds"

/**
 * The largest answer body read (1 MiB). An eSMS answer is a few hundred bytes; anything beyond the cap
 * fails as `ResponseTooLarge` without being read, so a broken or hostile server cannot fill the memory.
 *
 * @since 0.1.0
 */
export const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024

/** Attempts of one send under the default retry policy (the first and up to 4 retries). @since 0.1.0 */
export const DEFAULT_MAX_ATTEMPTS = 5

/** @since 0.1.0 */
export const CONTENT_TYPE = "application/json; charset=utf-8"

/**
 * What a retry policy sees: the failure of the attempt before it.
 *
 * @since 0.1.0
 */
export type AttemptFailure = TransportError.TransportError | ResultCode.ResultCodeError

/**
 * The default retry policy: exponential backoff from 250 ms (×2, jittered), at most `maxAttempts`
 * attempts in all. Only retryable failures reach it (see {@link isRetryable}); the deadline bounds it.
 * Whatever the policy, an answer's `Retry-After` (503, 429) is honoured: the next attempt waits at
 * least that long, and a wait that would end past the deadline ends the retries at once.
 *
 * @since 0.1.0
 */
export const retrySchedule = (
  maxAttempts: number = DEFAULT_MAX_ATTEMPTS
): Schedule.Schedule<unknown, AttemptFailure> =>
  Schedule.exponential("250 millis", 2).pipe(
    Schedule.jittered,
    Schedule.intersect(Schedule.recurs(Math.max(0, maxAttempts - 1)))
  )

/**
 * Worth another attempt with the same RequestId: could not connect, connection lost, timeout,
 * HTTP 5xx or 429, result code 160. Never: any other result code, invalid input.
 *
 * @since 0.1.0
 */
export const isRetryable = (error: AttemptFailure): boolean =>
  TransportError.isTransportError(error) ? TransportError.isRetryable(error) : ResultCode.isRetryable(error)

/**
 * The client's options are wrong (a base URL that is not a URL, plain http to a remote host).
 *
 * @since 0.1.0
 */
export class InvalidConfiguration
  extends Schema.TaggedError<InvalidConfiguration>("@esms-effect/http-client/InvalidConfiguration")(
    "InvalidConfiguration",
    { field: Schema.String, detail: Schema.String }
  )
{
  override get message(): string {
    return `Invalid eSMS client configuration: ${this.field} ${this.detail}`
  }
}

const LOOPBACK_HOSTS = new Set(["localhost", "[::1]"])

/**
 * Whether a host name is this machine (127.0.0.0/8, ::1, localhost).
 *
 * @since 0.1.0
 */
export const isLoopbackHost = (hostname: string): boolean =>
  LOOPBACK_HOSTS.has(hostname) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname)

/**
 * Checks a base URL and returns it without a trailing slash.
 *
 * @since 0.1.0
 */
export const resolveBaseUrl = (
  baseUrl: string,
  allowInsecureHttp = false
): Either.Either<string, InvalidConfiguration> => {
  const fail = (detail: string) => Either.left(new InvalidConfiguration({ field: "baseUrl", detail }))
  let url: URL
  try {
    url = new URL(baseUrl)
  } catch {
    return fail("must be an absolute http:// or https:// URL")
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    return fail("must be an absolute http:// or https:// URL")
  }
  if (url.protocol === "http:" && !allowInsecureHttp && !isLoopbackHost(url.hostname)) {
    return fail(
      "uses plain http:// to a host that is not loopback; the keys would cross the network in clear text " +
        "(use https://, or opt in with allowInsecureHttp / ESMS_ALLOW_INSECURE_HTTP=true)"
    )
  }
  if (url.search !== "" || url.hash !== "") return fail("must not have a query or a fragment")
  return Either.right(url.href.replace(/\/+$/, ""))
}

/**
 * ApiKey and SecretKey: all an endpoint but the send needs (a `Credentials` is one).
 *
 * @since 0.1.0
 */
export interface Keys {
  readonly apiKey: Redacted.Redacted<string>
  readonly secretKey: Redacted.Redacted<string>
}

/**
 * What every endpoint shares: where eSMS is, how long an attempt and a whole call may take, how
 * failures are retried.
 *
 * @since 0.1.0
 */
export interface Connection {
  /** Default {@link DEFAULT_BASE_URL}; the endpoint path is appended. */
  readonly baseUrl?: string | undefined
  /** Per attempt (connect, headers and body). Default {@link DEFAULT_TIMEOUT}. */
  readonly timeout?: Duration.DurationInput | undefined
  /** For the whole call, retries included. Default {@link DEFAULT_DEADLINE}. */
  readonly deadline?: Duration.DurationInput | undefined
  /** Attempts under the default policy. Default {@link DEFAULT_MAX_ATTEMPTS}; 1 turns retries off. */
  readonly maxAttempts?: number | undefined
  /** Replaces the default policy ({@link retrySchedule}); it only ever sees retryable failures. */
  readonly retry?: Schedule.Schedule<unknown, AttemptFailure> | undefined
  /** Allow a plain `http://` base URL on a host that is not loopback (the keys then cross in clear). */
  readonly allowInsecureHttp?: boolean | undefined
  /** The largest answer body read. Default {@link DEFAULT_MAX_RESPONSE_BYTES}. */
  readonly maxResponseBytes?: number | undefined
}

/** A 2xx answer parsed as JSON, with its text (for numbers JSON.parse would round). */
export interface Reply {
  readonly json: unknown
  readonly body: string
}

/** The attempts a call has started so far (read for spans, logs and `DeadlineExceeded`). */
export interface Attempts {
  attempts: number
}

/** The configured client. */
export interface EsmsApi {
  /** The underlying client, for what is not an eSMS endpoint (the photo check). */
  readonly httpClient: HttpClient.HttpClient
  /** `text` without the keys, in any spelling. */
  readonly scrub: (text: string) => string
  /** The scrubbed one-line start of `text`, as errors carry it. */
  readonly excerpt: (text: string) => string
  /** One POST attempt of a JSON body to `path`, within the per-attempt timeout. */
  readonly post: (path: string) => (body: string) => Effect.Effect<Reply, TransportError.TransportError>
  /**
   * One GET attempt of `path` with the keys and `params` in the query string. Its URL is never traced
   * (no `http.client` span, which would record url.full) nor put in an error.
   */
  readonly get: (
    path: string
  ) => (params: Readonly<Record<string, string>>) => Effect.Effect<Reply, TransportError.TransportError>
  /**
   * `attempt` under the policy: retried while `retryable`, the whole bounded by the deadline. On the
   * first attempt's success nothing of the policy runs: the schedule and the deadline's clock start
   * with the first failure (the deadline counted from the call's start). `beforeRetry` runs before each
   * retried attempt (the send takes a permit of the account's rate there), inside the deadline.
   */
  readonly withPolicy: <A, E extends AttemptFailure, R>(
    attempt: Effect.Effect<A, E, R>,
    retryable: (error: E) => boolean,
    counter: Attempts,
    beforeRetry?: Effect.Effect<void>
  ) => Effect.Effect<A, E | TransportError.DeadlineExceeded, R>
}

const nativeTracer = Context.get(DefaultServices.liveServices, Tracer.Tracer)

/**
 * Whether a span opened on this fiber is recorded: a tracer other than Effect's default one (which
 * records nothing and exports nowhere) is installed and tracing is on. When not, a call opens no span.
 */
export const isTraced = (fiber: Fiber.RuntimeFiber<unknown, unknown>): boolean =>
  fiber.currentTracer !== nativeTracer && fiber.getFiberRef(FiberRef.currentTracerEnabled)

let liveClock: unknown

// The longest wait `setTimeout` keeps (a longer one would fire at once).
const MAX_TIMER_MILLIS = 2 ** 31 - 1

// The live clock (`Date.now`, `setTimeout`), not the TestClock: real timers may stand in for its sleeps.
const isLive = (clock: Clock.Clock): boolean => {
  liveClock ??= Clock.make().constructor
  return clock.constructor === liveClock
}

/**
 * `Effect.timeoutFail`, without its two forked fibers (the effect's and a sleeping one, ~120 µs a
 * send) on the live clock: the effect in one fiber and a `setTimeout`. On a clock of another kind
 * (the TestClock) it is `Effect.timeoutFail` itself. Either way, the timeout or the caller's
 * interruption interrupts the effect (aborting its request).
 */
export const timeoutFail = <A, E, R, E2>(
  self: Effect.Effect<A, E, R>,
  duration: Duration.Duration,
  onTimeout: () => E2
): Effect.Effect<A, E | E2, R> =>
  Effect.clockWith((clock) => {
    const millis = Duration.toMillis(duration)
    if (!isLive(clock) || !(millis <= MAX_TIMER_MILLIS)) return Effect.timeoutFail(self, { duration, onTimeout })
    return Effect.uninterruptibleMask((restore) =>
      Effect.flatMap(Effect.fork(restore(self)), (fiber) =>
        restore(Effect.async<A, E | E2>((resume) => {
          const timer = setTimeout(() => {
            fiber.removeObserver(observer)
            resume(Effect.zipRight(Fiber.interrupt(fiber), Effect.fail(onTimeout())))
          }, millis)
          const observer = (exit: Exit.Exit<A, E>) => {
            clearTimeout(timer)
            resume(exit)
          }
          fiber.addObserver(observer)
          // The caller interrupted: so is the effect.
          return Effect.suspend(() => {
            clearTimeout(timer)
            fiber.removeObserver(observer)
            return Fiber.interrupt(fiber)
          })
        })))
    )
  })

/** Builds the configured client on `httpClient`. */
export const make = (
  httpClient: HttpClient.HttpClient,
  keys: Keys,
  options: Connection
): Either.Either<EsmsApi, InvalidConfiguration> =>
  Either.map(resolveBaseUrl(options.baseUrl ?? DEFAULT_BASE_URL, options.allowInsecureHttp), (baseUrl) => {
    const timeout = Duration.decode(options.timeout ?? DEFAULT_TIMEOUT)
    const timeoutMillis = Duration.toMillis(timeout)
    const deadlineMillis = Duration.toMillis(Duration.decode(options.deadline ?? DEFAULT_DEADLINE))
    const schedule = options.retry ?? retrySchedule(options.maxAttempts)
    const maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES
    const scrub = (text: string) => Credentials.scrub(keys, text)
    const excerpt = (text: string) => TransportError.excerpt(scrub(text))
    const headers = { "user-agent": USER_AGENT, accept: "application/json" }
    // The GET's URL carries the keys: no client span, ever.
    const untraced = httpClient.pipe(HttpClient.withTracerDisabledWhen(() => true))

    const onTimeout = () => new TransportError.RequestTimeout({ timeoutMillis })
    const onError = (error: HttpClientError.HttpClientError | TransportError.ResponseTooLarge) =>
      error._tag === "ResponseTooLarge" ? error : TransportError.fromHttpClientError(error, scrub)
    const toReply = (
      answer: Answer.Answer
    ): Either.Either<Reply, TransportError.HttpStatusError | TransportError.BodyNotJson> =>
      Either.map(
        TransportError.readJson(answer.status, answer.body, excerpt, answer.retryAfterMillis),
        (json) => ({ json, body: answer.body })
      )

    const generic = (client: HttpClient.HttpClient, request: HttpClientRequest.HttpClientRequest) =>
      client.execute(request).pipe(
        Effect.flatMap((response) => Answer.read(response, maxResponseBytes)),
        Effect.mapError(onError),
        (attempt) => timeoutFail(attempt, timeout, onTimeout),
        Effect.flatMap(toReply)
      )

    // On a transport that times a request itself (UndiciHttpClient) and the live clock: no forked
    // fiber. A body not read with the headers is read within what is left of the attempt's time.
    const execute = (client: HttpClient.HttpClient, request: HttpClientRequest.HttpClientRequest) => {
      const timed = Timed.of(client)
      if (timed === undefined) return generic(client, request)
      return Effect.clockWith((clock) => {
        const attempt = isLive(clock) && timeoutMillis <= MAX_TIMER_MILLIS
          ? timed(request, timeoutMillis, onTimeout)
          : undefined
        if (attempt === undefined) return generic(client, request)
        const startedAt = clock.unsafeCurrentTimeMillis()
        return attempt.pipe(
          Effect.flatMap((response) => {
            if (Timed.isComplete(response)) return Answer.read(response, maxResponseBytes)
            const left = Math.max(0, startedAt + timeoutMillis - clock.unsafeCurrentTimeMillis())
            return timeoutFail(Answer.read(response, maxResponseBytes), Duration.millis(left), onTimeout)
          }),
          Effect.mapError((error) => error._tag === "RequestTimeout" ? error : onError(error)),
          Effect.flatMap(toReply)
        )
      })
    }

    const post = (path: string) => {
      // The request without its body, built once per endpoint.
      const template = HttpClientRequest.post(baseUrl + path).pipe(HttpClientRequest.setHeaders(headers))
      return (body: string) => execute(httpClient, HttpClientRequest.bodyText(template, body, CONTENT_TYPE))
    }

    const get = (path: string) => {
      const url = baseUrl + path
      return (params: Readonly<Record<string, string>>) =>
        execute(
          untraced,
          HttpClientRequest.get(url, {
            urlParams: { ...params, ApiKey: Redacted.value(keys.apiKey), SecretKey: Redacted.value(keys.secretKey) },
            headers
          })
        )
    }

    const deadlineExceeded = (counter: Attempts) =>
      new TransportError.DeadlineExceeded({ deadlineMillis, attempts: counter.attempts })

    // The retries after a first failure: the schedule sees that failure first (replayed, not resent).
    const retryAfter = <A, E extends AttemptFailure, R>(
      first: E,
      attempt: Effect.Effect<A, E, R>,
      retryable: (error: E) => boolean,
      counter: Attempts,
      startedAt: number,
      beforeRetry: Effect.Effect<void> | undefined
    ) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        let replay = true
        const retried = beforeRetry === undefined ? attempt : Effect.zipRight(beforeRetry, attempt)
        const again = Effect.suspend(() => {
          if (replay) {
            replay = false
            return Effect.fail(first)
          }
          counter.attempts++
          return retried
        })
        return Effect.retry(again, {
          schedule: Answer.honourRetryAfter(schedule, startedAt + deadlineMillis),
          while: retryable
        }).pipe(
          Effect.timeoutFail({
            duration: Duration.millis(Math.max(0, deadlineMillis - (now - startedAt))),
            onTimeout: () => deadlineExceeded(counter)
          })
        )
      })

    const withPolicy = <A, E extends AttemptFailure, R>(
      attempt: Effect.Effect<A, E, R>,
      retryable: (error: E) => boolean,
      counter: Attempts,
      beforeRetry?: Effect.Effect<void>
    ): Effect.Effect<A, E | TransportError.DeadlineExceeded, R> => {
      // One read of the clock, and the first attempt: nothing else of the policy on its success.
      const first = (clock: Clock.Clock) => {
        const startedAt = clock.unsafeCurrentTimeMillis()
        counter.attempts = 1
        return Effect.catchAll(
          attempt,
          (error) =>
            retryable(error)
              ? retryAfter(error, attempt, retryable, counter, startedAt, beforeRetry)
              : Effect.fail(error)
        )
      }
      // A deadline shorter than one attempt's timeout can cut the first attempt: the whole call under it.
      if (deadlineMillis <= timeoutMillis) {
        return Effect.clockWith(first).pipe(
          Effect.timeoutFail({
            duration: Duration.millis(deadlineMillis),
            onTimeout: () => deadlineExceeded(counter)
          })
        )
      }
      return Effect.clockWith(first)
    }

    return { httpClient, scrub, excerpt, post, get, withPolicy }
  })
