/**
 * The `EsmsClient` service: one call that sends a Zalo follower message with a photo through eSMS
 * and answers `Accepted` or a precisely tagged error.
 *
 * It needs an `HttpClient.HttpClient`, so the application chooses the transport (see
 * `NodeEsmsClient` for a ready one) and tests inject a fake.
 *
 * @example
 * ```ts
 * import { Credentials } from "@esms-effect/core"
 * import { EsmsClient, NodeEsmsClient } from "@esms-effect/http-client"
 * import { Effect } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const client = yield* EsmsClient.EsmsClient
 *   const accepted = yield* client.sendZaloImage({
 *     userId: "5308693166941955879",
 *     text: "Đơn hàng #1042 đã được giao.",
 *     imageUrl: "https://cdn.example.vn/orders/1042.jpg"
 *   })
 *   return accepted.smsId
 * }).pipe(
 *   // Every failure is tagged: a result code, a transport failure, an invalid message or photo.
 *   Effect.catchTag("InsufficientBalance", (error) => Effect.logWarning(error.message))
 * )
 *
 * // Keys from ESMS_API_KEY / ESMS_SECRET_KEY / ESMS_OAID, or given here (kept Redacted):
 * const fromEnv = program.pipe(Effect.provide(NodeEsmsClient.layerConfig()))
 * const explicit = program.pipe(Effect.provide(NodeEsmsClient.layer({
 *   credentials: Credentials.make({ apiKey: "…", secretKey: "…", oaid: "1000000000000000001" })
 * })))
 * ```
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import type { ImageError, ResultCode } from "@esms-effect/core"
import { Credentials, SendRequest, SendResponse, ZaloMessage } from "@esms-effect/core"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as FiberRef from "effect/FiberRef"
import * as Layer from "effect/Layer"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { randomUUID } from "node:crypto"
import * as BatchOutcome from "./BatchOutcome.js"
import * as ImageCheck from "./ImageCheck.js"
import * as Api from "./internal/esmsApi.js"
import { mapUnordered } from "./internal/mapUnordered.js"
import * as Pacer from "./internal/pacer.js"
import * as RateLimiter from "./RateLimiter.js"
import * as TransportError from "./TransportError.js"

export {
  /** @since 0.1.0 */
  CONTENT_TYPE,
  /** @since 0.1.0 */
  DEFAULT_BASE_URL,
  /** @since 0.1.0 */
  DEFAULT_DEADLINE,
  /** @since 0.1.0 */
  DEFAULT_MAX_ATTEMPTS,
  /** @since 0.1.0 */
  DEFAULT_MAX_RESPONSE_BYTES,
  /** @since 0.1.0 */
  DEFAULT_TIMEOUT,
  /** @since 0.1.0 */
  InvalidConfiguration,
  /** @since 0.1.0 */
  isLoopbackHost,
  /** @since 0.1.0 */
  isRetryable,
  /** @since 0.1.0 */
  resolveBaseUrl,
  /** @since 0.1.0 */
  retrySchedule,
  /** @since 0.1.0 */
  USER_AGENT,
  /** @since 0.1.0 */
  VERSION
} from "./internal/esmsApi.js"

export type {
  /** @since 0.1.0 */
  AttemptFailure,
  /** @since 0.1.0 */
  Connection,
  /** @since 0.1.0 */
  Keys
} from "./internal/esmsApi.js"

/**
 * A fresh RequestId (44 characters, within eSMS's 50).
 *
 * @since 0.1.0
 * @category constructors
 */
export const generateRequestId = (): string => `esms-${randomUUID()}`

// A validated message with its RequestId: the caller's, or a fresh one. Not validated again: the rest
// of the message already was, and a generated id is within the 50-character limit.
const identify = (message: ZaloMessage.ZaloMessage) => {
  if (message.requestId !== undefined) return { requestId: message.requestId, withId: message }
  const requestId = generateRequestId()
  return { requestId, withId: new ZaloMessage.ZaloMessage({ ...message, requestId }, true) }
}

/**
 * Everything `sendZaloImage` can fail with: invalid input or, when images are checked, a photo eSMS
 * would not take (nothing sent), a result code other than 100, or a transport failure.
 *
 * @since 0.1.0
 * @category errors
 */
export type EsmsError =
  | ZaloMessage.InvalidMessage
  | ImageError.ImageError
  | ResultCode.ResultCodeError
  | TransportError.TransportError

