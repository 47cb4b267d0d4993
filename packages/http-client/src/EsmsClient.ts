/**
 * The `EsmsClient` service: one call that sends a Zalo follower message with a photo through eSMS
 * and answers `Accepted` or a precisely tagged error.
 *
 * It needs an `HttpClient.HttpClient`, so the application chooses the transport (see
 * `NodeEsmsClient` for a ready one) and tests inject a fake.
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { Credentials, ResultCode, SendRequest, SendResponse, ZaloMessage } from "@esms-effect/core"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { randomUUID } from "node:crypto"
import type * as BatchOutcome from "./BatchOutcome.js"
import * as Pacer from "./internal/pacer.js"
import * as TransportError from "./TransportError.js"

/** This package's version, sent in the User-Agent. @since 0.1.0 */
export const VERSION = "0.1.0"

/** @since 0.1.0 */
export const USER_AGENT = `@esms-effect/http-client/${VERSION}`

/** @since 0.1.0 */
export const DEFAULT_BASE_URL = "https://rest.esms.vn/MainService.svc/json"

/** Time allowed for one attempt: connect, headers and body. @since 0.1.0 */
export const DEFAULT_TIMEOUT: Duration.DurationInput = "15 seconds"

/** Time allowed for a whole send: every attempt and the waits between them. @since 0.1.0 */
export const DEFAULT_DEADLINE: Duration.DurationInput = "60 seconds"

/** Attempts of one send under the default retry policy (the first and up to 4 retries). @since 0.1.0 */
export const DEFAULT_MAX_ATTEMPTS = 5

/**
 * What a retry policy sees: the failure of the attempt before it.
 *
 * @since 0.1.0
 */
export type AttemptFailure = TransportError.TransportError | ResultCode.ResultCodeError

/**
 * The default retry policy: exponential backoff from 250 ms (×2, jittered), at most `maxAttempts`
 * attempts in all. Only retryable failures reach it (see {@link isRetryable}); the deadline bounds it.
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
  isTransportError(error) ? TransportError.isRetryable(error) : ResultCode.isRetryable(error)

const transportTags: ReadonlySet<string> = new Set(TransportError.TransportError.members.map((m) => m._tag))

const isTransportError = (error: AttemptFailure): error is TransportError.TransportError =>
  transportTags.has(error._tag)

/**
 * A fresh RequestId (44 characters, within eSMS's 50).
 *
 * @since 0.1.0
 */
export const generateRequestId = (): string => `esms-${randomUUID()}`

// A validated message with its RequestId: the caller's, or a fresh one. Not validated again: the rest
// of the message already was, and a generated id is within the 50-character limit.
const identify = (message: ZaloMessage.ZaloMessage) => {
  if (message.requestId !== undefined) return { requestId: message.requestId, withId: message }
  const requestId = generateRequestId()
  return { requestId, withId: new ZaloMessage.ZaloMessage({ ...message, requestId }, true) }
}

/** @since 0.1.0 */
export const CONTENT_TYPE = "application/json; charset=utf-8"

/**
 * Everything `sendZaloImage` can fail with: invalid input (nothing sent), a result code other than
 * 100, or a transport failure.
 *
 * @since 0.1.0
 */
export type EsmsError = ZaloMessage.InvalidMessage | ResultCode.ResultCodeError | TransportError.TransportError

/**
 * @since 0.1.0
 */
export interface Service {
  /**
   * Validates the message, sends it, and reads eSMS's answer.
   */
  readonly sendZaloImage: (
    message: ZaloMessage.Input | ZaloMessage.ZaloMessage
  ) => Effect.Effect<SendResponse.Accepted, EsmsError>
  /**
   * Sends every message of a stream, `concurrency` at a time and at most `perSecond` starts per
   * second, and answers one tagged outcome per message (in completion order). One message's failure
   * never stops the others; memory does not grow with the input.
   */
  readonly sendMany: <A extends ZaloMessage.Input | ZaloMessage.ZaloMessage, E, R, E2 = never, R2 = never>(
    messages: Stream.Stream<A, E, R>,
    options?: SendManyOptions<A, E2, R2>
  ) => Stream.Stream<BatchOutcome.BatchOutcome<A>, E | E2, R | R2>
}

/** Sends in flight at once under `sendMany`, unless told. @since 0.1.0 */
export const DEFAULT_CONCURRENCY = 8

/**
 * @since 0.1.0
 */
