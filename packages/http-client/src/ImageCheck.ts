/**
 * Looks at a photo itself before it is sent: eSMS takes "jpg and png, at most 1 MB", and a URL's
 * spelling says neither. One check is one GET on the `HttpClient` in context (tests swap it): at most
 * a few redirects, a 2xx answer, a JPEG or PNG signature in the first bytes (not only the
 * `Content-Type`), and no more than 1 MB + 1 byte read to decide the size, whatever `Content-Length`
 * says or omits. The whole check is bounded in time. A GET, not a HEAD: a URL signed for GET (S3,
 * CDNs) refuses a HEAD, a HEAD often has no `Content-Length`, and only the bytes tell the format; the
 * read stops as soon as the answer is known, which closes the connection.
 *
 * It fetches the URL from wherever the program runs: in a server that takes image URLs from its own
 * users, that is a request to wherever they point (SSRF). So `EsmsClient` runs it only when asked.
 *
 * @example
 * ```ts
 * import { ImageCheck } from "@esms-effect/http-client"
 * import * as Effect from "effect/Effect"
 *
 * // Once per campaign: the photo every row uses.
 * const photo = ImageCheck.check("https://cdn.example.vn/p/may-2026.jpg")
 * // Effect<ImageCheck.Image, ImageError.ImageError, HttpClient.HttpClient>
 * ```
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { ImageError } from "@esms-effect/core"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberId from "effect/FiberId"
import * as Stream from "effect/Stream"
import * as Answer from "./internal/answer.js"
import * as TransportError from "./TransportError.js"

/** Time allowed for one check: every redirect, the headers and the bytes read. @since 0.1.0 @category constants */
export const DEFAULT_TIMEOUT: Duration.DurationInput = "10 seconds"

/** Redirects followed at most; one more is `ImageUnreachable`. @since 0.1.0 @category constants */
export const DEFAULT_MAX_REDIRECTS = 5

/** The largest image eSMS takes (1 MB); a check reads at most one byte more. @since 0.1.0 @category constants */
export const MAX_BYTES = ImageError.MAX_IMAGE_BYTES

/** @since 0.1.0 @category constants */
export const USER_AGENT = "@esms-effect/http-client/0.1.0 (image check)"

/** @since 0.1.0 @category models */
export interface Options {
  /** For the whole check. Default {@link DEFAULT_TIMEOUT}. */
  readonly timeout?: Duration.DurationInput | undefined
  /** Default {@link DEFAULT_MAX_REDIRECTS}. */
  readonly maxRedirects?: number | undefined
}

/**
 * A photo eSMS takes: its format (from its first bytes) and its size in bytes (at most {@link MAX_BYTES}).
 *
 * @since 0.1.0
 * @category models
 */
export interface Image {
  readonly url: string
  readonly format: "jpeg" | "png"
  readonly size: number
}

/**
 * A check bound to its `HttpClient` and options.
 *
 * @since 0.1.0
 * @category models
 */
export type Checker = (url: string) => Effect.Effect<Image, ImageError.ImageError>

const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] as const
const JPEG = [0xff, 0xd8, 0xff] as const
const HEAD = 16

const startsWith = (head: Uint8Array, magic: ReadonlyArray<number>, at = 0) =>
  head.length >= at + magic.length && magic.every((byte, i) => head[at + i] === byte)

const ascii = (head: Uint8Array, from: number, to: number) => String.fromCharCode(...head.subarray(from, to))

/**
 * The format a file's first bytes name: `"png"`, `"jpeg"`, or what they look like instead, in words
 * ("a GIF image", "an HTML page", …).
 *
 * @since 0.1.0
 * @category utils
 */