/**
 * @since 0.1.0
 * @category models
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

/** Sends in flight at once under `sendMany`, unless told. @since 0.1.0 @category constants */
export const DEFAULT_CONCURRENCY = 8

/**
 * @since 0.1.0
 * @category models
 */
export interface SendManyOptions<A, E2 = never, R2 = never> {
  /** Sends in flight at once. Default {@link DEFAULT_CONCURRENCY}. */
  readonly concurrency?: number | undefined
  /**
   * At most this many requests start per second (spaced evenly), retries included; the account's TPS.
   * Default: no limit. A `RateLimiter` in context paces instead: the account's budget, shared with other
   * runs and processes (each retry of a send takes a permit of it as well).
   */
  readonly perSecond?: number | undefined
  /**
   * Runs before a valid message waits for its permit (`perSecond` or the `RateLimiter`), with the
   * RequestId it will carry (its own, or a fresh one): the place to journal it. Work here (a write to a
   * store across the network) is done before the wait, so the request leaves right at its permit: what
   * eSMS counts against the TPS limit is when requests arrive, and a write between the permit and the
   * request would bunch them by its jitter. A failure here stops the stream.
   */
  readonly beforePermit?: ((message: A, index: number, requestId: string) => Effect.Effect<void, E2, R2>) | undefined
  /**
   * Runs once the message has its permit, right before its request: keep it instant (a check, such as
   * whether the operator stopped; it may wait forever to keep the request from going). A failure here
   * stops the stream.
   */
  readonly beforeSend?: ((message: A, index: number, requestId: string) => Effect.Effect<void, E2, R2>) | undefined
  /**
   * Check each photo before its send (a photo eSMS would not take answers `Invalid`): `true` with a
   * fresh memoized checker for this run (each distinct URL fetched once), a checker of your own (from
   * `ImageCheck.cached`, say, that already checked the campaign: no second fetch), or `false`.
   * Default: the client's `checkImage` option.
   */
  readonly checkImage?: boolean | ImageCheck.Checker | undefined
}

/**
 * @since 0.1.0
 * @category services
 */
export class EsmsClient extends Context.Tag("@esms-effect/http-client/EsmsClient")<EsmsClient, Service>() {}

/**
 * The send's options: the connection every endpoint shares, the credentials (keys and OAID), and
 * whether photos are checked.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options extends Api.Connection {
  readonly credentials: Credentials.Credentials
  /**
   * Fetch each photo before sending it and refuse one eSMS would not take (`ImageError`): not a JPEG
   * or PNG, over 1 MB, unreachable. Off by default: the fetch goes wherever the URL points, from where
   * this program runs, and a server taking URLs from its users should decide that (SSRF). `true` or
   * the check's options.
   */
  readonly checkImage?: boolean | ImageCheck.Options | undefined
}

// One line per issue, path first: a tree cut to an excerpt would hide which field was wrong.
const describeParseError = (error: ParseResult.ParseError): string =>
  ParseResult.ArrayFormatter.formatErrorSync(error)
    .map((issue) => issue.path.length === 0 ? issue.message : `${issue.path.join(".")}: ${issue.message}`)
    .join("; ")

// An SMSID sent as a JSON number, kept digit for digit (JSON.parse rounds beyond 2^53).
const exactSmsId = (json: unknown, body: string, response: SendResponse.SendResponse): SendResponse.SendResponse => {
  if (typeof (json as { SMSID?: unknown }).SMSID !== "number") return response
  const written = SendResponse.numberAsWritten(body, "SMSID")
  // Just decoded: no need to validate the fields again.
  return written === undefined ? response : new SendResponse.SendResponse({ ...response, SMSID: written }, true)
}

const decodeResponse = Schema.decodeUnknownEither(SendResponse.SendResponse)

// A debug line, annotated with the RequestId and the attempt (only built when debug is on).
const logAttempt = (message: string, requestId: string, attempt: number) =>
  Effect.annotateLogs(Effect.logDebug(message), { "esms.request_id": requestId, "esms.attempt": attempt })

