/**
 * Every eSMS result code (`CodeResult`, API.md §2) other than 100 as its own tagged error, so a
 * pipeline can `Effect.catchTag("InsufficientBalance", …)`. The table is data: a code's tag, its
 * one-line description and whether it is worth retrying stand next to each other, easy to correct
 * when the live service differs from its documentation.
 *
 * @example
 * ```ts
 * import { ResultCode } from "@esms-effect/core"
 * import { Effect } from "effect"
 *
 * const error = ResultCode.fromCode("103") // an InsufficientBalance
 * const retryable: boolean = ResultCode.isRetryable(error) // only 160 (RateLimited) is
 * const description = ResultCode.infoByCode.get("160")?.description
 *
 * const handled = Effect.fail(error).pipe(
 *   Effect.catchTag("InsufficientBalance", (e) => Effect.succeed(`top up: ${e.message}`))
 * )
 * ```
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * What we know of one result code.
 *
 * @since 0.1.0
 * @category models
 */
export interface ResultCodeInfo {
  readonly tag: string
  readonly description: string
  /** Worth sending again later with the same RequestId. */
  readonly retryable: boolean
}

/**
 * The vendor's table (API.md §2), translated. 100 (accepted) is not an error and is not here.
 *
 * @since 0.1.0
 * @category constants
 */
export const table = {
  "99": { tag: "PhoneBlocked", description: "the phone number is blocked in eSMS", retryable: false },
  "101": { tag: "AuthorizeFailed", description: "wrong ApiKey or SecretKey", retryable: false },
  "102": { tag: "NoPriceList", description: "the account has no price list (or is locked)", retryable: false },
  "103": { tag: "InsufficientBalance", description: "the account balance is too low to send", retryable: false },
  "104": { tag: "BrandnameNotFound", description: "the brandname or call code does not exist", retryable: false },
  "105": { tag: "SmsIdNotFound", description: "no message with this SMSID (yet)", retryable: false },
  "106": { tag: "RecordingNotFound", description: "the voice recording does not exist", retryable: false },
  "107": { tag: "TooFewAdRecipients", description: "advertising needs at least 30 distinct numbers", retryable: false },
  "108": { tag: "InvalidPhoneNumber", description: "the phone number format is invalid", retryable: false },
  "110": { tag: "InvalidRequestData", description: "the request data is invalid", retryable: false },
  "120": { tag: "TooManyPhoneNumbers", description: "the phone list is over the limit", retryable: false },
  "124": {
    tag: "DuplicateRequestId",
    description: "this RequestId was already used in the last 24 hours",
    retryable: false
  },
  "140": { tag: "IpNotWhitelisted", description: "the caller's IP address is not whitelisted", retryable: false },
  "143": { tag: "AccountInactive", description: "the account is not activated or is locked", retryable: false },
  "145": { tag: "WrongSocialTemplate", description: "wrong social (Zalo) template", retryable: false },
  "146": { tag: "WrongCareTemplate", description: "wrong customer-care template", retryable: false },
  "159": { tag: "RequestIdTooLong", description: "the RequestId is too long", retryable: false },
  "160": { tag: "RateLimited", description: "the account's rate (TPS) limit was exceeded", retryable: true },
  "171": { tag: "CodeNotValid", description: "the code is used, expired or not for this phone", retryable: false },
  "177": { tag: "OperatorNotRegistered", description: "the network operator is not registered", retryable: false },
  "199": { tag: "RequestInProgress", description: "this request already exists and is in progress", retryable: false },
  "204": { tag: "OaidNotFound", description: "the OAID does not exist", retryable: false },
  "210": { tag: "InvalidPayload", description: "the payload is not as specified", retryable: false },
  "300": { tag: "MessageTypeMissing", description: "the message type is missing", retryable: false },
  "301": { tag: "ServiceTypeNotSupported", description: "the service type code is not supported", retryable: false },
  "687": { tag: "TooManyRecipients", description: "more than 500 recipients", retryable: false },
  "789": { tag: "TemplateNotConfigured", description: "the template is not configured for this OA", retryable: false },
  "790": { tag: "WrongZnsTemplate", description: "wrong ZNS template", retryable: false },
  "791": { tag: "OaidOrTemplateMissing", description: "the OA ID or template ID is missing", retryable: false },
  "799": {
    tag: "OaidInactive",
    description: "the OAID is inactive, wrong, or not added to the account",
    retryable: false
  }
} as const satisfies Record<string, ResultCodeInfo>

/** A code in the table. @since 0.1.0 @category models */
export type KnownCode = keyof typeof table

