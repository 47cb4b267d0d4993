/**
 * `esms` against a hostile "eSMS" on loopback, over real HTTP: escape sequences in what it answers
 * (and in a stored callback) never reach the terminal; keys echoed back in any spelling never print.
 */
import { assert, describe, it } from "@effect/vitest"
import { DeliveryReport } from "@esms-effect/core"
import { NodeEsmsClient } from "@esms-effect/http-client"
import { DeliveryReports } from "@esms-effect/store"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Fs from "node:fs"
import type * as Http from "node:http"
import * as Os from "node:os"
import * as Path from "node:path"
import * as CallbacksCommand from "../src/CallbacksCommand.js"
import { ENV, run } from "./CliRunner.js"
import * as EsmsProcess from "./EsmsProcess.js"
import * as HostileServer from "./HostileServer.js"

/** The hostile server of the process tests, for the life of the scope: `handler` writes every answer. */
const server = (handler: (url: string, res: Http.ServerResponse) => void) =>
  Effect.acquireRelease(
    Effect.promise(() => HostileServer.start((seen, res) => handler(seen.url, res))),
    (started) => Effect.promise(() => started.close())
  )

const answer = (res: Http.ServerResponse, status: number, body: string, type = "application/json") => {
  res.writeHead(status, { "content-type": type })
  res.end(body)
}

// Clear the screen, set the window title, go back to the line start, paint a green "Accepted", and a
// C1 CSI (one byte, no ESC) that some terminals obey.
const ATTACK = "\u001b[2J\u001b]0;pwned\u0007\r\u001b[32mAccepted — SMSID fake\u001b[0m\u009b31m\u202eevil"
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/

const send = [...EsmsProcess.sendImage(), "--no-check-image", "--request-id", "hostile-1"]

const esms = (args: ReadonlyArray<string>, env: Record<string, string>) =>
  run(args, { env: { ...ENV, ...env }, http: NodeEsmsClient.layerHttpClient() })

const tempDir = Effect.acquireRelease(
  Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "esms-cli-hostile-"))),
  (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
)

describe("terminal escapes from the server never reach the terminal", () => {
  const cases = {
    "a 500 body": (res: Http.ServerResponse) => answer(res, 500, `<h1>${ATTACK}</h1>`, "text/html"),
    "the vendor's ErrorMessage": (res: Http.ServerResponse) =>
      answer(res, 200, JSON.stringify({ CodeResult: "99", ErrorMessage: ATTACK })),
    "a 200 that is not JSON": (res: Http.ServerResponse) => answer(res, 200, ATTACK, "text/plain")
  }
  for (const [name, handler] of Object.entries(cases)) {
    it.scoped(`${name}: the human line without control characters; --json keeps them, escaped`, () =>
      Effect.gen(function*() {
        const { baseUrl } = yield* server((_, res) => handler(res))
        const human = yield* esms(send, { ESMS_BASE_URL: baseUrl })
        assert.oneOf(human.exitCode, [3, 4])
        const printed = [...human.stdout, ...human.stderr].join("\n")
        // Escape sequences go whole (the title "pwned" with its OSC); the rest shows as plain text.
        assert.include(printed, "Accepted — SMSID fakeevil")
        assert.notInclude(printed, "pwned")
        assert.notMatch(printed, CONTROLS)

        const json = yield* esms([...send, "--json"], { ESMS_BASE_URL: baseUrl })
        assert.strictEqual(json.stdout.length, 1)
        assert.notMatch(json.stdout[0], CONTROLS, "escaped in the JSON text")
        const outcome = JSON.parse(json.stdout[0])
        assert.include(outcome.message, "\u001b]0;pwned\u0007", "the data is all there")
        assert.include(outcome.message, "\u009b31m")
      }))
  }

  it.scoped("esms status: a stored callback's error_info carrying escapes prints as text", () =>
    Effect.gen(function*() {
      const store = Path.join(yield* tempDir, "esms.sqlite")
      const report = Either.getOrThrow(DeliveryReport.fromQueryString(
        new URLSearchParams({
          SMSID: "sms-hostile-1",
          SendStatus: "5",
          SendFailed: "1",
          RequestId: `req\u001b[2J`,
          error_info: JSON.stringify({ error: -999, message: ATTACK })
        })
      ))
      yield* Effect.flatMap(DeliveryReports.DeliveryReports, (reports) => reports.record(report)).pipe(
        Effect.provide(DeliveryReports.layerSqlite(store)),
        Effect.orDie
      )
      const human = yield* esms(["status", "sms-hostile-1", "--store", store], {})
      assert.strictEqual(human.exitCode, 0)
      assert.match(
        human.stdout[0],
        /^failed: {2}Accepted — SMSID fakeevil \(-999\) — SMSID sms-hostile-1, RequestId req \(/
      )
      assert.notMatch(human.stdout.join("\n"), CONTROLS)
      const json = yield* esms(["status", "sms-hostile-1", "--store", store, "--json"], {})
      assert.notMatch(json.stdout[0], CONTROLS)
      assert.include(JSON.parse(json.stdout[0]).text, "\u001b]0;pwned\u0007")
    }))
})

describe("callbacks serve's line per report", () => {
  it("a callback carrying escapes prints as text", () => {
    const report = Either.getOrThrow(DeliveryReport.fromQueryString(
      new URLSearchParams({
        SMSID: "sms-hostile-2",
        SendStatus: "5",
        SendFailed: "1",
        RequestId: `req\u001b]0;x\u0007-2`,
        error_info: JSON.stringify({ error: -999, message: ATTACK })
      })
    ))
    const line = CallbacksCommand.reportLine(report)
    assert.strictEqual(
      line,
      "callback received: failed:  Accepted — SMSID fakeevil (-999) — SMSID sms-hostile-2, RequestId req-2"
    )
    assert.notMatch(line, CONTROLS)
  })
})

describe("keys echoed back by the status API never print", () => {
  it.scoped("esms status with keys holding ! * ' ( ): the query string echoed raw, form-encoded and decoded", () =>
    Effect.gen(function*() {
      const keys = { ESMS_API_KEY: "AK!STATUS*'(SECRET)", ESMS_SECRET_KEY: "SK(STATUS)!*'" }
      const { baseUrl } = yield* server((url, res) => {
        const query = url.slice(url.indexOf("?") + 1)
        const decoded = new URLSearchParams(query)
        answer(
          res,
          500,
          `${query} | ${decodeURIComponent(query)} | ${decoded.get("ApiKey")} ${decoded.get("SecretKey")} | ` +
            encodeURIComponent(decoded.get("ApiKey") ?? ""),
          "text/plain"
        )
      })
      for (const json of [false, true]) {
        const result = yield* esms(["status", "sms-1", ...(json ? ["--json"] : [])], {
          ...keys,
          ESMS_BASE_URL: baseUrl,
          ESMS_STORE: Path.join(yield* tempDir, "none.sqlite")
        })
        assert.strictEqual(result.exitCode, 4)
        const printed = [...result.stdout, ...result.stderr].join("\n")
        assert.include(printed, "<redacted>")
        for (const key of Object.values(keys)) {
          for (const spelling of [key, encodeURIComponent(key), new URLSearchParams({ k: key }).toString().slice(2)]) {
            assert.notInclude(printed, spelling)
          }
        }
      }
    }))
})