export const sniff = (head: Uint8Array): "png" | "jpeg" | { readonly found: string } => {
  if (startsWith(head, PNG)) return "png"
  if (startsWith(head, JPEG)) return "jpeg"
  const found = (text: string) => ({ found: text })
  if (head.length === 0) return found("an empty file")
  if (ascii(head, 0, 4) === "GIF8") return found("a GIF image")
  if (ascii(head, 0, 4) === "RIFF" && ascii(head, 8, 12) === "WEBP") return found("a WebP image")
  if (ascii(head, 0, 2) === "BM") return found("a BMP image")
  if (startsWith(head, [0x49, 0x49, 0x2a, 0x00]) || startsWith(head, [0x4d, 0x4d, 0x00, 0x2a])) {
    return found("a TIFF image")
  }
  if (startsWith(head, [0x00, 0x00, 0x01, 0x00])) return found("an ICO icon")
  if (ascii(head, 4, 8) === "ftyp") {
    const brand = ascii(head, 8, 12)
    return found(
      brand.startsWith("avi") ? "an AVIF image" : /^(hei|hev|mif|msf)/.test(brand) ? "a HEIC image" : "an MP4 video"
    )
  }
  if (ascii(head, 0, 4) === "%PDF") return found("a PDF document")
  const text = ascii(head, 0, head.length).replace(/^\uFEFF|^\xEF\xBB\xBF/, "").trimStart().toLowerCase()
  if (text.startsWith("<svg") || text.startsWith("<?xml")) return found("an SVG or XML document")
  if (text.startsWith("<")) return found("an HTML page")
  if (text.startsWith("{") || text.startsWith("[")) return found("JSON text")
  const hex = [...head.subarray(0, 8)].map((b) => b.toString(16).padStart(2, "0")).join(" ")
  return found(`of an unknown format (first bytes ${hex})`)
}

interface Read {
  readonly head: Uint8Array
  readonly size: number
}

// Enough read to decide: past the limit, or a head that is no image, or a head and a Content-Length
// that already says "too large".
const decided = (read: Read, contentLength: number | undefined) =>
  read.size > MAX_BYTES ||
  (read.head.length >= PNG.length &&
    (contentLength !== undefined && contentLength > MAX_BYTES || typeof sniff(read.head) !== "string"))

const readAtMost = (
  response: HttpClientResponse.HttpClientResponse,
  contentLength: number | undefined
): Effect.Effect<Read, HttpClientError.ResponseError> =>
  Stream.runFoldWhile(
    response.stream,
    { head: new Uint8Array(0), size: 0 } as Read,
    (read) => !decided(read, contentLength),
    (read, chunk) => {
      if (read.head.length >= HEAD) return { head: read.head, size: read.size + chunk.length }
      const head = new Uint8Array(Math.min(HEAD, read.head.length + chunk.length))
      head.set(read.head)
      head.set(chunk.subarray(0, head.length - read.head.length), read.head.length)
      return { head, size: read.size + chunk.length }
    }
  )

// A redirect's or an error's body is not wanted: its first chunk at most, then the connection is let go.
const discard = (response: HttpClientResponse.HttpClientResponse) =>
  Effect.ignore(Stream.runDrain(Stream.take(response.stream, 1)))

const httpUrl = (raw: string, base?: string): URL | undefined => {
  try {
    const url = new URL(raw, base)
    return url.protocol === "http:" || url.protocol === "https:" ? url : undefined
  } catch {
    return undefined
  }
}