/**
 * What we know of a code, by code (`undefined` for one the vendor has not documented).
 *
 * @since 0.1.0
 * @category lookups
 */
export const infoByCode: ReadonlyMap<string, ResultCodeInfo> = new Map(Object.entries(table))

const describe = (code: string, tag: string, description: string, errorMessage: string | undefined) =>
  `eSMS answered ${code} (${tag}): ${description}` + (errorMessage ? ` — "${errorMessage}"` : "")

const constant = <const A extends string>(value: A) =>
  Schema.Literal(value).pipe(Schema.propertySignature, Schema.withConstructorDefault(() => value))

const errorMessageField = Schema.optional(Schema.String)

const resultFields = <const C extends string, const D extends string>(code: C, description: D) => ({
  code: constant(code),
  description: constant(description),
  /** The vendor's `ErrorMessage`, when it sent one. */
  errorMessage: errorMessageField
})

type ResultFields<C extends string, D extends string> = ReturnType<typeof resultFields<C, D>>

type ResultCodeClass<Self, C extends KnownCode> = Schema.TaggedErrorClass<
  Self,
  (typeof table)[C]["tag"],
  { readonly _tag: Schema.tag<(typeof table)[C]["tag"]> } & ResultFields<C, (typeof table)[C]["description"]>
>

const make = <const C extends KnownCode>(code: C) => <Self>(): ResultCodeClass<Self, C> => {
  const info: ResultCodeInfo = table[code]
  const Base = Schema.TaggedError<Self>(`@esms-effect/core/${info.tag}`)(info.tag, resultFields(code, info.description))
  // The declared return type names the tag and fields, which TypeScript cannot resolve from `table[C]` here.
  const Class = class extends (Base as unknown as new(props: object) => { readonly errorMessage?: string }) {
    get message(): string {
      return describe(code, info.tag, info.description, this.errorMessage)
    }
  } as unknown as ResultCodeClass<Self, C>
  return Class
}

/** 99 @since 0.1.0 @category errors */
export class PhoneBlocked extends make("99")<PhoneBlocked>() {}
/** 101 @since 0.1.0 @category errors */
export class AuthorizeFailed extends make("101")<AuthorizeFailed>() {}
/** 102 @since 0.1.0 @category errors */
export class NoPriceList extends make("102")<NoPriceList>() {}
/** 103 @since 0.1.0 @category errors */
export class InsufficientBalance extends make("103")<InsufficientBalance>() {}
/** 104 @since 0.1.0 @category errors */
export class BrandnameNotFound extends make("104")<BrandnameNotFound>() {}
/** 105 @since 0.1.0 @category errors */
export class SmsIdNotFound extends make("105")<SmsIdNotFound>() {}
/** 106 @since 0.1.0 @category errors */
export class RecordingNotFound extends make("106")<RecordingNotFound>() {}
/** 107 @since 0.1.0 @category errors */
export class TooFewAdRecipients extends make("107")<TooFewAdRecipients>() {}
/** 108 @since 0.1.0 @category errors */
export class InvalidPhoneNumber extends make("108")<InvalidPhoneNumber>() {}
/** 110 @since 0.1.0 @category errors */
export class InvalidRequestData extends make("110")<InvalidRequestData>() {}
/** 120 @since 0.1.0 @category errors */
export class TooManyPhoneNumbers extends make("120")<TooManyPhoneNumbers>() {}
/** 124: the RequestId was used in the last 24 h (see the client's retry rule). @since 0.1.0 @category errors */
export class DuplicateRequestId extends make("124")<DuplicateRequestId>() {}
/** 140 @since 0.1.0 @category errors */
export class IpNotWhitelisted extends make("140")<IpNotWhitelisted>() {}
/** 143 @since 0.1.0 @category errors */
export class AccountInactive extends make("143")<AccountInactive>() {}
/** 145 (older table) @since 0.1.0 @category errors */
export class WrongSocialTemplate extends make("145")<WrongSocialTemplate>() {}
/** 146 @since 0.1.0 @category errors */
export class WrongCareTemplate extends make("146")<WrongCareTemplate>() {}
/** 159 (older table) @since 0.1.0 @category errors */
export class RequestIdTooLong extends make("159")<RequestIdTooLong>() {}
/** 160: retryable. @since 0.1.0 @category errors */
export class RateLimited extends make("160")<RateLimited>() {}
/** 171 @since 0.1.0 @category errors */
export class CodeNotValid extends make("171")<CodeNotValid>() {}
/** 177 @since 0.1.0 @category errors */
export class OperatorNotRegistered extends make("177")<OperatorNotRegistered>() {}
/** 199 @since 0.1.0 @category errors */
export class RequestInProgress extends make("199")<RequestInProgress>() {}
/** 204 @since 0.1.0 @category errors */
export class OaidNotFound extends make("204")<OaidNotFound>() {}
/** 210 @since 0.1.0 @category errors */
export class InvalidPayload extends make("210")<InvalidPayload>() {}
/** 300 @since 0.1.0 @category errors */
export class MessageTypeMissing extends make("300")<MessageTypeMissing>() {}
/** 301 @since 0.1.0 @category errors */
export class ServiceTypeNotSupported extends make("301")<ServiceTypeNotSupported>() {}
/** 687 @since 0.1.0 @category errors */
export class TooManyRecipients extends make("687")<TooManyRecipients>() {}
/** 789 @since 0.1.0 @category errors */
export class TemplateNotConfigured extends make("789")<TemplateNotConfigured>() {}
/** 790 @since 0.1.0 @category errors */
export class WrongZnsTemplate extends make("790")<WrongZnsTemplate>() {}
/** 791 @since 0.1.0 @category errors */
export class OaidOrTemplateMissing extends make("791")<OaidOrTemplateMissing>() {}
/** 799 @since 0.1.0 @category errors */
export class OaidInactive extends make("799")<OaidInactive>() {}

