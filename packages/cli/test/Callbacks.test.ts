/**
 * End to end over loopback HTTP, no test double in between: `esms callbacks serve` runs, `esms zalo
 * send-image --callback` sends through the simulator with the receiver's URL, the simulator's callback
 * lands in the receiver, and `esms status` reads it from the store.
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { describe, expect, it } from "@effect/vitest"
import { Simulator } from "@esms-effect/simulator"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as Cli from "../src/Cli.js"
import { run } from "./CliRunner.js"
import * as TestConsole from "./TestConsole.js"

const account = Simulator.defaultAccount
const plain = (value: string | Redacted.Redacted<string>) => Redacted.isRedacted(value) ? Redacted.value(value) : value

const tempDir = Effect.acquireRelease(
  Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "esms-cli-callbacks-"))),
  (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
)

const send = ["zalo", "send-image", "--text", "Xin chào 👋", "--image-url", "<simulator photo>"]

const setup = Effect.gen(function*() {
  const simulator = yield* Simulator.Simulator
  const store = Path.join(yield* tempDir, "esms.sqlite")
  const env = (extra: Record<string, string> = {}) => ({
    ESMS_API_KEY: plain(account.apiKey),
    ESMS_SECRET_KEY: plain(account.secretKey),
    ESMS_OAID: account.oaids[0].oaid,
    ESMS_BASE_URL: simulator.baseUrl,
    ESMS_STORE: store,
    ...extra
  })
  // The photo is the simulator's real JPEG: it is checked before each send, over loopback.
  const esms = (args: ReadonlyArray<string>, extra: Record<string, string> = {}) =>
    run(args.map((arg) => arg === "<simulator photo>" ? simulator.imageUrl("jpeg") : arg), {
      env: env(extra),
      http: NodeHttpClient.layerUndici
    })

  // `esms --log-level debug callbacks serve --port 0`, running until the test's scope closes.
  const { captured, console } = TestConsole.make()
  yield* Cli.main(["node", "esms", "--log-level", "debug", "callbacks", "serve", "--port", "0"]).pipe(
    Effect.provide(Layer.mergeAll(NodeContext.layer, NodeHttpClient.layerUndici)),
    Effect.withConsole(console),
    Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env())))),
    Effect.forkScoped
  )
  const exportLine = yield* Effect.suspend(() =>
    captured.stdout.length > 0 ? Effect.succeed(captured.stdout[0]) : Effect.fail("not yet")
  ).pipe(Effect.retry(Schedule.spaced("20 millis").pipe(Schedule.upTo("5 seconds"))))
  const url = exportLine.replace(/^export ESMS_CALLBACK_URL=/, "")
  return { simulator, esms, url, exportLine, serverOutput: captured, store }
})

const Env = Simulator.layer({ callbackDelay: "20 millis", tps: 1000 })

describe("esms callbacks serve → send-image --callback → esms status", () => {
  it.scopedLive(
    "delivered, and failed: user has not followed the OA, for the failing recipient",
    () =>
      Effect.gen(function*() {
        const { esms, exportLine, serverOutput, simulator, store, url } = yield* setup
        expect(exportLine).toMatch(/^export ESMS_CALLBACK_URL=http:\/\/127\.0\.0\.1:\d+\/esms\/callback\/[\w-]{43}$/)
        const token = url.split("/").pop()!

        const ok = yield* esms([...send, "--user-id", "5308693166941955879", "--callback", "--json"], {
          ESMS_CALLBACK_URL: url
        })
        expect(ok.exitCode).toBe(0)
        const { smsId } = JSON.parse(ok.stdout[0])
        const ko = yield* esms(
          [...send, "--user-id", "9000000000000000213", "--callback", "--request-id", "e2e-ko"],
          { ESMS_CALLBACK_URL: url }
        )
        expect(ko.exitCode).toBe(0)

        const callbacks = yield* simulator.awaitCallbacks(2)
        expect(callbacks.map((c) => c.outcome)).toEqual([
          { _tag: "Answered", status: 200 },
          { _tag: "Answered", status: 200 }
        ])
        expect(callbacks.every((c) => c.url.startsWith(url))).toBe(true)

        // The keys are not needed: the store answers.
        const noKeys = { ESMS_API_KEY: "", ESMS_SECRET_KEY: "" }
        const delivered = yield* esms(["status", smsId], noKeys)
        expect(delivered.exitCode).toBe(0)
        expect(delivered.stdout[0]).toMatch(
          new RegExp(`^delivered — SMSID ${smsId}, RequestId esms-[\\w-]+ \\(callback received `)
        )

        const failed = yield* esms(["status", "e2e-ko"], noKeys)
        expect(failed.exitCode).toBe(0)
        expect(failed.stdout[0]).toMatch(
          /^failed: user has not followed the OA \(-213\) — SMSID [0-9a-f]{32}, RequestId e2e-ko/
        )

        const json = yield* esms(["status", "e2e-ko", "--json"], noKeys)
        expect(JSON.parse(json.stdout[0])).toMatchObject({
          status: "known",
          state: "failed",
          text: "failed: user has not followed the OA (-213)",
          requestId: "e2e-ko",
          source: "callback",
          zaloError: -213
        })

        // One line per stored report on stderr, as `esms status` words it (sorted: delivered, then failed).
        const reportLines = serverOutput.stderr.filter((line) => line.startsWith("callback received: "))
        expect(reportLines.sort()).toEqual([
          expect.stringMatching(new RegExp(`^callback received: delivered — SMSID ${smsId}, RequestId esms-[\\w-]+$`)),
          expect.stringMatching(
            /^callback received: failed: user has not followed the OA \(-213\) — SMSID [0-9a-f]{32}, RequestId e2e-ko$/
          )
        ])

        // The URL went to stdout once; the token is in no log line (the server ran at debug).
        expect(serverOutput.stdout).toEqual([exportLine])
        expect(serverOutput.stderr.join("\n")).toContain("callback stored")
        expect(serverOutput.stderr.join("\n")).not.toContain(token)
        expect([...ok.stderr, ...ko.stderr].join("\n")).not.toContain(token)
        expect(Fs.existsSync(store)).toBe(true)
      }).pipe(Effect.provide(Env), Logger.withMinimumLogLevel(LogLevel.Info)),
    { timeout: 20_000 }
  )

  it.scopedLive("no report stored: status asks GetSendStatus; an unknown id is exit 3", () =>
    Effect.gen(function*() {
      const { esms, simulator } = yield* setup
      const sent = yield* esms([...send, "--user-id", "5308693166941955879", "--json"])
      const { smsId } = JSON.parse(sent.stdout[0])
      yield* simulator.waitUntil((s) => s.messages.every((m) => m.status !== "Pending"))
      const status = yield* esms(["status", smsId])
      expect(status.exitCode).toBe(0)
      expect(status.stdout[0]).toBe(`delivered — SMSID ${smsId} (asked eSMS (GetSendStatus))`)
      const unknown = yield* esms(["status", "no-such-id"])
      expect(unknown.exitCode).toBe(3)
      expect(unknown.stderr.join("\n")).toMatch(/^unknown — no delivery report is stored for no-such-id/)
      for (const r of [status, unknown]) {
        expect([...r.stdout, ...r.stderr].join("\n")).not.toContain(plain(account.secretKey))
      }
    }).pipe(Effect.provide(Env)), { timeout: 20_000 })

  it.scopedLive(
    "status needs the keys but no ESMS_OAID: GetSendStatus answers with the OAID unset",
    () =>
      Effect.gen(function*() {
        const { esms, simulator } = yield* setup
        const sent = yield* esms([...send, "--user-id", "5308693166941955879", "--json"])
        const { smsId } = JSON.parse(sent.stdout[0])
        yield* simulator.waitUntil((s) => s.messages.every((m) => m.status !== "Pending"))
        const status = yield* esms(["status", smsId, "--json"], { ESMS_OAID: "" })
        expect(status.exitCode).toBe(0)
        expect(JSON.parse(status.stdout[0])).toMatchObject({
          status: "known",
          state: "delivered",
          source: "GetSendStatus"
        })
        // Without the keys it is a user mistake naming each missing variable once.
        const noKeys = yield* run(["status", smsId, "--json"], {
          env: { ESMS_BASE_URL: simulator.baseUrl, ESMS_STORE: Path.join(yield* tempDir, "none.sqlite") },
          http: NodeHttpClient.layerUndici
        })
        expect(noKeys.exitCode).toBe(2)
        const fields = JSON.parse(noKeys.stdout[0]).errors.map((e: { field: string }) => e.field)
        expect(fields).toEqual(["ESMS_API_KEY", "ESMS_SECRET_KEY"])
      }).pipe(Effect.provide(Env)),
    { timeout: 20_000 }
  )

  it.scopedLive("a callback carrying escape sequences: neither the report line nor the debug log prints them", () =>
    Effect.gen(function*() {
      const { serverOutput, url } = yield* setup
      const query = "SMSID=sms-esc-1&SendStatus=5&SendSuccess=1&RequestId=r%1B%5D0%3Bpwned%07%1B%5B2J-1"
      const answer = yield* Effect.promise(() => fetch(`${url}?${query}`))
      expect(answer.status).toBe(200)
      const printed = serverOutput.stderr.join("\n")
      expect(printed).toContain("callback received: delivered — SMSID sms-esc-1, RequestId r-1")
      expect(printed).toContain("callback stored")
      // eslint-disable-next-line no-control-regex
      expect(printed).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/)
    }).pipe(Effect.provide(Env)))

  it.scopedLive("--callback without ESMS_CALLBACK_URL, or with --callback-url: exit 2, nothing sent", () =>
    Effect.gen(function*() {
      const { esms, simulator, url } = yield* setup
      const missing = yield* esms([...send, "--user-id", "1", "--callback", "--json"])
      expect(missing.exitCode).toBe(2)
      expect(JSON.parse(missing.stdout[0]).errors[0].field).toBe("ESMS_CALLBACK_URL")
      const both = yield* esms([...send, "--user-id", "1", "--callback", "--callback-url", "https://x.vn/cb"], {
        ESMS_CALLBACK_URL: url
      })
      expect(both.exitCode).toBe(2)
      expect(both.stderr.join("\n")).toContain("--callback cannot be combined with --callback-url")
      expect(yield* simulator.messages).toEqual([])
    }).pipe(Effect.provide(Env)))

  it.effect("a bad ESMS_CALLBACK_TOKEN or --public-url, or no keys and nothing stored: exit 2, each problem named once", () =>
    Effect.gen(function*() {
      const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "esms-cli-usage-"))
      const serve = yield* run(["callbacks", "serve", "--port", "0"], {
        env: { ESMS_CALLBACK_TOKEN: "short", ESMS_STORE: Path.join(dir, "s.sqlite") }
      })
      expect(serve.exitCode).toBe(2)
      expect(serve.stderr.join("\n")).toContain("ESMS_CALLBACK_TOKEN must be at least 16 characters")
      const publicUrl = yield* run(["callbacks", "serve", "--port", "0", "--public-url", "hooks.example.vn"], {
        env: { ESMS_STORE: Path.join(dir, "s.sqlite") }
      })
      expect(publicUrl.exitCode).toBe(2)
      expect(publicUrl.stderr.join("\n")).toContain("--public-url must be an absolute http(s) URL")
      const status = yield* run(["status", "abc"], { env: { ESMS_STORE: Path.join(dir, "none.sqlite") } })
      expect(status.exitCode).toBe(2)
      const lines = status.stderr.join("\n").split("\n").filter((l) => l.includes("ESMS_API_KEY"))
      expect(lines).toHaveLength(1)
      // Nothing stored and nothing created.
      expect(Fs.readdirSync(dir)).toEqual([])
      Fs.rmSync(dir, { recursive: true, force: true })
    }))
})