/**
 * Builds the service on the `HttpClient` in context.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<Service, Api.InvalidConfiguration, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const httpClient = yield* HttpClient.HttpClient
    const credentials = options.credentials
    const api = yield* Api.make(httpClient, credentials, options)
    const post = api.post(SendRequest.PATH)

    const readAnswer = (
      { body, json }: Api.Reply,
      requestId: string
    ): Either.Either<SendResponse.Accepted, TransportError.TransportError | ResultCode.ResultCodeError> => {
      const decoded = decodeResponse(json)
      if (Either.isLeft(decoded)) {
        return Either.left(
          new TransportError.ResponseDecodeFailed({
            detail: api.excerpt(describeParseError(decoded.left)),
            excerpt: api.excerpt(body)
          })
        )
      }
      const response = exactSmsId(json, body, decoded.right)
      // The vendor's ErrorMessage ends up in our error's message: it must not carry the keys either.
      return SendResponse.interpret(
        response.ErrorMessage === undefined
          ? response
          : new SendResponse.SendResponse({ ...response, ErrorMessage: api.scrub(response.ErrorMessage) }, true),
        requestId
      )
    }

    // A retry is one more request against the account's TPS: it takes a permit of the RateLimiter in
    // context, if any (`sendMany` paces the first attempt, and provides its own `perSecond` pacer here).
    const retryPermit = Effect.flatMap(
      Effect.serviceOption(RateLimiter.RateLimiter),
      Option.match({ onNone: () => Effect.void, onSome: (limiter) => limiter.take })
    )

    // One send: one RequestId and one body for every attempt, retried by the policy, bounded by the
    // deadline. A 124 after an attempt that may have reached eSMS means eSMS already has the message.
    // With `debug` off, a successful attempt runs no handler at all: its bookkeeping is on failure.
    const send = (message: ZaloMessage.ZaloMessage, debug: boolean, counter: Api.Attempts) => {
      const { requestId, withId } = identify(message)
      const body = SendRequest.toJson(SendRequest.fromMessage(credentials, withId))
      let reachedBefore = false
      const attempt = Effect.suspend(() => {
        const n = counter.attempts
        const earlierMayHaveReached = reachedBefore
        const once = Effect.flatMap(post(body), (reply) => readAnswer(reply, requestId))
        const onFailure = (error: TransportError.TransportError | ResultCode.ResultCodeError) => {
          if (error._tag === "DuplicateRequestId" && earlierMayHaveReached) {
            const accepted = new SendResponse.Accepted({ countRegenerate: 0, requestId, deduplicated: true }, true)
            return debug
              ? Effect.as(logAttempt(`eSMS attempt ${n} accepted (de-duplicated)`, requestId, n), accepted)
              : Effect.succeed(accepted)
          }
          if (TransportError.isTransportError(error) && TransportError.mayHaveReached(error)) {
            reachedBefore = true
          }
          return debug
            ? Effect.zipRight(logAttempt(`eSMS attempt ${n} failed: ${error._tag}`, requestId, n), Effect.fail(error))
            : Effect.fail(error)
        }
        return debug
          ? Effect.matchEffect(once, {
            onFailure,
            onSuccess: (accepted) => Effect.as(logAttempt(`eSMS attempt ${n} accepted`, requestId, n), accepted)
          })
          : Effect.catchAll(once, onFailure)
      })
      return { requestId, effect: api.withPolicy(attempt, Api.isRetryable, counter, retryPermit) }
    }

    // The span and its attributes, as a recording tracer sees them.
    const traced = (message: ZaloMessage.ZaloMessage, debug: boolean) =>
      Effect.withSpan(
        Effect.suspend(() => {
          const counter: Api.Attempts = { attempts: 0 }
          const { effect, requestId } = send(message, debug, counter)
          return Effect.tapBoth(effect, {
            onFailure: (error) =>
              Effect.annotateCurrentSpan({
                "esms.request_id": requestId,
                "esms.attempts": counter.attempts,
                "esms.outcome": error._tag,
                ...("code" in error ? { "esms.result_code": error.code } : {})
              }),
            onSuccess: (accepted) =>
              Effect.annotateCurrentSpan({
                "esms.request_id": requestId,
                "esms.attempts": counter.attempts,
                "esms.outcome": accepted.deduplicated ? "Deduplicated" : "Accepted",
                "esms.result_code": accepted.deduplicated ? "124" : SendResponse.ACCEPTED
              })
          })
        }),
        // No stack trace captured per send: the span's name says where it comes from.
        "esms.sendZaloImage",
        { kind: "client", captureStackTrace: false }
      )

    // One look at the fiber decides what a send does besides sending: the span and its attributes
    // only when a tracer records them, debug lines only at debug level.
    const sendValid = (message: ZaloMessage.ZaloMessage) =>
      Effect.withFiberRuntime<SendResponse.Accepted, Api.AttemptFailure>((fiber) => {
        const debug = !LogLevel.greaterThan(fiber.getFiberRef(FiberRef.currentMinimumLogLevel), LogLevel.Debug)
        return Api.isTraced(fiber) ? traced(message, debug) : send(message, debug, { attempts: 0 }).effect
      })

    const imageOptions = options.checkImage === true ? {} : options.checkImage || undefined
    // One check per send: a long-lived client must see a photo that changed since.
    const checkImage = imageOptions === undefined ? undefined : ImageCheck.fromClient(api.httpClient, imageOptions)

    const sendZaloImage = (input: ZaloMessage.Input | ZaloMessage.ZaloMessage) =>
      checkImage === undefined
        ? Effect.flatMap(ZaloMessage.validate(input), sendValid)
        : ZaloMessage.validate(input).pipe(
          Effect.tap((message) => checkImage(message.imageUrl)),
          Effect.flatMap(sendValid)
        )

    const sendMany = <A extends ZaloMessage.Input | ZaloMessage.ZaloMessage, E, R, E2 = never, R2 = never>(
      messages: Stream.Stream<A, E, R>,
      options: SendManyOptions<A, E2, R2> = {}
    ): Stream.Stream<BatchOutcome.BatchOutcome<A>, E | E2, R | R2> =>
      Stream.suspend(() => {
        // One pacer per run, shared by its concurrent sends; a RateLimiter in context instead is the
        // account's budget, shared with other runs (and processes). Every request takes a permit of it:
        // the first attempt here, between `beforePermit` and `beforeSend`; each retry inside the send
        // (see `retryPermit`).
        const ownLimiter = RateLimiter.RateLimiter.of({
          take: options.perSecond === undefined ? Effect.void : Pacer.make(options.perSecond)
        })
        const limiter = Effect.map(Effect.serviceOption(RateLimiter.RateLimiter), Option.getOrElse(() => ownLimiter))
        const { beforePermit, beforeSend } = options
        // The hooks are called when their turn comes (a hook may do its work in its own body).
        const permit = (rate: RateLimiter.Service, message: A, index: number, requestId: string) =>
          beforePermit === undefined
            ? rate.take
            : Effect.zipRight(Effect.suspend(() => beforePermit(message, index, requestId)), rate.take)
        const runCheck = options.checkImage ?? imageOptions !== undefined
        // Each distinct photo once per run, whatever the number of rows that show it.
        const memoized = runCheck === true
          ? Effect.runSync(ImageCheck.memoize(ImageCheck.fromClient(api.httpClient, imageOptions)))
          : runCheck || undefined
        const one = (message: A, index: number): Effect.Effect<BatchOutcome.BatchOutcome<A>, E2, R2> => {
          const validated = ZaloMessage.validateEither(message)
          if (Either.isLeft(validated)) {
            return Effect.succeed(BatchOutcome.Invalid<A>({ index, message, error: validated.left }))
          }
          const valid = validated.right
          return memoized === undefined ? sendOne(message, index, valid) : memoized(valid.imageUrl).pipe(
            Effect.matchEffect({
              onFailure: (error) => Effect.succeed(BatchOutcome.Invalid<A>({ index, message, error })),
              onSuccess: () => sendOne(message, index, valid)
            })
          )
        }
        const sendOne = (
          message: A,
          index: number,
          valid: ZaloMessage.ZaloMessage
        ): Effect.Effect<BatchOutcome.BatchOutcome<A>, E2, R2> => {
          const { requestId, withId } = identify(valid)
          return Effect.flatMap(limiter, (rate) =>
            permit(rate, message, index, requestId).pipe(
              Effect.zipRight(
                beforeSend === undefined ? Effect.void : Effect.suspend(() => beforeSend(message, index, requestId))
              ),
              Effect.zipRight(
                Effect.match(Effect.provideService(sendValid(withId), RateLimiter.RateLimiter, rate), {
                  onSuccess: (accepted): BatchOutcome.BatchOutcome<A> =>
                    BatchOutcome.Accepted({
                      index,
                      message,
                      requestId,
                      smsId: accepted.smsId,
                      deduplicated: accepted.deduplicated
                    }),
                  onFailure: (error): BatchOutcome.BatchOutcome<A> =>
                    TransportError.isTransportError(error)
                      ? BatchOutcome.Failed({ index, message, requestId, error })
                      : BatchOutcome.Rejected({ index, message, requestId, error })
                })
              )
            ))
        }
        return mapUnordered(
          Stream.zipWithIndex(messages),
          options.concurrency ?? DEFAULT_CONCURRENCY,
          ([message, index]) => one(message, index)
        )
      })

    return EsmsClient.of({ sendZaloImage, sendMany })
  })

/**
 * `sendMany` of the `EsmsClient` in context: one tagged outcome per message of `messages`.
 *
 * @since 0.1.0
 * @category accessors
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
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<EsmsClient, Api.InvalidConfiguration, HttpClient.HttpClient> =>
  Layer.effect(EsmsClient, make(options))

/**
 * A per-attempt timeout as operators write it: a bare number of seconds (`10`, `2.5`) or a duration
 * (`500 millis`, `1 minute`).
 *
 * @since 0.1.0
 * @category decoding
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

// A key or OAID as Credentials accepts it, refused here with the variable's name (never the value).
const checked = <A>(raw: string, value: A): Either.Either<A, ConfigError.ConfigError> => {
  const problem = Credentials.problem(raw)
  return problem === undefined ? Either.right(value) : Either.left(ConfigError.InvalidData([], problem))
}

// Wrapped at once; not `Config.redacted`, which would hide the rule from the error.
const keyConfig = (name: string) =>
  Config.string(name).pipe(Config.mapOrFail((key) => checked(key, Redacted.make(key))))

const oaidConfig = (name: string) => Config.string(name).pipe(Config.mapOrFail((oaid) => checked(oaid, oaid)))

/**
 * The keys read from the environment: `ESMS_API_KEY`, `ESMS_SECRET_KEY` (required). Each refused with
 * the variable's name and the rule, never the value.
 *
 * @since 0.1.0
 * @category config
 */
