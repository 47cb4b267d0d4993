/**
 * eSMS's `GetSendStatus` (API.md §4): what became of a message, by its SMSID (last 7 days only).
 *
 * The request carries ApiKey and SecretKey in its query string, so its URL is never logged, traced
 * or put in an error: the HttpClient's span is disabled for it (our own span names only the SMSID),
 * and transport errors keep only their scrubbed cause.
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { Credentials, DeliveryReport, ResultCode, SendResponse } from "@esms-effect/core"
import * as Clock from "effect/Clock"
import type * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as EsmsClient from "./EsmsClient.js"
import * as Answer from "./internal/answer.js"
import * as TransportError from "./TransportError.js"

/** Appended to the base URL. @since 0.1.0 */
export const PATH = "/GetSendStatus"

const StringOrNumber = Schema.Union(
  Schema.String,
  Schema.transform(Schema.Number, Schema.String, { strict: true, decode: String, encode: Number })
)

const Count = Schema.optionalWith(Schema.Union(Schema.Number, Schema.NumberFromString), { nullable: true, exact: true })

/**
 * The wire answer; note `CodeResponse`, not `CodeResult`.
 *
 * @since 0.1.0
 */
export class StatusResponse extends Schema.Class<StatusResponse>("@esms-effect/http-client/SendStatus/StatusResponse")({
  CodeResponse: StringOrNumber,
  SMSID: Schema.optionalWith(StringOrNumber, { nullable: true, exact: true }),
  SendFailed: Count,
  SendStatus: Count,
  SendSuccess: Count,
  TotalPrice: Count,
  TotalReceiver: Count,
  TotalSent: Count,
  ErrorMessage: Schema.optionalWith(Schema.String, { nullable: true, exact: true })
}) {}

/**
 * A message's state as `GetSendStatus` tells it (no Zalo detail: that only comes in callbacks).
 *
 * @since 0.1.0
 */
export class SendStatusReport
  extends Schema.Class<SendStatusReport>("@esms-effect/http-client/SendStatus/SendStatusReport")({
    smsId: Schema.String,
    sendStatus: DeliveryReport.SendStatus,
    sendStatusCode: Schema.Number,
    sendSuccess: Schema.Number,
    sendFailed: Schema.Number,
    totalPrice: Schema.Number,
    totalReceiver: Schema.Number,
    totalSent: Schema.Number
  })
{}

/**
 * A result code other than 100 (105 `SmsIdNotFound`: unknown, or older than 7 days), or a transport
 * failure.
 *
 * @since 0.1.0
 */
export type SendStatusError = ResultCode.ResultCodeError | TransportError.TransportError

/**
 * @since 0.1.0
 */
export interface Service {
  readonly get: (smsId: string) => Effect.Effect<SendStatusReport, SendStatusError>
}

/**
 * @since 0.1.0
 */
export class SendStatus extends Context.Tag("@esms-effect/http-client/SendStatus")<SendStatus, Service>() {}

const decodeResponse = Schema.decodeUnknownEither(StatusResponse)

/**
 * Builds the service on the `HttpClient` in context, with the same options as `EsmsClient` (base URL,
 * timeout, deadline, attempts; only transport failures are retried: the call only reads).
 *
 * @since 0.1.0
 */
