/**
 * A hostile "eSMS" on loopback, spoken to over real HTTP (the undici client the CLI uses): it echoes
 * the keys back in every spelling a server or proxy could give them, answers bodies without end,
 * and answers numbers where strings were documented.
 */
import { assert, describe, it } from "@effect/vitest"
import { Credentials } from "@esms-effect/core"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Http from "node:http"
import type * as Net from "node:net"
import { inspect } from "node:util"
import * as EsmsClient from "../src/EsmsClient.js"
import * as NodeEsmsClient from "../src/NodeEsmsClient.js"
import * as SendStatus from "../src/SendStatus.js"
import { message } from "./Fixtures.js"

interface Request {
  readonly url: string
  readonly body: string
}

type Handler = (request: Request, response: Http.ServerResponse) => void

/** A server on 127.0.0.1, port 0, answering with `handler`; it records every request. */
const server = (handler: Handler) =>
  Effect.acquireRelease(
    Effect.async<{ readonly baseUrl: string; readonly seen: Array<Request>; readonly server: Http.Server }>(
      (resume) => {
        const seen: Array<Request> = []
        const server = Http.createServer((req, res) => {
          let body = ""
          req.setEncoding("utf8").on("data", (chunk: string) => (body += chunk)).on("end", () => {
            const request = { url: req.url ?? "", body }
            seen.push(request)
            handler(request, res)
          })
        })
        server.listen(0, "127.0.0.1", () =>
          resume(Effect.succeed({
            baseUrl: `http://127.0.0.1:${(server.address() as Net.AddressInfo).port}`,
            seen,
            server
          })))
      }
    ),
    ({ server }) =>
      Effect.async<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  )

const answer = (res: Http.ServerResponse, status: number, body: string, type = "application/json") => {
  res.writeHead(status, { "content-type": type })
  res.end(body)
}

// Keys with what JSON, URL and form encoders each change: a quote, a backslash, a slash, `+`, `! * ' ( )`,
// `&`, `=`, `<`, `>` and a letter beyond ASCII. None has a space or a control character: those are refused.
const API_KEY = `AK"HOSTILE\\42/+!*'()`
const SECRET_KEY = "SK&HOSTILE=<é>~"
const credentials = Credentials.make({ apiKey: API_KEY, secretKey: SECRET_KEY, oaid: "4321987654" })

const escapeEveryLetter = (text: string) =>
  [...text].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0").toUpperCase()}`).join("")

// What a hostile server can do with the keys it was sent: every spelling the issue saw, and more.
const echoes: Record<string, (key: string) => string> = {
  "as sent": (key) => key,
  "JSON-escaped": (key) => JSON.stringify(key).slice(1, -1),
  "JSON-escaped twice": (key) => JSON.stringify(JSON.stringify(key).slice(1, -1)).slice(1, -1),
  "letter by letter \\uXXXX": escapeEveryLetter,
  ".NET escaping (\\/, \\u002B, \\u0027)": (key) =>
    JSON.stringify(key).slice(1, -1).replace(/\//g, "\\/").replace(/\+/g, "\\u002B").replace(/'/g, "\\u0027"),
  "form-encoded (%21 … +)": (key) => new URLSearchParams({ k: key }).toString().slice(2),
  "URL-encoded, lower-case hex": (key) => encodeURIComponent(key).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()),
  "URL-encoded twice": (key) => encodeURIComponent(encodeURIComponent(key)),
  "HTML entities": (key) =>
    key.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;"),
  "cut by a CRLF": (key) => `${key.slice(0, 5)}\r\n${key.slice(5)}`,
  "cut by a JSON-escaped \\n, in a JSON string": (key) =>
    `${JSON.stringify(key.slice(0, 7)).slice(1, -1)}\\n${JSON.stringify(key.slice(7)).slice(1, -1)}`,
  "base64": (key) => Buffer.from(key, "utf8").toString("base64"),
  "URL-safe base64, no padding": (key) => Buffer.from(key, "utf8").toString("base64url"),
  "hex": (key) => Buffer.from(key, "utf8").toString("hex"),
  "HEX": (key) => Buffer.from(key, "utf8").toString("hex").toUpperCase()
}

