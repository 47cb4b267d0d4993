/**
 * The message a user sends: one Zalo follower message with one attached photo (API.md §1).
 *
 * Every field schema carries its rule in plain words, so a failure reads as
 * `imageUrl: must be a .jpg, .jpeg or .png image (or a URL without an extension), not .gif`, and an `arbitrary` annotation so property tests
 * generate valid values without rejection sampling.
 *
 * @example
 * ```ts
 * import { ZaloMessage } from "@esms-effect/core"
 * import { Either } from "effect"
 *
 * const checked = ZaloMessage.validateEither({
 *   userId: "5308693166941955879",
 *   text: "Xin chào",
 *   imageUrl: "https://cdn.example.vn/photo.gif"
 * })
 * if (Either.isLeft(checked)) {
 *   // [{ field: "imageUrl", message: "must be a .jpg, .jpeg or .png image (or a URL without an extension), not .gif" }]
 *   const errors: ReadonlyArray<ZaloMessage.FieldError> = checked.left.errors
 * }
 * ```
 *
 * @since 0.1.0
 */
import * as DateTime from "effect/DateTime"
import type * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"

/** Longest text eSMS accepts, counted in code points (what a reader sees). @since 0.1.0 @category constants */
export const MAX_TEXT_LENGTH = 2000

/** Longest RequestId eSMS accepts, counted in code points as the text is. @since 0.1.0 @category constants */
export const MAX_REQUEST_ID_LENGTH = 50

/** Counts Unicode code points, so Vietnamese and emoji count as one character each. @since 0.1.0 @category utils */
export const codePointLength = (s: string): number => {
  let n = 0
  for (const _ of s) n++
  return n
}

const parseUrl = (s: string): URL | undefined => {
  try {
    return new URL(s)
  } catch {
    return undefined
  }
}

// Half of a surrogate pair (from a JSON "\ud83d", or a string cut in the middle of an emoji): no
// recipient can read it, and it would go on the wire as an escape.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

const AString = Schema.String.annotations({ message: () => "must be a string" }).pipe(
  Schema.filter((s) =>
    !LONE_SURROGATE.test(s) || "must not contain a lone surrogate (half of an emoji or other character)"
  )
)

// Control and invisible format characters (zero-width spaces, bidirectional marks…).
const CONTROL_OR_FORMAT = /[\p{Cc}\p{Cf}]/u

// Controls a message text has no use for: all but the tab and the line breaks.
// eslint-disable-next-line no-control-regex
const TEXT_CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/

// Something a reader can see: not whitespace, not a control or an invisible format character.
const VISIBLE = /[^\s\p{Cc}\p{Cf}]/u

// What the URL parser drops or reinterprets without a word — leading and trailing spaces, a tab or a
// line break anywhere, a backslash read as a slash — and invisible characters. Refused, not mended: the
// URL that goes out is then the URL that was checked, character for character.
const NOT_AS_TYPED = /[\s\p{Cc}\p{Cf}\\]/u

// (Checked on what parses as a URL: anything else is told it must be one, by the field's own rule.)
const UrlString = AString.pipe(
  Schema.filter((s) =>
    !NOT_AS_TYPED.test(s) || parseUrl(s) === undefined ||
    "must not contain spaces, tabs, line breaks, control characters or backslashes (write %20 for a space, / for \\)"
  )
)

// A photo is fetched by Zalo's servers: a user name or password in its URL would be handed to them.
const ImageUrlString = UrlString.pipe(
  Schema.filter((s) => {
    const url = parseUrl(s)
    return url === undefined || (url.username === "" && url.password === "") ||
      "must not contain a user name or password (user:pass@)"
  })
)

const isHttpUrl = (s: string) => {
  const url = parseUrl(s)
  return url !== undefined && (url.protocol === "http:" || url.protocol === "https:") && url.hostname !== ""
}

/**
 * Extensions of formats eSMS does not take (it takes jpg and png only). A path naming one is refused
 * without a request; any other path, with or without an extension, may serve a jpg or png (CDN
 * transformation URLs, image APIs, signed URLs): only the image itself can tell (`ImageCheck`).
 *
 * @since 0.1.0
 * @category constants
 */
export const REFUSED_IMAGE_EXTENSIONS: ReadonlySet<string> = new Set([
  "gif",
  "webp",
  "bmp",
  "dib",
  "svg",
  "svgz",
  "heic",
  "heif",
  "tif",
  "tiff",
  "avif",
  "ico",
  "cur",
  "jxl",
  "jp2",
  "j2k",
  "psd",
  "pdf",
  "mp4",
  "mov",
  "webm"
])

const refusedExtension = (s: string): string | undefined => {
  const extension = /\.([a-z0-9]+)$/i.exec(new URL(s).pathname)?.[1]?.toLowerCase()
  return extension !== undefined && REFUSED_IMAGE_EXTENSIONS.has(extension) ? extension : undefined
}

