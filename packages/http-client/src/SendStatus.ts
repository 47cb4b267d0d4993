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
import { DeliveryReport, ResultCode, SendResponse } from "@esms-effect/core"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as EsmsClient from "./EsmsClient.js"
import * as Api from "./internal/esmsApi.js"
import * as TransportError from "./TransportError.js"

/** Appended to the base URL. @since 0.1.0 @category constants */
export const PATH = "/GetSendStatus"

const StringOrNumber = SendResponse.StringOrNumber

const Count = Schema.optionalWith(Schema.Union(Schema.Number, Schema.NumberFromString), { nullable: true, exact: true })

/**
 * The wire answer; note `CodeResponse`, not `CodeResult`.
 *
 * @since 0.1.0
 * @category models
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
 * @category models
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
 * @category errors
 */
export type SendStatusError = ResultCode.ResultCodeError | TransportError.TransportError

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  readonly get: (smsId: string) => Effect.Effect<SendStatusReport, SendStatusError>
}

/**
 * @since 0.1.0
 * @category services
 */
export class SendStatus extends Context.Tag("@esms-effect/http-client/SendStatus")<SendStatus, Service>() {}

const decodeResponse = Schema.decodeUnknownEither(StatusResponse)

/**
 * The options: the keys (no OAID: the lookup is by SMSID) and the connection every endpoint shares
 * (base URL, timeout, deadline, attempts). An `EsmsClient.Options` is one.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options extends Api.Connection {
  readonly credentials: Api.Keys
}

/**
 * Builds the service on the `HttpClient` in context (only transport failures and 160 are retried:
 * the call only reads).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: Options
): Effect.Effect<Service, Api.InvalidConfiguration, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const api = yield* Api.make(yield* HttpClient.HttpClient, options.credentials, options)
    const lookup = api.get(PATH)

    const readAnswer = (smsId: string, { body, json }: Api.Reply): Either.Either<SendStatusReport, SendStatusError> =>
      Either.flatMap(
        Either.mapLeft(decodeResponse(json), () =>
          new TransportError.ResponseDecodeFailed({
            detail: "not a GetSendStatus answer",
            excerpt: api.excerpt(body)
          })),
        (response) => {
          const code = response.CodeResponse.trim()
          if (code !== "100") {
            return Either.left(
              ResultCode.fromCode(
                code,
                response.ErrorMessage === undefined ? undefined : api.scrub(response.ErrorMessage)
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
        }
      )

    const get = (smsId: string) =>
      api.withPolicy(
        Effect.flatMap(lookup({ RefId: smsId }), (reply) => readAnswer(smsId, reply)),
        Api.isRetryable,
        { attempts: 0 }
      ).pipe(
        Effect.withSpan("esms.getSendStatus", {
          kind: "client",
          attributes: { "esms.sms_id": smsId },
          captureStackTrace: false
        })
      )

    return SendStatus.of({ get })
  })

/**
 * The service from explicit options.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: Options
): Layer.Layer<SendStatus, Api.InvalidConfiguration, HttpClient.HttpClient> => Layer.effect(SendStatus, make(options))

/**
 * The options read from the environment: `ESMS_API_KEY`, `ESMS_SECRET_KEY` and the connection
 * (`EsmsClient.connectionConfig`); no `ESMS_OAID`.
 *
 * @since 0.1.0
 * @category config
 */
export const config: Config.Config<Options> = Config.all({
  credentials: EsmsClient.keysConfig,
  connection: EsmsClient.connectionConfig
}).pipe(Config.map(({ connection, credentials }) => ({ credentials, ...connection })))

/**
 * The service from configuration (by default {@link config}, the `ESMS_*` environment variables).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  options: Config.Config<Options> = config
): Layer.Layer<SendStatus, ConfigError.ConfigError | Api.InvalidConfiguration, HttpClient.HttpClient> =>
  Layer.effect(SendStatus, Effect.flatMap(options, make))
