/**
 * `ImageCheck` over real HTTP against the simulator's photos, and on a test double where the bytes
 * read must be counted exactly.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { assert, describe, it, layer } from "@effect/vitest"
import { ImageError } from "@esms-effect/core"
import { Images, Simulator } from "@esms-effect/simulator"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ImageCheck from "../src/ImageCheck.js"
import * as UndiciHttpClient from "../src/UndiciHttpClient.js"

const Live = Layer.merge(Simulator.layer({ slowImageDelay: "5 seconds" }), UndiciHttpClient.layer())

const check = (name: Images.Name | string, options?: ImageCheck.Options) =>
  Effect.flatMap(Simulator.Simulator, (simulator) => {
    const url = name in Images.paths ? simulator.imageUrl(name as Images.Name) : simulator.imagesUrl + name
    return Effect.either(ImageCheck.check(url, options))
  })

const failure = <A>(result: { _tag: "Left"; left: A } | { _tag: "Right" }) => {
  if (result._tag === "Right") return assert.fail("expected the check to fail")
  return result.left
}

layer(Live, { excludeTestServices: true, timeout: "30 seconds" })("ImageCheck against the simulator", (it) => {
  it.effect("accepts the real PNG and JPEG, and the JPEG at an extension-less URL, by their first bytes", () =>
    Effect.gen(function*() {
      const png = yield* check("png")
      assert.deepInclude(png, { _tag: "Right" })
      assert(png._tag === "Right" && png.right.format === "png" && png.right.size === Images.png.length)
      const jpeg = yield* check("jpeg")
      assert(jpeg._tag === "Right" && jpeg.right.format === "jpeg" && jpeg.right.size === Images.jpeg.length)
      const bare = yield* check("extensionless")
      assert(bare._tag === "Right" && bare.right.format === "jpeg")
    }))

  it.effect("ImageTooLarge for the 1.5 MB JPEG, with the size its Content-Length gives", () =>
    Effect.gen(function*() {
      const error = failure(yield* check("large"))
      assert.strictEqual(error._tag, "ImageTooLarge")
      assert(error._tag === "ImageTooLarge" && error.size !== undefined && error.size > 1_500_000)
      assert.strictEqual(error.limit, 1_048_576)
      assert.include(error.message, "/images/large.jpg is too large: eSMS takes at most 1 MB (1,048,576 bytes)")
    }))

  it.effect("ImageTooLarge for an image of unknown length, reading little of its 16 MB", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.Simulator
      yield* simulator.reset
      const error = failure(yield* check("unsized"))
      assert(error._tag === "ImageTooLarge" && error.size === undefined)
      assert.include(error.reason, "it has more than 1,048,576 bytes")
      const [served] = yield* simulator.imageRequests
      assert.isBelow(served.bytes, 16 * 1024 * 1024)
    }))

  it.effect("ImageNotJpgOrPng for an HTML page named .png, a GIF, and a GIF served as image/png", () =>
    Effect.gen(function*() {
      const html = failure(yield* check("html"))
      assert(html._tag === "ImageNotJpgOrPng" && html.found === "an HTML page")
      assert.match(html.reason, /^is not a JPEG or PNG image: it is an HTML page \(served as text\/html/)
      const gif = failure(yield* check("gif"))
      assert(gif._tag === "ImageNotJpgOrPng" && gif.found === "a GIF image")
      const disguised = failure(yield* check("disguised"))
      assert(disguised._tag === "ImageNotJpgOrPng" && disguised.found === "a GIF image")
      assert.strictEqual(disguised.contentType, "image/png")
    }))

  it.effect("ImageUnreachable for a 404, naming the status and the URL", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.Simulator
      const error = failure(yield* check("missing"))
      assert.strictEqual(error._tag, "ImageUnreachable")
      assert.strictEqual(error.message, `Image ${simulator.imageUrl("missing")} could not be fetched: HTTP 404`)
    }))

  it.effect("follows up to 5 redirects; a 6th is ImageUnreachable", () =>
    Effect.gen(function*() {
      const moved = yield* check("moved")
      assert(moved._tag === "Right" && moved.right.format === "jpeg")
      const five = yield* check("/redirect/5")
      assert(five._tag === "Right" && five.right.format === "jpeg")
      const six = failure(yield* check("/redirect/6"))
      assert(six._tag === "ImageUnreachable" && six.detail === "more than 5 redirects")
      const strict = failure(yield* check("moved", { maxRedirects: 0 }))
      assert(strict._tag === "ImageUnreachable" && strict.detail === "more than 0 redirects")
    }))

  it.effect("a slow image is ImageUnreachable once the check's time is up", () =>
    Effect.gen(function*() {
      const started = Date.now()
      const error = failure(yield* check("slow", { timeout: "300 millis" }))
      assert(error._tag === "ImageUnreachable" && /no complete answer within 300ms/.test(error.detail))
      assert.isBelow(Date.now() - started, 3000)
    }))

  it.effect("a refused connection is ImageUnreachable", () =>
    Effect.gen(function*() {
      const error = failure(yield* Effect.either(ImageCheck.check("http://127.0.0.1:1/p.png")))
      assert(error._tag === "ImageUnreachable" && error.detail.includes("ECONNREFUSED"))
      assert.isTrue(ImageError.isImageError(error))
    }))

  it.effect("memoized: each distinct URL is fetched once, however many and however concurrent the calls", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.Simulator
      yield* simulator.reset
      const checker = yield* ImageCheck.cached()
      const urls = Array.from(
        { length: 300 },
        (_, i) => simulator.imageUrl((["png", "jpeg", "missing"] as const)[i % 3])
      )
      const results = yield* Effect.forEach(urls, (url) => Effect.either(checker(url)), { concurrency: 16 })
      assert.strictEqual(results.filter((r) => r._tag === "Left").length, 100)
      const requests = yield* simulator.imageRequests
      assert.deepStrictEqual(requests.map((r) => r.path).sort(), [
        Images.paths.missing,
        Images.paths.jpeg,
        Images.paths.png
      ])
    }))
})

// A body the double produces on demand, counting every byte handed out.
const endless = (head: ReadonlyArray<number>, counter: { pulled: number }, contentLength?: string) =>
  Layer.succeed(
    HttpClient.HttpClient,
    HttpClient.make((request) =>
      Effect.succeed(HttpClientResponse.fromWeb(
        request,
        new Response(
          new ReadableStream<Uint8Array>({
            pull(controller) {
              const chunk = new Uint8Array(1000)
              if (counter.pulled === 0) chunk.set(head)
              counter.pulled += chunk.length
              controller.enqueue(chunk)
            }
          }, { highWaterMark: 0 }),
          { status: 200, headers: contentLength === undefined ? {} : { "content-length": contentLength } }
        )
      ))
    )
  )

describe("ImageCheck reads at most 1 MB + 1 byte", () => {
  const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]

  it.effect("of an endless body without Content-Length", () => {
    const counter = { pulled: 0 }
    return Effect.gen(function*() {
      const error = yield* Effect.flip(ImageCheck.check("https://img.example.vn/p"))
      assert.strictEqual(error._tag, "ImageTooLarge")
      // Chunks of 1000 bytes: the one that passes 1,048,576 is the last one read.
      assert.strictEqual(counter.pulled, 1_049_000)
    }).pipe(Effect.provide(endless(PNG, counter)))
  })

  it.effect("of a body whose Content-Length understates it", () => {
    const counter = { pulled: 0 }
    return Effect.gen(function*() {
      const error = yield* Effect.flip(ImageCheck.check("https://img.example.vn/p"))
      assert.strictEqual(error._tag, "ImageTooLarge")
      assert.strictEqual(counter.pulled, 1_049_000)
    }).pipe(Effect.provide(endless(PNG, counter, "2000")))
  })

  it.effect("nothing past the first chunk when Content-Length says too large, or the first bytes are no image", () => {
    const big = { pulled: 0 }
    const gif = { pulled: 0 }
    return Effect.gen(function*() {
      const error = yield* Effect.flip(
        ImageCheck.check("https://img.example.vn/p").pipe(Effect.provide(endless(PNG, big, "5000000")))
      )
      assert(error._tag === "ImageTooLarge" && error.size === 5_000_000)
      assert.strictEqual(big.pulled, 1000)
      const notImage = yield* Effect.flip(
        ImageCheck.check("https://img.example.vn/p").pipe(
          Effect.provide(endless([0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 1, 0], gif))
        )
      )
      assert.strictEqual(notImage._tag, "ImageNotJpgOrPng")
      assert.strictEqual(gif.pulled, 1000)
    })
  })

  it("sniff names common formats", () => {
    const bytes = (s: string) => new Uint8Array([...s].map((c) => c.charCodeAt(0)))
    assert.strictEqual(ImageCheck.sniff(new Uint8Array(PNG)), "png")
    assert.strictEqual(ImageCheck.sniff(new Uint8Array([0xff, 0xd8, 0xff, 0xe0])), "jpeg")
    assert.deepStrictEqual(ImageCheck.sniff(bytes("RIFF\0\0\0\0WEBPVP8 ")), { found: "a WebP image" })
    assert.deepStrictEqual(ImageCheck.sniff(bytes("\0\0\0\x18ftypheic")), { found: "a HEIC image" })
    assert.deepStrictEqual(ImageCheck.sniff(bytes("  <svg xmlns=")), { found: "an SVG or XML document" })
    assert.deepStrictEqual(ImageCheck.sniff(bytes("{\"error\":1}")), { found: "JSON text" })
    assert.deepStrictEqual(ImageCheck.sniff(new Uint8Array(0)), { found: "an empty file" })
  })
})
