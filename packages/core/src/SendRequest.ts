/**
 * The exact JSON body of `POST {base}/SendZaloFollowerMessage_V5_post_json/` (API.md §1): field
 * names and nesting as eSMS reads them, optional fields left out when absent (never `null`).
 *
 * The keys stay `Redacted` in the decoded form; only `encode` writes them as plain strings.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import type { Credentials } from "./Credentials.js"
import { type Input as MessageInput, ZaloMessage } from "./ZaloMessage.js"

/** The endpoint's path below the base URL. @since 0.1.0 @category constants */
export const PATH = "/SendZaloFollowerMessage_V5_post_json/"

const optional = <S extends Schema.Schema.Any>(schema: S) => Schema.optionalWith(schema, { exact: true })

/** The single media element. @since 0.1.0 @category schemas */
export const MediaElement = Schema.Struct({
  media_type: Schema.Literal("image"),
  url: Schema.String
})

/** `Payload`: recipient and message. @since 0.1.0 @category schemas */
export const Payload = Schema.Struct({
  recipient: Schema.Struct({ user_id: Schema.String }),
  message: Schema.Struct({
    text: Schema.String,
    attachment: Schema.Struct({
      type: Schema.Literal("template"),
      payload: Schema.Struct({
        template_type: Schema.Literal("media"),
        elements: Schema.Tuple(MediaElement)
      })
    })
  })
})

/**
 * The wire body.
 *
 * @since 0.1.0
 * @category models
 */
export class SendRequest extends Schema.Class<SendRequest>("@esms-effect/core/SendRequest")({
  ApiKey: Schema.Redacted(Schema.String),
  SecretKey: Schema.Redacted(Schema.String),
  OAID: Schema.String,
  RequestId: optional(Schema.String),
  CallbackUrl: optional(Schema.String),
  SendDate: optional(Schema.String),
  Payload
}) {}

/**
 * The wire body for a validated message sent with these credentials.
 *
 * @since 0.1.0
 * @category decoding
 */
export const fromMessage = (credentials: Credentials, message: ZaloMessage): SendRequest =>
  new SendRequest({
    ApiKey: credentials.apiKey,
    SecretKey: credentials.secretKey,
    OAID: credentials.oaid,
    ...(message.requestId === undefined ? {} : { RequestId: message.requestId }),
    ...(message.callbackUrl === undefined ? {} : { CallbackUrl: message.callbackUrl }),
    ...(message.sendDate === undefined ? {} : { SendDate: message.sendDate }),
    Payload: {
      recipient: { user_id: message.userId },
      message: {
        text: message.text,
        attachment: {
          type: "template",
          payload: { template_type: "media", elements: [{ media_type: "image", url: message.imageUrl }] }
        }
      }
    }
    // Both inputs are already valid (ZaloMessage and Credentials validate when built): checking the
    // assembled body again cost ~40 µs per send, more than the rest of the encoding.
  }, true)

/**
 * The message fields a request carries, as `ZaloMessage`'s input (not yet validated). Absent wire fields
 * stay absent: the optional fields are exact, so `undefined` would be rejected.
 *
 * @since 0.2.0
 * @category encoding
 */
export const toInput = (request: SendRequest): MessageInput => ({
  userId: request.Payload.recipient.user_id,
  text: request.Payload.message.text,
  imageUrl: request.Payload.message.attachment.payload.elements[0].url,
  ...(request.CallbackUrl === undefined ? {} : { callbackUrl: request.CallbackUrl }),
  ...(request.RequestId === undefined ? {} : { requestId: request.RequestId }),
  ...(request.SendDate === undefined ? {} : { sendDate: request.SendDate })
})

/**
 * The message a wire body carries, validated again (the simulator and the round-trip test use this).
 *
 * @since 0.1.0
 * @category encoding
 */
export const toMessage = (request: SendRequest) =>
  Schema.decodeUnknown(ZaloMessage, { errors: "all" })(toInput(request))

const encodeJson = Schema.encodeSync(Schema.parseJson(SendRequest))

/**
 * The JSON text that goes on the wire: the one place the keys are written in clear.
 *
 * @since 0.1.0
 * @category encoding
 */
export const toJson = (request: SendRequest): string => encodeJson(request)

/**
 * Parses and validates a wire body (JSON text), as the eSMS service would.
 *
 * @since 0.1.0
 * @category decoding
 */
export const fromJson = (json: string) =>
  Schema.decodeUnknown(Schema.parseJson(SendRequest), { errors: "all", onExcessProperty: "ignore" })(json)