/**
 * A code that is not in the table: it still decodes, with the code and the vendor's message.
 *
 * @since 0.1.0
 * @category errors
 */
export class UnknownResultCode extends Schema.TaggedError<UnknownResultCode>("@esms-effect/core/UnknownResultCode")(
  "UnknownResultCode",
  {
    code: Schema.String,
    description: constant("a result code this client does not know"),
    errorMessage: errorMessageField
  }
) {
  override get message(): string {
    return describe(this.code, this._tag, this.description, this.errorMessage)
  }
}

/**
 * Every error class, one per code, then the unknown one.
 *
 * @since 0.1.0
 * @category errors
 */
export const classes = [
  PhoneBlocked,
  AuthorizeFailed,
  NoPriceList,
  InsufficientBalance,
  BrandnameNotFound,
  SmsIdNotFound,
  RecordingNotFound,
  TooFewAdRecipients,
  InvalidPhoneNumber,
  InvalidRequestData,
  TooManyPhoneNumbers,
  DuplicateRequestId,
  IpNotWhitelisted,
  AccountInactive,
  WrongSocialTemplate,
  WrongCareTemplate,
  RequestIdTooLong,
  RateLimited,
  CodeNotValid,
  OperatorNotRegistered,
  RequestInProgress,
  OaidNotFound,
  InvalidPayload,
  MessageTypeMissing,
  ServiceTypeNotSupported,
  TooManyRecipients,
  TemplateNotConfigured,
  WrongZnsTemplate,
  OaidOrTemplateMissing,
  OaidInactive
] as const

/**
 * The exported error class of each known code, made from {@link classes} (so an error built by
 * {@link fromCode} is an `instanceof` the class a user imports).
 *
 * @since 0.1.0
 * @category lookups
 */
export const byCode: ReadonlyMap<KnownCode, new(props: { readonly errorMessage?: string }) => ResultCodeError> =
  new Map(
    (Object.keys(table) as Array<KnownCode>).map((code) => [
      code,
      classes.find((Class) => Class._tag === table[code].tag)! as unknown as new(props: {
        readonly errorMessage?: string
      }) => ResultCodeError
    ])
  )

/**
 * Any result code other than 100, as a schema (for decoding a stored or transmitted error).
 *
 * @since 0.1.0
 * @category schemas
 */
export const ResultCodeError = Schema.Union(...classes, UnknownResultCode)

/**
 * Any result code other than 100.
 *
 * @since 0.1.0
 * @category errors
 */
export type ResultCodeError = typeof ResultCodeError.Type

/**
 * The tagged error for a result code (other than 100) and the vendor's message.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromCode = (code: string, errorMessage?: string): ResultCodeError => {
  const Class = byCode.get(code as KnownCode)
  const fields = errorMessage === undefined ? {} : { errorMessage }
  return Class === undefined ? new UnknownResultCode({ code, ...fields }) : new Class(fields)
}

/**
 * Whether a code is worth retrying with the same RequestId (only 160, the rate limit, is).
 *
 * @since 0.1.0
 * @category guards
 */
export const isRetryable = (error: ResultCodeError): boolean => infoByCode.get(error.code)?.retryable ?? false