export interface SendManyOptions<A, E2 = never, R2 = never> {
  /** Sends in flight at once. Default {@link DEFAULT_CONCURRENCY}. */
  readonly concurrency?: number | undefined
  /** At most this many sends start per second (spaced evenly); the account's TPS. Default: no limit. */
  readonly perSecond?: number | undefined
  /**
   * Runs right before a valid message's send, with the RequestId it will carry (its own, or a fresh
   * one): the place to journal it. A failure here stops the stream.
   */
  readonly beforeSend?: ((message: A, index: number, requestId: string) => Effect.Effect<void, E2, R2>) | undefined
}

/**
 * @since 0.1.0
 */
export class EsmsClient extends Context.Tag("@esms-effect/http-client/EsmsClient")<EsmsClient, Service>() {}

/**
 * @since 0.1.0
 */
export interface Options {
  readonly credentials: Credentials.Credentials
  /** Default {@link DEFAULT_BASE_URL}; the endpoint path is appended. */
  readonly baseUrl?: string | undefined
  /** Per attempt (connect, headers and body). Default {@link DEFAULT_TIMEOUT}. */
  readonly timeout?: Duration.DurationInput | undefined
  /** For the whole send, retries included. Default {@link DEFAULT_DEADLINE}. */
  readonly deadline?: Duration.DurationInput | undefined
  /** Attempts under the default policy. Default {@link DEFAULT_MAX_ATTEMPTS}; 1 turns retries off. */
  readonly maxAttempts?: number | undefined
  /** Replaces the default policy ({@link retrySchedule}); it only ever sees retryable failures. */
  readonly retry?: Schedule.Schedule<unknown, AttemptFailure> | undefined
  /** Allow a plain `http://` base URL on a host that is not loopback (the keys then cross in clear). */
  readonly allowInsecureHttp?: boolean | undefined
}

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

// One line per issue, path first: a tree cut to an excerpt would hide which field was wrong.
const describeParseError = (error: ParseResult.ParseError): string =>
  ParseResult.ArrayFormatter.formatErrorSync(error)
    .map((issue) => issue.path.length === 0 ? issue.message : `${issue.path.join(".")}: ${issue.message}`)
    .join("; ")

/**
 * Builds the service on the `HttpClient` in context.
 *
 * @since 0.1.0
 */
