/**
 * Photos the simulator serves on its own port, so an image check can be tested over real HTTP and
 * the demo can send real images: a small PNG and JPEG, the same JPEG at an extension-less URL, one
 * over 1 MB, one of unknown length, an HTML page named `.png`, a GIF, a GIF served as `image/png`, a
 * 404, a slow one and redirects. Every request is counted.
 *
 * @since 0.1.0
 */
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"

/** Where the images live below the host. @since 0.1.0 @category constants */
export const PATH_PREFIX = "/images"

/**
 * The image paths, each for one case.
 *
 * @since 0.1.0
 * @category constants
 */
export const paths = {
  /** A real 48×32 PNG (209 bytes), `image/png`. */
  png: `${PATH_PREFIX}/photo.png`,
  /** A real 48×32 JPEG (621 bytes), `image/jpeg`. */
  jpeg: `${PATH_PREFIX}/photo.jpg`,
  /** The JPEG at a URL without an extension, as image APIs and CDN transformations serve them. */
  extensionless: `${PATH_PREFIX}/products/sku-42`,
  /** A real JPEG of 1.5 MB (its comment segments make the bulk), with its `Content-Length`. */
  large: `${PATH_PREFIX}/large.jpg`,
  /** A PNG's first bytes and then 16 MB, with no `Content-Length` (chunked). */
  unsized: `${PATH_PREFIX}/unsized.png`,
  /** An HTML error page, HTTP 200, named `.png`. */
  html: `${PATH_PREFIX}/error-page.png`,
  /** A 1×1 GIF, `image/gif`. */
  gif: `${PATH_PREFIX}/animated.gif`,
  /** The GIF again, but named `.png` and served as `image/png`. */
  disguised: `${PATH_PREFIX}/disguised.png`,
  /** HTTP 404. */
  missing: `${PATH_PREFIX}/missing.png`,
  /** The JPEG, after a delay (`slowImageDelay`, default 30 seconds) before the headers. */
  slow: `${PATH_PREFIX}/slow.jpg`,
  /** HTTP 302 to the JPEG. */
  moved: `${PATH_PREFIX}/moved.jpg`
} as const

/** A name of {@link paths}. @since 0.1.0 @category models */
export type Name = keyof typeof paths

/**
 * `/images/redirect/N`: N redirects (302) in a row, then the JPEG.
 *
 * @since 0.1.0
 * @category utils
 */
export const redirectPath = (hops: number): string => `${PATH_PREFIX}/redirect/${hops}`

const fromBase64 = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, "base64"))

/** The PNG of {@link paths}`.png`. @since 0.1.0 @category constants */
export const png: Uint8Array = fromBase64(
  "iVBORw0KGgoAAAANSUhEUgAAADAAAAAgCAIAAADbtmxLAAAAmElEQVR42mPUXhDFMJgAE8MgA6MOGnUQpYAFU+hK/FJ6ukBnYfRQCyFSwcNoHWSu/" +
    "NIrA+YgNKcgC5LtLCbquoZIWeo7iBj7yHMTE41cQ7abhn7BSKqnSVU/WnWMOojuDiK1CCZV/bCIMuI9TUaNRmYIEWMTefUr+VGG3z6ya3uKmh8QWwdRe4" +
    "gqLhjsuYxxtCs96qDh5iAAUa4rK/YwuWIAAAAASUVORK5CYII="
)

/** The JPEG of {@link paths}`.jpeg`. @since 0.1.0 @category constants */
export const jpeg: Uint8Array = fromBase64(
  "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAoHBwgHBgoICAgLCgoLDhgQDg0NDh0VFhEYIx8lJCIfIiEmKzcvJik0KSEiMEExNDk7Pj4+JS5ESUM8SDc" +
    "9Pjv/2wBDAQoLCw4NDhwQEBw7KCIoOzs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozv/wAARCAAgADADASIAAh" +
    "EBAxEB/8QAGQABAQADAQAAAAAAAAAAAAAABAIAAwYF/8QAJhAAAQMDAgYDAQAAAAAAAAAAAQACAwQRUQUTBiFBcaHwEjJhMf/EABkBAAMAAwAAAAAAAAAAA" +
    "AAAAAEEBQACA//EACgRAAAFAgYBBAMAAAAAAAAAAAECAwURAAQSEyExQVHRFGFxwYGhsf/aAAwDAQACEQMRAD8AlRusz4VoiVaW5K9x5giERtHM+w9Vbe" +
    "XJaxwZYAOKd54j3DukbrM+Fm6zPhezw/w+ytjFZWC8BuGRg2+XS5t/B73RrnDUMVMaqgb8BE0mSMuJuB1BPX89O50Wkl16UTmnadInqY+oqcDs5CjmgQs" +
    "fAz/a57dZnwqBuLhFSWfRvZF2bEbMhTJiIyPMeAp1ndVr1QxVAAIDifI1SIlrXstyUGa/RtMebzH6mi9t695l5UaTP5jxXRcNa5BFTtoKpzYgy5jkJs08" +
    "7kHB97o1/X6aOjfS0r2TyTsLSWuu1jTyPMdfz08rstyVmy3JWHBpPd+pETbzEaT39xU4re5lRyoDqZ4rQks+jeynZbkqwLADC6PDghdkKVKdBp1lbbizU" +
    "OZUA1Duv//Z"
)

/** The GIF of {@link paths}`.gif`. @since 0.1.0 @category constants */
export const gif: Uint8Array = fromBase64("R0lGODdhAQABAIAAAAAAAAAAACwAAAAAAQABAAAIBAABBAQAOw==")

