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
import type { ResultCode } from "@esms-effect/core"
import { Credentials, SendRequest, SendResponse, ZaloMessage } from "@esms-effect/core"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import * as TransportError from "./TransportError.js"

/** This package's version, sent in the User-Agent. @since 0.1.0 */
export const VERSION = "0.1.0"

/** @since 0.1.0 */
export const USER_AGENT = `@esms-effect/http-client/${VERSION}`

/** @since 0.1.0 */
export const DEFAULT_BASE_URL = "https://rest.esms.vn/MainService.svc/json"

/** Time allowed for one attempt: connect, headers and body. @since 0.1.0 */
export const DEFAULT_TIMEOUT: Duration.DurationInput = "15 seconds"

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
  /** Per attempt. Default {@link DEFAULT_TIMEOUT}. */
  readonly timeout?: Duration.DurationInput | undefined
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

const describeCause = (cause: unknown): string => {
  const parts: Array<string> = []
  let current: unknown = cause
  for (let depth = 0; depth < 4 && typeof current === "object" && current !== null; depth++) {
    const { code, message } = current as { code?: unknown; message?: unknown }
    if (typeof code === "string") parts.push(code)
    else if (typeof message === "string" && message !== "") parts.push(message)
    current = (current as { cause?: unknown }).cause
  }
  return parts.length === 0 ? "transport error" : [...new Set(parts)].join(": ")
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

    const onHttpError = (error: HttpClientError.HttpClientError) =>
      new TransportError.ConnectionFailed({ detail: Credentials.scrub(credentials, describeCause(error.cause)) })

    const decodeResponse = Schema.decodeUnknownEither(SendResponse.SendResponse)

    const readAnswer = (
      status: number,
      body: string,
      requestId: string | undefined
    ): Either.Either<SendResponse.Accepted, TransportError.TransportError | ResultCode.ResultCodeError> => {
      if (status < 200 || status > 299) {
        return Either.left(new TransportError.HttpStatusError({ status, excerpt: scrubbed(body) }))
      }
      let json: unknown
      try {
        json = JSON.parse(body)
      } catch {
        return Either.left(new TransportError.BodyNotJson({ status, excerpt: scrubbed(body) }))
      }
      return decodeResponse(json).pipe(
        Either.mapLeft((error) =>
          new TransportError.ResponseDecodeFailed({
            detail: scrubbed(describeParseError(error)),
            excerpt: scrubbed(body)
          })
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

    const attempt = (message: ZaloMessage.ZaloMessage) => {
      const body = SendRequest.toJson(SendRequest.fromMessage(credentials, message))
      const request = HttpClientRequest.post(url).pipe(
        HttpClientRequest.setHeaders({ "user-agent": USER_AGENT, accept: "application/json" }),
        HttpClientRequest.bodyText(body, CONTENT_TYPE)
      )
      return httpClient.execute(request).pipe(
        Effect.flatMap((response) => Effect.map(response.text, (text) => [response.status, text] as const)),
        Effect.mapError(onHttpError),
        Effect.timeoutFail({
          duration: timeout,
          onTimeout: () => new TransportError.RequestTimeout({ timeoutMillis: Duration.toMillis(timeout) })
        }),
        Effect.flatMap(([status, text]) => readAnswer(status, text, message.requestId))
      )
    }

    const sendZaloImage = (input: ZaloMessage.Input | ZaloMessage.ZaloMessage) =>
      ZaloMessage.validate(input).pipe(
        Effect.flatMap(attempt),
        Effect.tapBoth({
          onFailure: (error) => Effect.logDebug("eSMS send failed", error._tag),
          onSuccess: (accepted) => Effect.logDebug("eSMS accepted", accepted.smsId)
        }),
        Effect.withSpan("esms.sendZaloImage", {
          kind: "client",
          attributes: typeof input.requestId === "string" ? { "esms.request_id": input.requestId } : {}
        })
      )

    return EsmsClient.of({ sendZaloImage })
  })

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

/**
 * The options read from the environment: `ESMS_API_KEY`, `ESMS_SECRET_KEY`, `ESMS_OAID` (required),
 * `ESMS_BASE_URL`, `ESMS_TIMEOUT` (seconds, or a duration like "500 millis"),
 * `ESMS_ALLOW_INSECURE_HTTP`.
 *
 * @since 0.1.0
 */
export const config: Config.Config<Options> = Config.all({
  apiKey: Config.redacted(Config.nonEmptyString("ESMS_API_KEY")),
  secretKey: Config.redacted(Config.nonEmptyString("ESMS_SECRET_KEY")),
  oaid: Config.nonEmptyString("ESMS_OAID"),
  baseUrl: Config.string("ESMS_BASE_URL").pipe(Config.withDefault(DEFAULT_BASE_URL)),
  timeout: timeoutConfig("ESMS_TIMEOUT").pipe(Config.withDefault(Duration.decode(DEFAULT_TIMEOUT))),
  allowInsecureHttp: Config.boolean("ESMS_ALLOW_INSECURE_HTTP").pipe(Config.withDefault(false))
}).pipe(
  Config.map(({ allowInsecureHttp, apiKey, baseUrl, oaid, secretKey, timeout }) => ({
    credentials: Credentials.make({ apiKey, secretKey, oaid }),
    baseUrl,
    timeout,
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