/**
 * The recipient's Zalo user id for this OA: non-empty, no spaces.
 *
 * @since 0.1.0
 * @category schemas
 */
export const UserId = AString.pipe(
  Schema.filter((s) => s.length > 0 || "must not be empty"),
  Schema.filter((s) => !/\s/.test(s) || "must not contain spaces"),
  Schema.filter((s) => !CONTROL_OR_FORMAT.test(s) || "must not contain control or invisible characters"),
  Schema.filter((s) => s.length <= 64 || "must be at most 64 characters"),
  Schema.brand("@esms-effect/core/UserId")
).annotations({
  identifier: "UserId",
  arbitrary: () => (fc) => fc.stringMatching(/^[0-9]{1,20}$/).map((s) => s as UserId)
})
/** @since 0.1.0 @category models */
export type UserId = typeof UserId.Type

/**
 * The message text: 1..2000 code points, not only whitespace. `\r\n` makes a line break.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Text = AString.pipe(
  Schema.filter((s) => s.trim().length > 0 || "must not be empty or only spaces"),
  Schema.filter((s) => VISIBLE.test(s) || "must have a visible character (not only zero-width or control characters)"),
  Schema.filter((s) => !TEXT_CONTROL.test(s) || "must not contain control characters (line breaks and tabs are fine)"),
  Schema.filter((s) => {
    const n = codePointLength(s)
    return n <= MAX_TEXT_LENGTH || `must be at most ${MAX_TEXT_LENGTH} characters (it has ${n})`
  })
).annotations({
  identifier: "Text",
  arbitrary: () => (fc) =>
    fc.string({ unit: "grapheme", minLength: 1, maxLength: 200 }).filter((s) =>
      s.trim().length > 0 && VISIBLE.test(s) && !TEXT_CONTROL.test(s)
    )
})

/**
 * The photo: an absolute http(s) URL whose path does not name a format eSMS does not take
 * ({@link REFUSED_IMAGE_EXTENSIONS}, any case). Extension-less URLs and URLs with a query are valid.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ImageUrl = ImageUrlString.pipe(
  Schema.filter((s) => isHttpUrl(s) || "must be an absolute http:// or https:// URL"),
  Schema.filter((s) => {
    const extension = refusedExtension(s)
    return extension === undefined ||
      `must be a .jpg, .jpeg or .png image (or a URL without an extension), not .${extension}`
  })
).annotations({
  identifier: "ImageUrl",
  arbitrary: () => (fc) =>
    fc.tuple(
      fc.constantFrom("http", "https"),
      fc.domain(),
      fc.array(fc.stringMatching(/^[a-zA-Z0-9_-]{1,12}$/), { maxLength: 3 }),
      fc.constantFrom(".jpg", ".jpeg", ".png", ".PNG", ".JPG", "", "?w=800")
    ).map(([scheme, host, dirs, ext]) => `${scheme}://${host}/${[...dirs, "photo"].join("/")}${ext}`)
})

/**
 * Where eSMS reports delivery: an absolute http(s) URL.
 *
 * @since 0.1.0
 * @category schemas
 */
export const CallbackUrl = UrlString.pipe(
  Schema.filter((s) => isHttpUrl(s) || "must be an absolute http:// or https:// URL")
).annotations({
  identifier: "CallbackUrl",
  arbitrary: () => (fc) => fc.webUrl({ validSchemes: ["http", "https"], withQueryParameters: true })
})

/**
 * The caller's idempotency key: 1..50 characters, de-duplicated by eSMS for 24 hours.
 *
 * @since 0.1.0
 * @category schemas
 */
export const RequestId = AString.pipe(
  Schema.filter((s) => s.length > 0 || "must not be empty"),
  Schema.filter((s) => s.trim().length > 0 || "must not be only spaces"),
  Schema.filter((s) => !CONTROL_OR_FORMAT.test(s) || "must not contain control or invisible characters"),
  Schema.filter((s) => {
    const n = codePointLength(s)
    return n <= MAX_REQUEST_ID_LENGTH || `must be at most ${MAX_REQUEST_ID_LENGTH} characters (it has ${n})`
  })
).annotations({
  identifier: "RequestId",
  arbitrary: () => (fc) => fc.stringMatching(/^[A-Za-z0-9_.:-]{1,50}$/)
})

const SEND_DATE = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/

const isCalendarDateTime = (s: string): boolean => {
  const m = SEND_DATE.exec(s)
  if (m === null) return false
  const [y, mo, d, h, mi, se] = m.slice(1).map(Number)
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, se))
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d &&
    h < 24 && mi < 60 && se < 60
}