// The JPEG with 24 full comment segments (FF FE, length 65535) after its start marker: still a
// valid JPEG, of 1.5 MB.
const largeJpeg = (): Uint8Array => {
  const segments = 24
  const out = new Uint8Array(2 + segments * 65537 + jpeg.length - 2)
  out.set(jpeg.subarray(0, 2), 0)
  for (let i = 0; i < segments; i++) {
    const at = 2 + i * 65537
    out.set([0xff, 0xfe, 0xff, 0xff], at)
    out.fill(0x20, at + 4, at + 65537)
  }
  out.set(jpeg.subarray(2), 2 + segments * 65537)
  return out
}

const UNSIZED_CHUNK = 64 * 1024
const UNSIZED_CHUNKS = 256

const errorPage = "<!DOCTYPE html>\n<html><head><title>Not found</title></head><body><p>The product photo you asked " +
  "for is not here. Try our home page.</p></body></html>\n"

/**
 * One image request the simulator received. `bytes` counts what the server handed to the socket
 * (for the unsized image it stops growing when the client stops reading); `status` is what it
 * answered.
 *
 * @since 0.1.0
 * @category models
 */
export interface ImageRequest {
  /** When it arrived (epoch millis, from `Clock`). */
  readonly at: number
  readonly method: string
  readonly path: string
  readonly status: number
  readonly bytes: number
}

/** @since 0.1.0 @category models */
export interface Options {
  /** How long the slow image waits before its headers. Default 30 seconds. */
  readonly slowImageDelay?: Duration.DurationInput | undefined
}

/**
 * The image routes and their request log.
 *
 * @since 0.1.0
 * @category models
 */
export interface Images {
  /** Serves {@link PATH_PREFIX}`/*`; an unknown image path answers 404. */
  readonly handle: Effect.Effect<HttpServerResponse.HttpServerResponse, never, HttpServerRequest.HttpServerRequest>
  readonly requests: Effect.Effect<ReadonlyArray<ImageRequest>>
  readonly reset: Effect.Effect<void>
}

interface Entry {
  readonly at: number
  readonly method: string
  readonly path: string
  status: number
  bytes: number
}

/**
 * Builds the image routes.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options = {}): Effect.Effect<Images> =>
  Effect.sync(() => {
    const slowDelay = Duration.decode(options.slowImageDelay ?? "30 seconds")
    const log: Array<Entry> = []
    let large: Uint8Array | undefined

    const bytes = (entry: Entry, body: Uint8Array, contentType: string, status = 200) => {
      entry.status = status
      entry.bytes = body.length
      return HttpServerResponse.uint8Array(body, { status, contentType })
    }

    const redirect = (entry: Entry, location: string) => {
      entry.status = 302
      return HttpServerResponse.empty({ status: 302, headers: { location } })
    }

    const unsized = (entry: Entry) => {
      entry.status = 200
      const head = new Uint8Array(UNSIZED_CHUNK)
      head.set(png.subarray(0, 16))
      const zeros = new Uint8Array(UNSIZED_CHUNK)
      const body = Stream.range(0, UNSIZED_CHUNKS - 1).pipe(
        Stream.map((i) => i === 0 ? head : zeros),
        Stream.tap((chunk) => Effect.sync(() => void (entry.bytes += chunk.length)))
      )
      return HttpServerResponse.stream(body, { contentType: "image/png" })
    }

    const respond = (entry: Entry): Effect.Effect<HttpServerResponse.HttpServerResponse> => {
      const path = entry.path.toLowerCase().replace(/\/+$/, "")
      const hops = /^\/images\/redirect\/(\d+)$/.exec(path)
      if (hops !== null) {
        const n = Number(hops[1])
        return Effect.succeed(n === 0 ? bytes(entry, jpeg, "image/jpeg") : redirect(entry, redirectPath(n - 1)))
      }
      switch (path) {
        case paths.png:
          return Effect.succeed(bytes(entry, png, "image/png"))
        case paths.jpeg:
        case paths.extensionless:
          return Effect.succeed(bytes(entry, jpeg, "image/jpeg"))
        case paths.large:
          return Effect.succeed(bytes(entry, large ??= largeJpeg(), "image/jpeg"))
        case paths.unsized:
          return Effect.succeed(unsized(entry))
        case paths.html:
          return Effect.succeed(bytes(entry, new TextEncoder().encode(errorPage), "text/html; charset=utf-8"))
        case paths.gif:
          return Effect.succeed(bytes(entry, gif, "image/gif"))
        case paths.disguised:
          return Effect.succeed(bytes(entry, gif, "image/png"))
        case paths.slow:
          return Effect.as(Effect.sleep(slowDelay), bytes(entry, jpeg, "image/jpeg"))
        case paths.moved:
          return Effect.succeed(redirect(entry, paths.jpeg))
        default:
          return Effect.succeed(
            bytes(entry, new TextEncoder().encode(errorPage), "text/html; charset=utf-8", 404)
          )
      }
    }

    const handle = Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      const entry: Entry = {
        at: yield* Clock.currentTimeMillis,
        method: request.method,
        path: new URL(request.url, "http://simulator").pathname,
        status: 0,
        bytes: 0
      }
      log.push(entry)
      yield* Effect.logDebug(`${request.method} ${entry.path}`)
      return yield* respond(entry)
    })

    return {
      handle,
      requests: Effect.sync(() => log.map((entry) => ({ ...entry }))),
      reset: Effect.sync(() => void log.splice(0))
    }
  })

/**
 * The image routes on a router of their own.
 *
 * @since 0.1.0
 * @category routes
 */
export const router = (images: Images): HttpRouter.HttpRouter =>
  HttpRouter.empty.pipe(HttpRouter.all(`${PATH_PREFIX}/*`, images.handle))
