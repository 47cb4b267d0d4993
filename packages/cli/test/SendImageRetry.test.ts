/**
 * The CLI's own advice after an unreadable answer — "Safe to retry with --request-id X" — followed to
 * the letter against the simulator: the same message retried with X is accepted (eSMS de-duplicates);
 * X reused for another message is still a rejection.
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { assert, layer } from "@effect/vitest"
import { Fault, Simulator } from "@esms-effect/simulator"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { run } from "./CliRunner.js"

const account = Simulator.defaultAccount
const plain = (value: string | Redacted.Redacted<string>) => Redacted.isRedacted(value) ? Redacted.value(value) : value

const storeDir = Effect.acquireRelease(
  Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "esms-retry-"))),
  (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
)

const sendImage = (text: string, extra: ReadonlyArray<string>, store: string) =>
  Effect.flatMap(Simulator.Simulator, (simulator) =>
    run([
      "zalo",
      "send-image",
      "--no-check-image",
      "--user-id",
      "5308693166941955879",
      "--text",
      text,
      "--image-url",
      "https://cdn.example.vn/p/photo.png",
      ...extra
    ], {
      env: {
        ESMS_API_KEY: plain(account.apiKey),
        ESMS_SECRET_KEY: plain(account.secretKey),
        ESMS_OAID: account.oaids[0].oaid,
        ESMS_BASE_URL: simulator.baseUrl,
        ESMS_MAX_ATTEMPTS: "1",
        ESMS_STORE: store
      },
      http: NodeHttpClient.layerUndici
    }))

const unreadable = {
  "truncated JSON": () => Fault.httpError({ status: 200, body: "{\"CodeResult\":\"10", processed: true }),
  "an HTML 200": () => Fault.html({ status: 200, processed: true }),
  "a hang past the deadline": () => Fault.delay(3000)
} as const

layer(Simulator.layer({ tps: 1000, callbackDelay: "1 hour" }), { timeout: "60 seconds", excludeTestServices: true })(
  "send-image: Safe to retry with --request-id",
  (it) => {
    for (const [what, fault] of Object.entries(unreadable)) {
      it.scoped(`after ${what}: the same message retried is accepted (de-duplicated), another one rejected`, () =>
        Effect.gen(function*() {
          const simulator = yield* Simulator.Simulator
          yield* simulator.reset
          const store = Path.join(yield* storeDir, "esms.sqlite")
          yield* simulator.injectFault(fault())
          const first = yield* sendImage("Xin chào", ["--deadline", "1"], store)
          assert.strictEqual(first.exitCode, 4)
          const advice = first.stderr.join("\n").match(/Safe to retry with --request-id (\S+)/)
          assert.isNotNull(advice)
          const requestId = advice![1]
          assert.strictEqual((yield* simulator.messages).length, 1, "eSMS took it")

          const retry = yield* sendImage("Xin chào", ["--request-id", requestId, "--json"], store)
          assert.strictEqual(retry.exitCode, 0, retry.stdout.join("\n"))
          assert.deepStrictEqual(JSON.parse(retry.stdout[0]), {
            status: "accepted",
            smsId: null,
            requestId,
            deduplicated: true
          })

          const reused = yield* sendImage("Another message", ["--request-id", requestId, "--json"], store)
          assert.strictEqual(reused.exitCode, 3)
          const rejected = JSON.parse(reused.stdout[0])
          assert.deepInclude(rejected, { status: "rejected", tag: "DuplicateRequestId", requestId })
          assert.match(rejected.message, /this RequestId carried another message/)
          assert.strictEqual((yield* simulator.messages).length, 1, "one message all along")
          assert.strictEqual((Fs.statSync(store).mode & 0o777).toString(8), "600")
        }))
    }
  }
)
