/**
 * `esms zalo send-batch` checks the photos in its checking pass, against the simulator's images over
 * loopback: bad photos reported by line (also under --dry-run), each distinct URL fetched once per run.
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { assert, layer } from "@effect/vitest"
import { Images, Simulator } from "@esms-effect/simulator"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { run } from "./CliRunner.js"

const account = Simulator.defaultAccount
const plain = (value: string | Redacted.Redacted<string>) => Redacted.isRedacted(value) ? Redacted.value(value) : value

const esms = (args: ReadonlyArray<string>) =>
  Effect.flatMap(Simulator.Simulator, (simulator) =>
    run(args, {
      env: {
        ESMS_API_KEY: plain(account.apiKey),
        ESMS_SECRET_KEY: plain(account.secretKey),
        ESMS_OAID: account.oaids[0].oaid,
        ESMS_BASE_URL: simulator.baseUrl
      },
      http: NodeHttpClient.layerUndici
    }))

const tempDir = Effect.acquireRelease(
  Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "esms-batch-images-"))),
  (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
)

const user = (i: number) => `53086931669419${String(i).padStart(5, "0")}`

const sends = Effect.map(
  Effect.flatMap(Simulator.Simulator, (s) => s.attempts),
  (attempts) => attempts.filter((a) => a.endpoint === "SendZaloFollowerMessage").length
)

// Rows 2..: good PNG, too large, HTML named .png, 404, extension-less JPEG, then the same four again.
const campaign = (dir: string, simulator: Simulator.Service) => {
  const names: ReadonlyArray<Images.Name> = ["png", "large", "html", "missing", "extensionless"]
  const rows = [...names, ...names].map((name, i) => `${user(i)},hi ${i},${simulator.imageUrl(name)}`)
  const file = Path.join(dir, "photos.csv")
  Fs.writeFileSync(file, ["user_id,text,image_url", ...rows].join("\n") + "\n")
  return file
}

const expectedInvalid = () => {
  const bad = (line: number, message: string) => ({ line, errors: [{ field: "image_url", message }] })
  const tooLarge = `is too large: eSMS takes at most 1 MB (1,048,576 bytes), it has ${
    (1_573_509).toLocaleString("en-US")
  } bytes`
  const html = "is not a JPEG or PNG image: it is an HTML page (served as text/html; charset=utf-8)"
  const missing = "could not be fetched: HTTP 404"
  return [bad(3, tooLarge), bad(4, html), bad(5, missing), bad(8, tooLarge), bad(9, html), bad(10, missing)]
}

layer(Simulator.layer({ tps: 1000, callbackDelay: "1 hour", slowImageDelay: "300 millis" }), {
  timeout: "60 seconds",
  excludeTestServices: true
})(
  "esms zalo send-batch photos",
  (it) => {
    it.scoped("--dry-run reports each bad photo by line and reason, fetches each URL once, sends nothing", () =>
      Effect.gen(function*() {
        const simulator = yield* Simulator.Simulator
        yield* simulator.reset
        const file = campaign(yield* tempDir, simulator)
        const result = yield* esms(["zalo", "send-batch", file, "--dry-run", "--json"])
        assert.strictEqual(result.exitCode, 2)
        const out = JSON.parse(result.stdout[0])
        assert.deepInclude(out, { status: "dry-run", rows: 10, valid: 4, invalid: 6 })
        assert.deepStrictEqual(out.invalidRows, expectedInvalid())
        assert.lengthOf(yield* simulator.imageRequests, 5)
        assert.strictEqual(yield* sends, 0)
        // Without --json, one line per bad row on stderr.
        const human = yield* esms(["zalo", "send-batch", file, "--dry-run"])
        assert.include(human.stderr, "line 5: image_url could not be fetched: HTTP 404")
        assert.include(human.stdout[0], "10 rows: 4 valid, 6 invalid — nothing was sent.")
      }))

    it.scoped("a run sends the rows whose photo is good, reports the others invalid; one fetch per URL in all", () =>
      Effect.gen(function*() {
        const simulator = yield* Simulator.Simulator
        yield* simulator.reset
        const dir = yield* tempDir
        const file = campaign(dir, simulator)
        const report = Path.join(dir, "report.jsonl")
        const result = yield* esms(["zalo", "send-batch", file, "--json", "--rate", "1000", "--report", report])
        assert.strictEqual(result.exitCode, 0, result.stderr.join("\n"))
        const summary = JSON.parse(result.stdout[0])
        assert.deepInclude(summary, { rows: 10, accepted: 4, invalid: 6 })
        assert.deepStrictEqual(summary.invalidRows, expectedInvalid())
        const lines = Fs.readFileSync(report, "utf8").trim().split("\n").map((l) => JSON.parse(l))
        const invalid = lines.filter((l) => l.status === "invalid").sort((a, b) => a.line - b.line)
        assert.deepStrictEqual(invalid.map((l) => ({ line: l.line, errors: l.errors })), expectedInvalid())
        // Both passes share the answers: 5 distinct URLs, 5 fetches, for 10 rows.
        assert.lengthOf(yield* simulator.imageRequests, 5)
        const messages = yield* simulator.messages
        assert.deepStrictEqual(
          messages.map((m) => new URL(m.imageUrl).pathname).sort(),
          [Images.paths.png, Images.paths.png, Images.paths.extensionless, Images.paths.extensionless].sort()
        )
      }))

    it.scoped("distinct photos are fetched 4 at a time", () =>
      Effect.gen(function*() {
        const simulator = yield* Simulator.Simulator
        yield* simulator.reset
        const dir = yield* tempDir
        // Eight distinct URLs of the slow photo (300 ms each here): two waves of four.
        const rows = Array.from({ length: 8 }, (_, i) => `${user(i)},hi,${simulator.imageUrl("slow")}?v=${i}`)
        const file = Path.join(dir, "slow.csv")
        Fs.writeFileSync(file, ["user_id,text,image_url", ...rows].join("\n") + "\n")
        const result = yield* esms(["zalo", "send-batch", file, "--dry-run", "--json"])
        assert.strictEqual(result.exitCode, 0, result.stdout.join("\n"))
        const arrivals = (yield* simulator.imageRequests).map((r) => r.at).sort((a, b) => a - b)
        assert.lengthOf(arrivals, 8)
        const inFlightAtMost = Math.max(...arrivals.map((t) => arrivals.filter((u) => u >= t && u < t + 250).length))
        assert.strictEqual(inFlightAtMost, 4)
      }))

    it.scoped("--no-check-image fetches nothing and sends every row", () =>
      Effect.gen(function*() {
        const simulator = yield* Simulator.Simulator
        yield* simulator.reset
        const file = campaign(yield* tempDir, simulator)
        const result = yield* esms(["zalo", "send-batch", file, "--json", "--rate", "1000", "--no-check-image"])
        assert.strictEqual(result.exitCode, 0, result.stderr.join("\n"))
        assert.deepInclude(JSON.parse(result.stdout[0]), { rows: 10, accepted: 10, invalid: 0 })
        assert.lengthOf(yield* simulator.imageRequests, 0)
        assert.strictEqual(yield* sends, 10)
      }))
  }
)