export const make = (options: Options): Effect.Effect<Service, InvalidConfiguration, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const baseUrl = yield* resolveBaseUrl(options.baseUrl ?? DEFAULT_BASE_URL, options.allowInsecureHttp)
    const httpClient = yield* HttpClient.HttpClient
    const credentials = options.credentials
    const url = baseUrl + SendRequest.PATH
    const timeout = Duration.decode(options.timeout ?? DEFAULT_TIMEOUT)
    const scrubbed = (text: string) => TransportError.excerpt(Credentials.scrub(credentials, text))

    const deadline = Duration.decode(options.deadline ?? DEFAULT_DEADLINE)
    const schedule = options.retry ?? retrySchedule(options.maxAttempts)

    const onHttpError = (error: HttpClientError.HttpClientError) =>
      TransportError.fromHttpClientError(error, (text) => Credentials.scrub(credentials, text))

    const decodeResponse = Schema.decodeUnknownEither(SendResponse.SendResponse)

    const readAnswer = (
      status: number,
      body: string,
      requestId: string | undefined
    ): Either.Either<SendResponse.Accepted, TransportError.TransportError | ResultCode.ResultCodeError> => {
      return TransportError.readJson(status, body, scrubbed).pipe(
        Either.flatMap((json) =>
          Either.mapLeft(decodeResponse(json), (error) =>
            new TransportError.ResponseDecodeFailed({
              detail: scrubbed(describeParseError(error)),
              excerpt: scrubbed(body)
            }))
        ),
        // The vendor's ErrorMessage ends up in our error's message: it must not carry the keys either.
        Either.map((response) =>
          response.ErrorMessage === undefined ? response : new SendResponse.SendResponse({
            ...response,
            ErrorMessage: Credentials.scrub(credentials, response.ErrorMessage)
          })
        ),
        Either.flatMap((response) => SendResponse.interpret(response, requestId))
      )
    }

    const attempt = (body: string, requestId: string) =>
      httpClient.execute(
        HttpClientRequest.post(url).pipe(
          HttpClientRequest.setHeaders({ "user-agent": USER_AGENT, accept: "application/json" }),
          HttpClientRequest.bodyText(body, CONTENT_TYPE)
        )
      ).pipe(
        Effect.flatMap((response) => Effect.map(response.text, (text) => [response.status, text] as const)),
        Effect.mapError(onHttpError),
        Effect.timeoutFail({
          duration: timeout,
          onTimeout: () => new TransportError.RequestTimeout({ timeoutMillis: Duration.toMillis(timeout) })
        }),
        Effect.flatMap(([status, text]) => readAnswer(status, text, requestId))
      )

    // One send: one RequestId and one body for every attempt, retried by the policy, bounded by the
    // deadline. A 124 after an attempt that may have reached eSMS means eSMS already has the message.
    const send = (message: ZaloMessage.ZaloMessage) =>
      Effect.suspend(() => {
        const { requestId, withId } = identify(message)
        const body = SendRequest.toJson(SendRequest.fromMessage(credentials, withId))
        let attempts = 0
        let reachedBefore = false
        const once = Effect.suspend(() => {
          attempts++
          const earlierMayHaveReached = reachedBefore
          return attempt(body, requestId).pipe(
            Effect.catchTag("DuplicateRequestId", (error) =>
              earlierMayHaveReached
                ? Effect.succeed(
                  new SendResponse.Accepted({ countRegenerate: 0, requestId, deduplicated: true })
                )
                : Effect.fail(error)),
            Effect.tapBoth({
              onFailure: (error) => {
                if (isTransportError(error) && TransportError.mayHaveReached(error)) reachedBefore = true
                return Effect.logDebug(`eSMS attempt ${attempts} failed: ${error._tag}`)
              },
              onSuccess: (accepted) =>
                Effect.logDebug(
                  `eSMS attempt ${attempts} accepted` + (accepted.deduplicated ? " (de-duplicated)" : "")
                )
            }),
            Effect.annotateLogs({ "esms.request_id": requestId, "esms.attempt": attempts })
          )
        })
        return once.pipe(
          Effect.retry({ schedule, while: isRetryable }),
          Effect.timeoutFail({
            duration: deadline,
            onTimeout: () =>
              new TransportError.DeadlineExceeded({ deadlineMillis: Duration.toMillis(deadline), attempts })
          }),
          Effect.tapBoth({
            onFailure: (error) =>
              Effect.annotateCurrentSpan({
                "esms.request_id": requestId,
                "esms.attempts": attempts,
                "esms.outcome": error._tag,
                ...("code" in error ? { "esms.result_code": error.code } : {})
              }),
            onSuccess: (accepted) =>
              Effect.annotateCurrentSpan({
                "esms.request_id": requestId,
                "esms.attempts": attempts,
                "esms.outcome": accepted.deduplicated ? "Deduplicated" : "Accepted",
                "esms.result_code": accepted.deduplicated ? "124" : SendResponse.ACCEPTED
              })
          })
        )
      })

    const sendZaloImage = (input: ZaloMessage.Input | ZaloMessage.ZaloMessage) =>
      ZaloMessage.validate(input).pipe(
        Effect.flatMap(send),
        Effect.withSpan("esms.sendZaloImage", { kind: "client" })
      )

    const sendMany = <A extends ZaloMessage.Input | ZaloMessage.ZaloMessage, E, R, E2 = never, R2 = never>(
      messages: Stream.Stream<A, E, R>,
      options: SendManyOptions<A, E2, R2> = {}
    ): Stream.Stream<BatchOutcome.BatchOutcome<A>, E | E2, R | R2> =>
      Stream.suspend(() => {
        // One pacer per run, shared by its concurrent sends.
        const pace = options.perSecond === undefined ? Effect.void : Pacer.make(options.perSecond)
        const beforeSend = options.beforeSend
        const one = (message: A, index: number): Effect.Effect<BatchOutcome.BatchOutcome<A>, E2, R2> => {
          const validated = ZaloMessage.validateEither(message)
          if (Either.isLeft(validated)) {
            return Effect.succeed({ _tag: "Invalid", index, message, error: validated.left })
          }
          const valid = validated.right
          const { requestId, withId } = identify(valid)
          return pace.pipe(
            Effect.zipRight(beforeSend === undefined ? Effect.void : beforeSend(message, index, requestId)),
            Effect.zipRight(
              Effect.match(sendZaloImage(withId), {
                onSuccess: (accepted): BatchOutcome.BatchOutcome<A> => ({
                  _tag: "Accepted",
                  index,
                  message,
                  requestId,
                  smsId: accepted.smsId,
                  deduplicated: accepted.deduplicated
                }),
                onFailure: (error): BatchOutcome.BatchOutcome<A> =>
                  error._tag === "InvalidMessage"
                    ? { _tag: "Invalid", index, message, error }
                    : isTransportError(error)
                    ? { _tag: "Failed", index, message, requestId, error }
                    : { _tag: "Rejected", index, message, requestId, error }
              })
            )
          )
        }
        return messages.pipe(
          Stream.zipWithIndex,
          Stream.mapEffect(([message, index]) => one(message, index), {
            concurrency: Math.max(1, options.concurrency ?? DEFAULT_CONCURRENCY),
            unordered: true
          })
        )
      })

    return EsmsClient.of({ sendZaloImage, sendMany })
  })

