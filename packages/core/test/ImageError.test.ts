import { assert, describe, it } from "@effect/vitest"
import * as Schema from "effect/Schema"
import * as ImageError from "../src/ImageError.js"

const url = "https://cdn.example.vn/p/photo.png"

describe("ImageError", () => {
  it("each error names the URL and says why, in plain words", () => {
    assert.strictEqual(
      new ImageError.ImageUnreachable({ url, detail: "HTTP 404" }).message,
      "Image https://cdn.example.vn/p/photo.png could not be fetched: HTTP 404"
    )
    assert.strictEqual(
      new ImageError.ImageNotJpgOrPng({ url, found: "an HTML page", contentType: "text/html" }).message,
      "Image https://cdn.example.vn/p/photo.png is not a JPEG or PNG image: it is an HTML page (served as text/html)"
    )
    assert.strictEqual(
      new ImageError.ImageTooLarge({ url, limit: ImageError.MAX_IMAGE_BYTES, size: 3_145_728 }).reason,
      "is too large: eSMS takes at most 1 MB (1,048,576 bytes), it has 3,145,728 bytes"
    )
    assert.strictEqual(
      new ImageError.ImageTooLarge({ url, limit: ImageError.MAX_IMAGE_BYTES }).reason,
      "is too large: eSMS takes at most 1 MB (1,048,576 bytes), it has more than 1,048,576 bytes"
    )
  })

  it("tells its own errors from others, and round-trips through the union schema", () => {
    const error = new ImageError.ImageTooLarge({ url, limit: 1, size: 2 })
    assert.isTrue(ImageError.isImageError(error))
    assert.isFalse(ImageError.isImageError(new Error("no")))
    assert.isFalse(ImageError.isImageError({ _tag: "ImageTooLarge" }))
    const decoded = Schema.decodeUnknownSync(ImageError.ImageError)(Schema.encodeSync(ImageError.ImageError)(error))
    assert.strictEqual(decoded._tag, "ImageTooLarge")
    assert.isTrue(ImageError.isImageError(decoded))
  })
})
