/**
 * A receiver on loopback with a fresh store file, and a raw HTTP client that sends exactly the bytes
 * a test means (a broken query, a body, a huge URL).
 */
import { DeliveryReports } from "@esms-effect/store"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Fs from "node:fs"
import * as Http from "node:http"
import * as Os from "node:os"
import * as Path from "node:path"
import { CallbackReceiver } from "../src/index.js"

export const TOKEN = Redacted.make("test-token-0123456789abcdef")

/** A temporary store file, removed with the scope. */
export const tempStoreFile = Effect.acquireRelease(
  Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "esms-receiver-"))),
  (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
).pipe(Effect.map((dir) => Path.join(dir, "esms.sqlite")))

/** The receiver and its store, on a free port. */
export const layer = (file: string) =>
  CallbackReceiver.layer({ token: TOKEN }).pipe(Layer.provideMerge(DeliveryReports.layerSqlite(file)))

export interface RawAnswer {
  readonly status: number
  readonly body: string
}

/** One request with the path (and query) exactly as given. */
export const request = (
  port: number,
  path: string,
  options: { readonly method?: string; readonly body?: string } = {}
): Effect.Effect<RawAnswer> =>
  Effect.async<RawAnswer>((resume) => {
    const req = Http.request(
      { host: "127.0.0.1", port, path, method: options.method ?? "GET", agent: false },
      (res) => {
        const chunks: Array<Buffer> = []
        res.on("data", (chunk: Buffer) => chunks.push(chunk))
        res.on("end", () =>
          resume(Effect.succeed({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() })))
      }
    )
    // A connection Node itself cut (a header over its limit) reads as status 0.
    req.on("error", () =>
      resume(Effect.succeed({ status: 0, body: "" })))
    req.end(options.body)
  })

/** The path of a callback with the right token. */
export const callbackPath = (query: string, token: string = Redacted.value(TOKEN)) =>
  `${CallbackReceiver.DEFAULT_PATH}/${token}?${query}`
