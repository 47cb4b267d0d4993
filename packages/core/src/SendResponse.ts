/**
 * The wire response (API.md §1), read tolerantly: `CodeResult` as a string (a number is accepted
 * too), `SMSID`, `CountRegenerate` and `ErrorMessage` optional, unknown fields ignored. Then
 * {@link interpret} turns it into `Accepted` or the code's tagged error.
 *
 * @since 0.1.0
 */
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import * as ResultCode from "./ResultCode.js"

/** The code for "accepted". @since 0.1.0 @category constants */
export const ACCEPTED = "100"

/**
 * A code or id eSMS writes as a string or a number, as a string.
 *
 * @since 0.1.0
 * @category schemas
 */
export const StringOrNumber = Schema.Union(
  Schema.String,
  Schema.transform(Schema.Number, Schema.String, { strict: true, decode: String, encode: Number })
)

const NumberOrNumeric = Schema.Union(Schema.Number, Schema.NumberFromString)

const optionalNullable = <S extends Schema.Schema.Any>(schema: S) =>
  Schema.optionalWith(schema, { nullable: true, exact: true })

/**
 * The wire response.
 *
 * @since 0.1.0
 * @category models
 */
export class SendResponse extends Schema.Class<SendResponse>("@esms-effect/core/SendResponse")({
  CodeResult: StringOrNumber,
  // A number too: eSMS's own samples have `CodeResult` both ways, and an SMSID is no different.
  SMSID: optionalNullable(StringOrNumber),
  CountRegenerate: optionalNullable(NumberOrNumeric),
  ErrorMessage: optionalNullable(Schema.String)
}) {}

/**
 * eSMS took the message. `100` means accepted for sending, not delivered: delivery is reported later
 * through the CallbackUrl or the status API.
 *
 * `deduplicated` is true when a retry of a send whose earlier answer was lost met 124: eSMS already
 * has the message, and its SMSID is unknown here.
 *
 * @since 0.1.0
 * @category models
 */
export class Accepted extends Schema.Class<Accepted>("@esms-effect/core/Accepted")({
  smsId: Schema.optionalWith(Schema.String, { exact: true }),
  countRegenerate: Schema.Number,
  requestId: Schema.optionalWith(Schema.String, { exact: true }),
  deduplicated: Schema.Boolean.pipe(Schema.propertySignature, Schema.withConstructorDefault(() => false))
}) {}

// A number as written in the JSON text, before JSON.parse rounds one beyond 2^53.
const NUMBER_FIELD = (field: string) => new RegExp(`"${field}"\\s*:\\s*(-?\\d+(?:\\.\\d+)?(?:[eE][+-]?\\d+)?)`)

/**
 * `field` of a JSON answer as its text has it, when it is a number there: an id of 20 digits stays
 * exact (`JSON.parse` would round it). `undefined` when the field is not a number in `body`.
 *
 * @since 0.1.0
 * @category utils
 */
export const numberAsWritten = (body: string, field: string): string | undefined => NUMBER_FIELD(field).exec(body)?.[1]

/**
 * `Accepted` for 100, otherwise the code's tagged error (or `UnknownResultCode`).
 *
 * @since 0.1.0
 * @category utils
 */
export const interpret = (
  response: SendResponse,
  requestId?: string
): Either.Either<Accepted, ResultCode.ResultCodeError> => {
  const code = response.CodeResult.trim()
  return code === ACCEPTED
    ? Either.right(
      new Accepted({
        ...(response.SMSID === undefined ? {} : { smsId: response.SMSID }),
        countRegenerate: response.CountRegenerate ?? 0,
        ...(requestId === undefined ? {} : { requestId })
      }, true) // the fields come from a decoded response: no need to validate them again
    )
    : Either.left(ResultCode.fromCode(code, response.ErrorMessage))
}