const leaks = (text: string): ReadonlyArray<string> =>
  [API_KEY, SECRET_KEY].flatMap((key) =>
    Object.entries(echoes).flatMap(([name, spell]) => text.includes(spell(key)) ? [name] : [])
  )

/** Every way an error reaches a person or a log. */
const renderings = (error: unknown) => [
  String(error),
  (error as Error).message,
  JSON.stringify(error),
  inspect(error, { depth: 10 })
]

const clientOn = (baseUrl: string, options: Partial<EsmsClient.Options> = {}) =>
  EsmsClient.make({ credentials, baseUrl, maxAttempts: 1, ...options }).pipe(
    Effect.provide(NodeEsmsClient.layerHttpClient())
  )

const statusOn = (baseUrl: string, options: Partial<EsmsClient.Options> = {}) =>
  SendStatus.make({ credentials, baseUrl, maxAttempts: 1, ...options }).pipe(
    Effect.provide(NodeEsmsClient.layerHttpClient())
  )

describe("keys echoed back in any spelling never reach an error", () => {
  for (const [name, spell] of Object.entries(echoes)) {
    const both = `ApiKey=${spell(API_KEY)};SecretKey=${spell(SECRET_KEY)}`
    it.scoped(`send: a 500 body, a non-JSON 200 and the vendor's ErrorMessage, keys ${name}`, () =>
      Effect.gen(function*() {
        for (
          const handler of [
            (_: Request, res: Http.ServerResponse) => answer(res, 500, `<pre>${both}</pre>`, "text/html"),
            (_: Request, res: Http.ServerResponse) => answer(res, 200, `not json ${both}`, "text/plain"),
            (_: Request, res: Http.ServerResponse) =>
              answer(res, 200, JSON.stringify({ CodeResult: "101", ErrorMessage: both }))
          ]
        ) {
          const { baseUrl } = yield* server(handler)
          const client = yield* clientOn(baseUrl)
          const error = yield* Effect.flip(client.sendZaloImage(message))
          assert.include(error.message, "<redacted>", `${error._tag}: the echo is there, scrubbed`)
          for (const text of renderings(error)) assert.deepStrictEqual(leaks(text), [], `${error._tag}: ${text}`)
        }
      }))

    it.scoped(`GetSendStatus (keys in the query string): the request URL echoed, keys ${name}`, () =>
      Effect.gen(function*() {
        const { baseUrl } = yield* server((req, res) => {
          const query = new URLSearchParams(req.url.slice(req.url.indexOf("?")))
          const echoed = `${req.url} ApiKey=${spell(query.get("ApiKey") ?? "")} SecretKey=${
            spell(query.get("SecretKey") ?? "")
          }`
          answer(res, 503, echoed, "text/plain")
        })
        const status = yield* statusOn(baseUrl)
        const error = yield* Effect.flip(status.get("sms-1"))
        assert.strictEqual(error._tag, "HttpStatusError")
        for (const text of renderings(error)) assert.deepStrictEqual(leaks(text), [], text)
      }))
  }

  const basic = (urlSafe: boolean) =>
    Buffer.from(`${API_KEY}:${SECRET_KEY}`, "utf8").toString(urlSafe ? "base64url" : "base64")
  it.scoped("send and GetSendStatus: an echoed Authorization: Basic base64(apiKey:secretKey), either alphabet", () =>
    Effect.gen(function*() {
      const echo = `Authorization: Basic ${basic(false)}\r\nX-Token: ${basic(true)}`
      const { baseUrl } = yield* server((_, res) => answer(res, 502, echo, "text/plain"))
      const client = yield* clientOn(baseUrl)
      const status = yield* statusOn(baseUrl)
      for (
        const error of [yield* Effect.flip(client.sendZaloImage(message)), yield* Effect.flip(status.get("sms-1"))]
      ) {
        assert.include(error.message, "Basic <redacted>")
        for (const text of renderings(error)) {
          for (const urlSafe of [false, true]) {
            assert.notInclude(text, basic(urlSafe).slice(0, 12))
            assert.notInclude(text, basic(urlSafe).slice(-12))
          }
        }
      }
    }))

  it("the keys really are on the wire in these spellings (the test can fail)", () => {
    assert.deepStrictEqual(leaks(`x ${escapeEveryLetter(API_KEY)} y`), ["letter by letter \\uXXXX"])
    assert.include(leaks(`x ${new URLSearchParams({ k: SECRET_KEY }).toString()} y`), "form-encoded (%21 … +)")
    assert.deepStrictEqual(leaks(`x ${Buffer.from(SECRET_KEY).toString("hex")} y`), ["hex"])
    assert.include(leaks(`x ${API_KEY.slice(0, 5)}\r\n${API_KEY.slice(5)} y`), "cut by a CRLF")
    assert.strictEqual(Redacted.value(credentials.apiKey), API_KEY)
  })
})