export const make = (
  options: EsmsClient.Options
): Effect.Effect<Service, EsmsClient.InvalidConfiguration, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const baseUrl = yield* EsmsClient.resolveBaseUrl(
      options.baseUrl ?? EsmsClient.DEFAULT_BASE_URL,
      options.allowInsecureHttp
    )
    // The URL carries the keys: no client span (it would record url.full), ever.
    const httpClient = (yield* HttpClient.HttpClient).pipe(HttpClient.withTracerDisabledWhen(() => true))
    const credentials = options.credentials
    const url = baseUrl + PATH
    const timeout = Duration.decode(options.timeout ?? EsmsClient.DEFAULT_TIMEOUT)
    const deadline = Duration.decode(options.deadline ?? EsmsClient.DEFAULT_DEADLINE)
    const maxResponseBytes = options.maxResponseBytes ?? EsmsClient.DEFAULT_MAX_RESPONSE_BYTES
    const scrubbed = (text: string) => TransportError.excerpt(Credentials.scrub(credentials, text))

    const onHttpError = (error: HttpClientError.HttpClientError) =>
      TransportError.fromHttpClientError(error, (text) => Credentials.scrub(credentials, text))

    const readAnswer = (
      smsId: string,
      { body, retryAfterMillis, status }: Answer.Answer
    ): Either.Either<SendStatusReport, SendStatusError> => {
      return TransportError.readJson(status, body, scrubbed, retryAfterMillis).pipe(
        Either.flatMap((json) =>
          Either.mapLeft(decodeResponse(json), () =>
            new TransportError.ResponseDecodeFailed({ detail: "not a GetSendStatus answer", excerpt: scrubbed(body) }))
        ),
        Either.flatMap((response) => {
          const code = response.CodeResponse.trim()
          if (code !== "100") {
            return Either.left(
              ResultCode.fromCode(
                code,
                response.ErrorMessage === undefined ? undefined : Credentials.scrub(credentials, response.ErrorMessage)
              )
            )
          }
          const statusCode = response.SendStatus ?? 0
          // A numeric SMSID digit for digit, as the answer wrote it (JSON.parse rounds beyond 2^53).
          const answered = SendResponse.numberAsWritten(body, "SMSID") ?? response.SMSID
          return Either.right(
            new SendStatusReport({
              smsId: answered ?? smsId,
              sendStatus: DeliveryReport.sendStatusFromCode(statusCode),
              sendStatusCode: statusCode,
              sendSuccess: response.SendSuccess ?? 0,
              sendFailed: response.SendFailed ?? 0,
              totalPrice: response.TotalPrice ?? 0,
              totalReceiver: response.TotalReceiver ?? 0,
              totalSent: response.TotalSent ?? 0
            })
          )
        })
      )
    }

    const once = (smsId: string) =>
      httpClient.execute(
        HttpClientRequest.get(url, {
          urlParams: {
            RefId: smsId,
            ApiKey: Redacted.value(credentials.apiKey),
            SecretKey: Redacted.value(credentials.secretKey)
          },
          headers: { "user-agent": EsmsClient.USER_AGENT, accept: "application/json" }
        })
      ).pipe(
        Effect.flatMap((response) =>
          Answer.read(response, maxResponseBytes)
        ),
        Effect.mapError((error) => error._tag === "ResponseTooLarge" ? error : onHttpError(error)),
        Effect.timeoutFail({
          duration: timeout,
          onTimeout: () => new TransportError.RequestTimeout({ timeoutMillis: Duration.toMillis(timeout) })
        }),
        Effect.flatMap((answer) => readAnswer(smsId, answer))
      )

    const get = (smsId: string) => {
      let attempts = 0
      const attempt = Effect.suspend(() => {
        attempts++
        return once(smsId)
      })
      return Effect.flatMap(Clock.currentTimeMillis, (startedAt) =>
        Effect.retry(attempt, {
          schedule: Answer.honourRetryAfter(
            EsmsClient.retrySchedule(options.maxAttempts),
            startedAt + Duration.toMillis(deadline)
          ),
          while: (error) => "code" in error ? ResultCode.isRetryable(error) : TransportError.isRetryable(error)
        })).pipe(
          Effect.timeoutFail({
            duration: deadline,
            onTimeout: () =>
              new TransportError.DeadlineExceeded({ deadlineMillis: Duration.toMillis(deadline), attempts })
          }),
          Effect.withSpan("esms.getSendStatus", { kind: "client", attributes: { "esms.sms_id": smsId } })
        )
    }

    return SendStatus.of({ get })
  })

/**
 * The service from explicit options.
 *
 * @since 0.1.0
 */
export const layer = (
  options: EsmsClient.Options
): Layer.Layer<SendStatus, EsmsClient.InvalidConfiguration, HttpClient.HttpClient> =>
  Layer.effect(SendStatus, make(options))

/**
 * The service from configuration (by default `EsmsClient.config`, the `ESMS_*` environment variables).
 *
 * @since 0.1.0
 */
export const layerConfig = (
  options: Config.Config<EsmsClient.Options> = EsmsClient.config
): Layer.Layer<SendStatus, ConfigError.ConfigError | EsmsClient.InvalidConfiguration, HttpClient.HttpClient> =>
  Layer.effect(SendStatus, Effect.flatMap(options, make))
