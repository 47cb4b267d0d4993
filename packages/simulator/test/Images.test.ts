/**
 * The photos the simulator serves, over real HTTP on loopback: what an image check will meet.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Http from "node:http"
import { Images, Simulator } from "../src/index.js"

interface Got {
  readonly status: number
  readonly headers: Http.IncomingHttpHeaders
  readonly body: Buffer
}

// node:http, not an HttpClient: it shows exactly what is on the wire (no redirect following).
const get = (url: string, maxBytes = Infinity) =>
  Effect.async<Got>((resume) => {
    const request = Http.get(url, (response) => {
      const chunks: Array<Buffer> = []
      let size = 0
      response.on("data", (chunk: Buffer) => {
        chunks.push(chunk)
        size += chunk.length
        if (size >= maxBytes) {
          response.destroy()
          resume(
            Effect.succeed({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) })
          )
        }
      })
      response.on("end", () =>
        resume(
          Effect.succeed({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) })
        ))
    })
    return Effect.sync(() => request.destroy())
  })

const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]
const JPEG = [0xff, 0xd8, 0xff]
const startsWith = (body: Buffer, magic: ReadonlyArray<number>) => magic.every((byte, i) => body[i] === byte)

const withSimulator = <A, E>(
  f: (simulator: Simulator.Service) => Effect.Effect<A, E>,
  options: Simulator.Options = {}
) => Effect.scoped(Effect.flatMap(Simulator.serve(options), f))

describe("Simulator images", () => {
  it.live("serves a real PNG and JPEG, and the JPEG at an extension-less URL, beside the eSMS endpoints", () =>
    withSimulator((simulator) =>
      Effect.gen(function*() {
        assert.strictEqual(simulator.imagesUrl, simulator.baseUrl.replace("/MainService.svc/json", "/images"))
        const png = yield* get(simulator.imageUrl("png"))
        assert.strictEqual(png.status, 200)
        assert.strictEqual(png.headers["content-type"], "image/png")
        assert.isTrue(startsWith(png.body, PNG))
        assert.deepStrictEqual([...png.body], [...Images.png])
        const jpeg = yield* get(simulator.imageUrl("jpeg"))
        assert.isTrue(startsWith(jpeg.body, JPEG))
        assert.deepStrictEqual([jpeg.body[jpeg.body.length - 2], jpeg.body[jpeg.body.length - 1]], [0xff, 0xd9])
        const bare = yield* get(simulator.imageUrl("extensionless"))
        assert.isFalse(/\.[a-z]+$/.test(new URL(simulator.imageUrl("extensionless")).pathname))
        assert.deepStrictEqual([...bare.body], [...jpeg.body])
        const requests = yield* simulator.imageRequests
        assert.deepStrictEqual(requests.map((r) => [r.path, r.status]), [
          [Images.paths.png, 200],
          [Images.paths.jpeg, 200],
          [Images.paths.extensionless, 200]
        ])
      })
    ))

  it.live("serves the bad cases: over 1 MB, unsized, HTML named .png, GIF, GIF as image/png, 404, redirects", () =>
    withSimulator((simulator) =>
      Effect.gen(function*() {
        const large = yield* get(simulator.imageUrl("large"))
        assert.isTrue(startsWith(large.body, JPEG))
        assert.isAbove(large.body.length, 1_048_576)
        assert.strictEqual(Number(large.headers["content-length"]), large.body.length)
        const unsized = yield* get(simulator.imageUrl("unsized"), 2_000_000)
        assert.isTrue(startsWith(unsized.body, PNG))
        assert.isUndefined(unsized.headers["content-length"])
        const html = yield* get(simulator.imageUrl("html"))
        assert.strictEqual(html.status, 200)
        assert.match(html.headers["content-type"] ?? "", /^text\/html/)
        assert.match(html.body.toString(), /^<!DOCTYPE html>/)
        const gif = yield* get(simulator.imageUrl("gif"))
        assert.strictEqual(gif.body.subarray(0, 4).toString(), "GIF8")
        const disguised = yield* get(simulator.imageUrl("disguised"))
        assert.strictEqual(disguised.headers["content-type"], "image/png")
        assert.strictEqual(disguised.body.subarray(0, 4).toString(), "GIF8")
        assert.strictEqual((yield* get(simulator.imageUrl("missing"))).status, 404)
        const moved = yield* get(simulator.imageUrl("moved"))
        assert.strictEqual(moved.status, 302)
        assert.strictEqual(moved.headers.location, Images.paths.jpeg)
        const hop = yield* get(simulator.imagesUrl + "/redirect/2")
        assert.strictEqual(hop.headers.location, Images.redirectPath(1))
        // The unsized body was cut by the client: the server handed out far less than its 16 MB.
        const served = (yield* simulator.imageRequests).find((r) => r.path === Images.paths.unsized)
        assert.isBelow(served?.bytes ?? Infinity, 16 * 1024 * 1024)
      })
    ))

  it.live("the slow image answers only after its delay", () =>
    withSimulator((simulator) =>
      Effect.gen(function*() {
        const started = Date.now()
        const slow = yield* get(simulator.imageUrl("slow"))
        assert.strictEqual(slow.status, 200)
        assert.isAtLeast(Date.now() - started, 250)
      }), { slowImageDelay: "300 millis" }))

  it.live("reset forgets the image requests", () =>
    withSimulator((simulator) =>
      Effect.gen(function*() {
        yield* get(simulator.imageUrl("png"))
        assert.lengthOf(yield* simulator.imageRequests, 1)
        yield* simulator.reset
        assert.lengthOf(yield* simulator.imageRequests, 0)
      })
    ))
})