/**
 * A checker on the given client: {@link check} without the `HttpClient` requirement.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromClient = (httpClient: HttpClient.HttpClient, options: Options = {}): Checker => {
  // No trace headers to a host that is not ours.
  const client = HttpClient.withTracerPropagation(httpClient, false)
  const timeout = Duration.decode(options.timeout ?? DEFAULT_TIMEOUT)
  const maxRedirects = Math.max(0, options.maxRedirects ?? DEFAULT_MAX_REDIRECTS)

  return (url) => {
    const unreachable = (detail: string) => new ImageError.ImageUnreachable({ url, detail })

    const fetch = (
      target: URL,
      redirects: number
    ): Effect.Effect<HttpClientResponse.HttpClientResponse, ImageError.ImageUnreachable> =>
      client.execute(
        HttpClientRequest.get(target).pipe(
          HttpClientRequest.setHeaders({ "user-agent": USER_AGENT, accept: "image/jpeg, image/png, */*;q=0.1" })
        )
      ).pipe(
        Effect.mapError((error) => unreachable(TransportError.fromHttpClientError(error, (text) => text).detail)),
        Effect.flatMap((response) => {
          const status = response.status
          if (status >= 200 && status <= 299) return Effect.succeed(response)
          const location = response.headers["location"]
          if (status >= 300 && status <= 399 && location !== undefined) {
            if (redirects >= maxRedirects) {
              return Effect.zipRight(discard(response), Effect.fail(unreachable(`more than ${maxRedirects} redirects`)))
            }
            const next = httpUrl(location, target.href)
            return Effect.zipRight(
              discard(response),
              next === undefined
                ? Effect.fail(unreachable(`HTTP ${status} redirects to ${location}, not an http(s) URL`))
                : fetch(next, redirects + 1)
            )
          }
          return Effect.zipRight(discard(response), Effect.fail(unreachable(`HTTP ${status}`)))
        })
      )

    const start = httpUrl(url)
    if (start === undefined) return Effect.fail(unreachable("it is not an absolute http:// or https:// URL"))

    return fetch(start, 0).pipe(
      Effect.flatMap((response) => {
        const contentLength = Answer.contentLength(response)
        const contentType = response.headers["content-type"]
        return readAtMost(response, contentLength).pipe(
          Effect.mapError((error) =>
            unreachable(
              `the connection broke while reading it: ${
                TransportError.fromHttpClientError(error, (text) => text).detail
              }`
            )
          ),
          Effect.flatMap((read): Effect.Effect<Image, ImageError.ImageError> => {
            const format = sniff(read.head)
            if (typeof format !== "string") {
              return Effect.fail(
                new ImageError.ImageNotJpgOrPng(
                  contentType === undefined ? { url, found: format.found } : { url, found: format.found, contentType }
                )
              )
            }
            const tooLarge = read.size > MAX_BYTES || (contentLength !== undefined && contentLength > MAX_BYTES)
            if (tooLarge) {
              const size = contentLength !== undefined && contentLength > MAX_BYTES ? contentLength : undefined
              return Effect.fail(
                new ImageError.ImageTooLarge(
                  size === undefined ? { url, limit: MAX_BYTES } : { url, limit: MAX_BYTES, size }
                )
              )
            }
            return Effect.succeed({ url, format, size: read.size })
          })
        )
      }),
      Effect.timeoutFail({
        duration: timeout,
        onTimeout: () => unreachable(`no complete answer within ${Duration.format(timeout)}`)
      }),
      Effect.withSpan("esms.imageCheck", { kind: "client", attributes: { "esms.image_url": url } })
    )
  }
}

/**
 * Checks one photo with the `HttpClient` in context: answers its format and size, or why eSMS would
 * not take it.
 *
 * @since 0.1.0
 * @category accessors
 */
export const check = (
  url: string,
  options?: Options
): Effect.Effect<Image, ImageError.ImageError, HttpClient.HttpClient> =>
  Effect.flatMap(HttpClient.HttpClient, (client) => fromClient(client, options)(url))

/**
 * The same checker, asking each distinct URL once: later (and concurrent) calls for a URL share the
 * first one's answer. Memory grows with the number of distinct URLs, not of calls.
 *
 * @since 0.1.0
 * @category utils
 */
export const memoize = (checker: Checker): Effect.Effect<Checker> =>
  Effect.sync(() => {
    const answers = new Map<string, Deferred.Deferred<Image, ImageError.ImageError>>()
    return (url) =>
      Effect.suspend(() => {
        const known = answers.get(url)
        if (known !== undefined) return Deferred.await(known)
        const answer = Deferred.unsafeMake<Image, ImageError.ImageError>(FiberId.none)
        answers.set(url, answer)
        return checker(url).pipe(
          Effect.onExit((exit) => {
            // An interrupted check answers nothing: forget it, so a later call asks again.
            if (Exit.isInterrupted(exit)) answers.delete(url)
            return Deferred.done(answer, exit)
          })
        )
      })
  })

/**
 * A memoized checker on the `HttpClient` in context: one per campaign, so each photo is fetched once.
 *
 * @since 0.1.0
 * @category utils
 */
export const cached = (options?: Options): Effect.Effect<Checker, never, HttpClient.HttpClient> =>
  Effect.flatMap(HttpClient.HttpClient, (client) => memoize(fromClient(client, options)))