/**
 * A scheduled send time as eSMS reads it: `yyyy-mm-dd hh:MM:ss`, a real calendar time, in Vietnam's
 * time zone (UTC+7, no daylight saving). Use {@link sendDateFrom} to render a `DateTime`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const SendDate = AString.pipe(
  Schema.filter((s) => SEND_DATE.test(s) || "must have the form yyyy-mm-dd hh:MM:ss (for example 2026-12-01 08:30:00)"),
  Schema.filter((s) => isCalendarDateTime(s) || "must be a real date and time")
).annotations({
  identifier: "SendDate",
  arbitrary: () => (fc) =>
    fc.date({ min: new Date("2000-01-01T00:00:00Z"), max: new Date("2099-12-31T23:59:59Z"), noInvalidDate: true })
      .map((d) => d.toISOString().slice(0, 19).replace("T", " "))
})

/** eSMS is in Vietnam: a scheduled time is read as UTC+7. @since 0.1.0 @category constants */
export const ESMS_TIME_ZONE_OFFSET_MS = 7 * 60 * 60 * 1000

/**
 * Renders an instant as the `SendDate` eSMS expects (Vietnam time, `yyyy-mm-dd hh:MM:ss`).
 *
 * @since 0.1.0
 * @category utils
 */
export const sendDateFrom = (instant: DateTime.DateTime | Date): string => {
  const millis = instant instanceof Date ? instant.getTime() : DateTime.toEpochMillis(instant)
  return new Date(millis + ESMS_TIME_ZONE_OFFSET_MS).toISOString().slice(0, 19).replace("T", " ")
}

/**
 * A validated message. Build one with {@link validate} (typed errors) or `new ZaloMessage({...})`
 * (throws on invalid input).
 *
 * @since 0.1.0
 * @category models
 */
export class ZaloMessage extends Schema.Class<ZaloMessage>("@esms-effect/core/ZaloMessage")({
  userId: UserId,
  text: Text,
  imageUrl: ImageUrl,
  callbackUrl: Schema.optionalWith(CallbackUrl, { exact: true }),
  requestId: Schema.optionalWith(RequestId, { exact: true }),
  sendDate: Schema.optionalWith(SendDate, { exact: true })
}) {}

/**
 * What a caller hands in: plain strings, checked by {@link validate}.
 *
 * @since 0.1.0
 * @category models
 */
export interface Input {
  readonly userId: string
  readonly text: string
  readonly imageUrl: string
  readonly callbackUrl?: string | undefined
  readonly requestId?: string | undefined
  readonly sendDate?: string | undefined
}

/**
 * One broken field: its name and the rule it breaks, in plain words.
 *
 * @since 0.1.0
 * @category errors
 */
export class FieldError extends Schema.Class<FieldError>("@esms-effect/core/FieldError")({
  field: Schema.String,
  message: Schema.String
}) {}

/**
 * Problems by field in one line, as every tool of this project says them: `field message; field message`.
 *
 * @since 0.1.0
 * @category formatting
 */
export const formatFieldErrors = (
  errors: ReadonlyArray<{ readonly field: string; readonly message: string }>
): string => errors.map((e) => `${e.field} ${e.message}`).join("; ")

/**
 * The message is invalid; `errors` lists every broken field. Nothing was sent.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidMessage extends Schema.TaggedError<InvalidMessage>("@esms-effect/core/InvalidMessage")(
  "InvalidMessage",
  { errors: Schema.Array(FieldError) }
) {
  override get message(): string {
    return `Invalid message: ${formatFieldErrors(this.errors)}`
  }
}

/**
 * Turns a parse error into one `FieldError` per broken field, in plain words.
 *
 * @since 0.1.0
 * @category errors
 */
export const fieldErrors = (error: ParseResult.ParseError): ReadonlyArray<FieldError> =>
  ParseResult.ArrayFormatter.formatErrorSync(error).map((issue) =>
    new FieldError({
      field: issue.path.length === 0 ? "message" : issue.path.map(String).join("."),
      message: issue._tag === "Missing" ? "is required" : issue.message
    })
  )

// An absent optional field may come as `undefined` (from a CLI option, say): it means "not given".
const withoutUndefined = (input: unknown): unknown =>
  typeof input === "object" && input !== null
    ? Object.fromEntries(Object.entries(input).filter(([, value]) => value !== undefined))
    : input

const decode = Schema.decodeUnknownEither(ZaloMessage, { errors: "all", onExcessProperty: "ignore" })

/**
 * Validates every field at once; fails with `InvalidMessage` listing each broken one.
 *
 * @since 0.1.0
 * @category validation
 */
export const validateEither = (input: Input | ZaloMessage): Either.Either<ZaloMessage, InvalidMessage> =>
  input instanceof ZaloMessage
    ? Either.right(input)
    : Either.mapLeft(decode(withoutUndefined(input)), (error) => new InvalidMessage({ errors: fieldErrors(error) }))

/**
 * Effectful form of {@link validateEither}.
 *
 * @since 0.1.0
 * @category validation
 */
export const validate = (input: Input | ZaloMessage): Effect.Effect<ZaloMessage, InvalidMessage> =>
  validateEither(input)