export const keysConfig: Config.Config<Api.Keys> = Config.all({
  apiKey: keyConfig("ESMS_API_KEY"),
  secretKey: keyConfig("ESMS_SECRET_KEY")
})

/**
 * What every endpoint shares, from the environment: `ESMS_BASE_URL`, `ESMS_TIMEOUT` (per attempt:
 * seconds, or a duration like "500 millis"), `ESMS_DEADLINE` (the whole call, same form),
 * `ESMS_MAX_ATTEMPTS`, `ESMS_ALLOW_INSECURE_HTTP`.
 *
 * @since 0.1.0
 * @category config
 */
export const connectionConfig: Config.Config<Api.Connection> = Config.all({
  baseUrl: Config.string("ESMS_BASE_URL").pipe(Config.withDefault(Api.DEFAULT_BASE_URL)),
  timeout: timeoutConfig("ESMS_TIMEOUT").pipe(Config.withDefault(Duration.decode(Api.DEFAULT_TIMEOUT))),
  deadline: timeoutConfig("ESMS_DEADLINE").pipe(Config.withDefault(Duration.decode(Api.DEFAULT_DEADLINE))),
  maxAttempts: Config.integer("ESMS_MAX_ATTEMPTS").pipe(
    Config.validate({ message: "must be a whole number from 1 to 20", validation: (n) => n >= 1 && n <= 20 }),
    Config.withDefault(Api.DEFAULT_MAX_ATTEMPTS)
  ),
  allowInsecureHttp: Config.boolean("ESMS_ALLOW_INSECURE_HTTP").pipe(Config.withDefault(false))
})

/**
 * The options read from the environment: {@link keysConfig}, `ESMS_OAID` (required), and
 * {@link connectionConfig}.
 *
 * @since 0.1.0
 * @category config
 */
export const config: Config.Config<Options> = Config.all({
  keys: keysConfig,
  oaid: oaidConfig("ESMS_OAID"),
  connection: connectionConfig
}).pipe(
  Config.map(({ connection, keys, oaid }) => ({
    credentials: Credentials.make({ ...keys, oaid }),
    ...connection
  }))
)

/**
 * The service from configuration (by default {@link config}, the `ESMS_*` environment variables).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  options: Config.Config<Options> = config
): Layer.Layer<EsmsClient, ConfigError.ConfigError | Api.InvalidConfiguration, HttpClient.HttpClient> =>
  Layer.effect(EsmsClient, Effect.flatMap(options, make))
