/**
 * Why a photo is not one eSMS takes ("Supported image formats: jpg and png. Maximum size: 1MB"),
 * found by looking at the image itself (`ImageCheck` in `@esms-effect/http-client`), not at its URL.
 *
 * Each error names the URL in its `message`; `reason` is the same without the URL, to follow a field
 * name (`--image-url is larger than 1 MB …`).
 *
 * @since 0.1.0
 */
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"

/** The largest image eSMS takes: 1 MB, 1,048,576 bytes. @since 0.1.0 @category constants */
export const MAX_IMAGE_BYTES = 1_048_576

/** @since 0.1.0 @category schemas */
export const TypeId: unique symbol = Symbol.for("@esms-effect/core/ImageError")

/** @since 0.1.0 @category models */
export type TypeId = typeof TypeId

const bytes = (n: number) => n.toLocaleString("en-US")

/**
 * The image could not be fetched: connection, timeout, an HTTP status other than 2xx, too many
 * redirects. `detail` says which.
 *
 * @since 0.1.0
 * @category errors
 */
export class ImageUnreachable extends Schema.TaggedError<ImageUnreachable>("@esms-effect/core/ImageUnreachable")(
  "ImageUnreachable",
  { url: Schema.String, detail: Schema.String }
) {
  /** @since 0.1.0 */
  readonly [TypeId]: TypeId = TypeId

  /** @since 0.1.0 */
  get reason(): string {
    return `could not be fetched: ${this.detail}`
  }

  override get message(): string {
    return `Image ${this.url} ${this.reason}`
  }
}

/**
 * The image's first bytes are not a JPEG's (`FF D8 FF`) or a PNG's (`89 50 4E 47 0D 0A 1A 0A`),
 * whatever its name or `Content-Type`. `found` says what they look like ("a GIF image", "an HTML
 * page"); `contentType` is what the server called it, when it did.
 *
 * @since 0.1.0
 * @category errors
 */
export class ImageNotJpgOrPng extends Schema.TaggedError<ImageNotJpgOrPng>("@esms-effect/core/ImageNotJpgOrPng")(
  "ImageNotJpgOrPng",
  { url: Schema.String, found: Schema.String, contentType: Schema.optionalWith(Schema.String, { exact: true }) }
) {
  /** @since 0.1.0 */
  readonly [TypeId]: TypeId = TypeId

  /** @since 0.1.0 */
  get reason(): string {
    return `is not a JPEG or PNG image: it is ${this.found}` +
      (this.contentType === undefined ? "" : ` (served as ${this.contentType})`)
  }

  override get message(): string {
    return `Image ${this.url} ${this.reason}`
  }
}

/**
 * The image is over {@link MAX_IMAGE_BYTES}. `size` is its size when the server said it
 * (`Content-Length`); otherwise only that it has more than the limit is known (nothing more was read).
 *
 * @since 0.1.0
 * @category errors
 */
export class ImageTooLarge extends Schema.TaggedError<ImageTooLarge>("@esms-effect/core/ImageTooLarge")(
  "ImageTooLarge",
  { url: Schema.String, limit: Schema.Number, size: Schema.optionalWith(Schema.Number, { exact: true }) }
) {
  /** @since 0.1.0 */
  readonly [TypeId]: TypeId = TypeId

  /** @since 0.1.0 */
  get reason(): string {
    return `is too large: eSMS takes at most 1 MB (${bytes(this.limit)} bytes), it has ` +
      (this.size === undefined ? `more than ${bytes(this.limit)} bytes` : `${bytes(this.size)} bytes`)
  }

  override get message(): string {
    return `Image ${this.url} ${this.reason}`
  }
}

/**
 * Any reason a photo is not one eSMS takes.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ImageError = Schema.Union(ImageUnreachable, ImageNotJpgOrPng, ImageTooLarge)

/**
 * Any reason a photo is not one eSMS takes.
 *
 * @since 0.1.0
 * @category errors
 */
export type ImageError = typeof ImageError.Type

/**
 * Whether a value is one of this module's errors.
 *
 * @since 0.1.0
 * @category guards
 */
export const isImageError = (u: unknown): u is ImageError => Predicate.hasProperty(u, TypeId)