/**
 * `sendMany` of the `EsmsClient` in context: one tagged outcome per message of `messages`.
 *
 * @since 0.1.0
 */
export const sendMany = <A extends ZaloMessage.Input | ZaloMessage.ZaloMessage, E, R, E2 = never, R2 = never>(
  messages: Stream.Stream<A, E, R>,
  options?: SendManyOptions<A, E2, R2>
): Stream.Stream<BatchOutcome.BatchOutcome<A>, E | E2, R | R2 | EsmsClient> =>
  Stream.unwrap(Effect.map(EsmsClient, (client) => client.sendMany(messages, options)))

/**
 * The service from explicit options.
 *
 * @since 0.1.0
 */
export const layer = (options: Options): Layer.Layer<EsmsClient, InvalidConfiguration, HttpClient.HttpClient> =>
  Layer.effect(EsmsClient, make(options))

/**
 * A per-attempt timeout as operators write it: a bare number of seconds (`10`, `2.5`) or a duration
 * (`500 millis`, `1 minute`).
 *
 * @since 0.1.0
 */
export const parseTimeout = (raw: string): Either.Either<Duration.Duration, string> => {
  const trimmed = raw.trim()
  const duration = /^\d+(\.\d+)?$/.test(trimmed)
    ? Option.some(Duration.seconds(Number(trimmed)))
    : Duration.decodeUnknown(trimmed)
  return Option.isSome(duration) && Duration.toMillis(duration.value) > 0
    ? Either.right(duration.value)
    : Either.left(`must be a positive number of seconds or a duration such as "500 millis" (got "${raw}")`)
}

const timeoutConfig = (name: string) =>
  Config.string(name).pipe(
    Config.mapOrFail((raw) => Either.mapLeft(parseTimeout(raw), (message) => ConfigError.InvalidData([], message)))
  )

// What Credentials accepts, checked as configuration: a blank key is the operator's mistake, named.
const credential = (name: string) =>
  Config.nonEmptyString(name).pipe(
    Config.validate({ message: "must not be blank (it holds only spaces)", validation: (s) => s.trim().length > 0 })
  )

/**
 * The options read from the environment: `ESMS_API_KEY`, `ESMS_SECRET_KEY`, `ESMS_OAID` (required),
 * `ESMS_BASE_URL`, `ESMS_TIMEOUT` (per attempt: seconds, or a duration like "500 millis"),
 * `ESMS_DEADLINE` (the whole send, same form), `ESMS_MAX_ATTEMPTS`, `ESMS_ALLOW_INSECURE_HTTP`.
 *
 * @since 0.1.0
 */
export const config: Config.Config<Options> = Config.all({
  apiKey: Config.redacted(credential("ESMS_API_KEY")),
  secretKey: Config.redacted(credential("ESMS_SECRET_KEY")),
  oaid: credential("ESMS_OAID"),
  baseUrl: Config.string("ESMS_BASE_URL").pipe(Config.withDefault(DEFAULT_BASE_URL)),
  timeout: timeoutConfig("ESMS_TIMEOUT").pipe(Config.withDefault(Duration.decode(DEFAULT_TIMEOUT))),
  deadline: timeoutConfig("ESMS_DEADLINE").pipe(Config.withDefault(Duration.decode(DEFAULT_DEADLINE))),
  maxAttempts: Config.integer("ESMS_MAX_ATTEMPTS").pipe(
    Config.validate({ message: "must be a whole number from 1 to 20", validation: (n) => n >= 1 && n <= 20 }),
    Config.withDefault(DEFAULT_MAX_ATTEMPTS)
  ),
  allowInsecureHttp: Config.boolean("ESMS_ALLOW_INSECURE_HTTP").pipe(Config.withDefault(false))
}).pipe(
  Config.map(({ allowInsecureHttp, apiKey, baseUrl, deadline, maxAttempts, oaid, secretKey, timeout }) => ({
    credentials: Credentials.make({ apiKey, secretKey, oaid }),
    baseUrl,
    timeout,
    deadline,
    maxAttempts,
    allowInsecureHttp
  }))
)

/**
 * The service from configuration (by default {@link config}, the `ESMS_*` environment variables).
 *
 * @since 0.1.0
 */
export const layerConfig = (
  options: Config.Config<Options> = config
): Layer.Layer<EsmsClient, ConfigError.ConfigError | InvalidConfiguration, HttpClient.HttpClient> =>
  Layer.effect(EsmsClient, Effect.flatMap(options, make))