/** Streams `total` bytes (a JSON start, then `a`s) with or without a Content-Length; counts what it wrote. */
const endless = (total: number, contentLength: boolean, written: { bytes: number }): Handler => (_, res) => {
  res.writeHead(200, {
    "content-type": "application/json",
    ...(contentLength ? { "content-length": String(total) } : {})
  })
  const head = "{\"CodeResult\":\"100\",\"SMSID\":\""
  res.write(head)
  written.bytes = head.length
  const chunk = Buffer.alloc(64 * 1024, "a")
  const pump = () => {
    while (written.bytes < total && !res.destroyed) {
      written.bytes += chunk.length
      if (!res.write(chunk)) return void res.once("drain", pump)
    }
    if (!res.destroyed) res.end()
  }
  pump()
}

describe("the answer's size is capped", () => {
  for (const contentLength of [false, true]) {
    const how = contentLength ? "with a Content-Length" : "chunked"
    it.scoped(`a 300 MB answer ${how}: ResponseTooLarge after at most 1 MB, not retried`, () =>
      Effect.gen(function*() {
        const written = { bytes: 0 }
        const { baseUrl, seen } = yield* server(endless(300 * 1024 * 1024, contentLength, written))
        const client = yield* clientOn(baseUrl, { maxAttempts: 5 })
        const error = yield* Effect.flip(client.sendZaloImage(message))
        assert.strictEqual(error._tag, "ResponseTooLarge")
        assert.include(error.message, "over 1048576 bytes")
        assert.strictEqual(seen.length, 1, "not retried")
        assert.isBelow(written.bytes, 64 * 1024 * 1024, "the server could not write its answer: nobody read it")
        const status = yield* statusOn(baseUrl, { maxAttempts: 5 })
        assert.strictEqual((yield* Effect.flip(status.get("sms-1")))._tag, "ResponseTooLarge")
        assert.strictEqual(seen.length, 2)
      }))
  }

  it.scoped("an answer just under the cap is read", () =>
    Effect.gen(function*() {
      const padding = "x".repeat(EsmsClient.DEFAULT_MAX_RESPONSE_BYTES - 100)
      const { baseUrl } = yield* server((_, res) =>
        answer(res, 200, JSON.stringify({ CodeResult: "100", SMSID: "sms-big", Padding: padding }))
      )
      const client = yield* clientOn(baseUrl)
      assert.strictEqual((yield* client.sendZaloImage(message)).smsId, "sms-big")
    }))
})

describe("numbers where the documentation has strings", () => {
  it.scoped("SMSID as a JSON number with CodeResult \"100\": accepted, the SMSID as its digits", () =>
    Effect.gen(function*() {
      const { baseUrl } = yield* server((_, res) =>
        answer(res, 200, "{\"CodeResult\":\"100\",\"CountRegenerate\":0,\"SMSID\":123456789012345678901}")
      )
      const client = yield* clientOn(baseUrl)
      const accepted = yield* client.sendZaloImage(message)
      assert.strictEqual(accepted.smsId, "123456789012345678901")
    }))

  it.scoped("GetSendStatus with SMSID as a number", () =>
    Effect.gen(function*() {
      const { baseUrl } = yield* server((_, res) =>
        answer(res, 200, "{\"CodeResponse\":\"100\",\"SMSID\":987654,\"SendStatus\":5,\"SendSuccess\":1}")
      )
      const status = yield* statusOn(baseUrl)
      const report = yield* status.get("987654")
      assert.strictEqual(report.smsId, "987654")
      assert.strictEqual(report.sendStatus, "Finished")
    }))
})
