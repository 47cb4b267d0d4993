/**
 * `esms zalo send-batch` in-process against the simulator over loopback HTTP: files as operators
 * write them, the journal on disk, and what the simulator counted.
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { assert, layer } from "@effect/vitest"
import { Fault, Simulator } from "@esms-effect/simulator"
import { Journal } from "@esms-effect/store"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { run } from "./CliRunner.js"

const account = Simulator.defaultAccount
const plain = (value: string | Redacted.Redacted<string>) => Redacted.isRedacted(value) ? Redacted.value(value) : value

const envFor = (simulator: Simulator.Service, extra: Record<string, string> = {}) => ({
  ESMS_API_KEY: plain(account.apiKey),
  ESMS_SECRET_KEY: plain(account.secretKey),
  ESMS_OAID: account.oaids[0].oaid,
  ESMS_BASE_URL: simulator.baseUrl,
  ...extra
})

const esms = (args: ReadonlyArray<string>, extra: Record<string, string> = {}) =>
  Effect.flatMap(
    Simulator.Simulator,
    (simulator) => run(args, { env: envFor(simulator, extra), http: NodeHttpClient.layerUndici })
  )

const tempDir = Effect.acquireRelease(
  Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "esms-batch-"))),
  (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
)

const writeFile = (dir: string, name: string, content: string) =>
  Effect.sync(() => {
    const file = Path.join(dir, name)
    Fs.writeFileSync(file, content)
    return file
  })

// The simulator's real PNG (checked by default, over loopback); set by `fresh`, once the port is known.
let photo = ""
const user = (i: number) => `53086931669419${String(i).padStart(5, "0")}`

const csv = (rows: ReadonlyArray<string>) => ["user_id,text,image_url,callback_url,request_id", ...rows].join("\r\n")

const journalOf = <A>(file: string, use: (journal: Journal.Service) => Effect.Effect<A, unknown>) =>
  Effect.orDie(Effect.flatMap(Journal.Journal, use).pipe(Effect.provide(Journal.layerSqlite(file))))

const reportOf = (file: string) =>
  Fs.readFileSync(file, "utf8").trim().split("\n").map((line) => JSON.parse(line)).sort((a, b) => a.line - b.line)

const fresh = Effect.flatMap(Simulator.Simulator, (s) => {
  photo = s.imageUrl("png")
  return s.reset
})

layer(Simulator.layer({ tps: 1000, callbackDelay: "1 hour" }), { timeout: "60 seconds", excludeTestServices: true })(
  "esms zalo send-batch",
  (it) => {
    it.scoped("a mixed file: good rows accepted, bad rows reported and skipped, rejected rows named; exit 3", () =>
      Effect.gen(function*() {
        yield* fresh
        const simulator = yield* Simulator.Simulator
        const dir = yield* tempDir
        // "taken" was used by an earlier send: eSMS rejects a repeat (124).
        yield* esms([
          "zalo",
          "send-image",
          "--user-id",
          user(99),
          "--text",
          "hi",
          "--image-url",
          photo,
          "--request-id",
          "taken"
        ])
        const file = yield* writeFile(
          dir,
          "campaign.csv",
          "\uFEFF" + csv([
            `${user(1)},"Xin chào, bạn ""Lan""",${photo},,`,
            `${user(2)},"Hai dòng\r\nmột ảnh",${photo},,`,
            `${user(3)} x,hello,https://cdn.example.vn/p/photo.gif,,`,
            `${user(4)},hello,${photo},,taken`,
            `${user(5)},,${photo},,`,
            `${user(6)},hello,${photo},https://shop.example.vn/cb,own-6`
          ])
        )
        const report = Path.join(dir, "report.jsonl")
        const result = yield* esms(["zalo", "send-batch", file, "--report", report, "--json", "--rate", "1000"])
        assert.strictEqual(result.exitCode, 3, result.stderr.join("\n"))
        const summary = JSON.parse(result.stdout[0])
        assert.deepInclude(summary, {
          status: "done",
          rows: 6,
          accepted: 3,
          deduplicated: 0,
          rejected: { DuplicateRequestId: 1 },
          failed: {},
          invalid: 2,
          exitCode: 3
        })
        // Line numbers are the file's: the quoted line break makes row 3 start on line 3 and end on 4.
        assert.deepStrictEqual(summary.invalidRows, [
          {
            line: 5,
            errors: [{ field: "user_id", message: "must not contain spaces" }, {
              field: "image_url",
              message: "must be a .jpg, .jpeg or .png image (or a URL without an extension), not .gif"
            }]
          },
          { line: 7, errors: [{ field: "text", message: "is required" }] }
        ])
        const lines = reportOf(report)
        assert.deepStrictEqual(lines.map((l) => [l.line, l.status]), [
          [2, "accepted"],
          [3, "accepted"],
          [5, "invalid"],
          [6, "rejected"],
          [7, "invalid"],
          [8, "accepted"]
        ])
        assert.strictEqual(lines[3].tag, "DuplicateRequestId")
        const messages = (yield* simulator.messages).filter((m) => m.requestId !== "taken")
        assert.deepStrictEqual(messages.map((m) => m.text).sort(), [
          "Hai dòng\r\nmột ảnh",
          "Xin chào, bạn \"Lan\"",
          "hello"
        ])
        assert.strictEqual(messages.find((m) => m.requestId === "own-6")?.callbackUrl, "https://shop.example.vn/cb")
        // The journal sits next to the file and holds each row's RequestId and state.
        const counts = yield* journalOf(`${file}.journal.sqlite`, (j) => j.counts)
        assert.deepInclude(counts, { accepted: 3, rejected: 1, invalid: 2, in_flight: 0 })
      }))

    it.scoped("--dry-run lists each bad row by line and field, sends nothing, exits 2 (0 when all are good)", () =>
      Effect.gen(function*() {
        yield* fresh
        const simulator = yield* Simulator.Simulator
        const dir = yield* tempDir
        const bad = yield* writeFile(
          dir,
          "rows.jsonl",
          [
            JSON.stringify({ user_id: user(1), text: "ok", image_url: photo }),
            "",
            JSON.stringify({ user_id: user(2), text: "ok", image_url: "ftp://x/p.png" }),
            "{not json",
            JSON.stringify({ user_id: 5308693166941955000, text: "ok", image_url: photo })
          ].join("\n")
        )
        const result = yield* esms(["zalo", "send-batch", bad, "--dry-run"])
        assert.strictEqual(result.exitCode, 2)
        assert.deepStrictEqual(result.stderr, [
          "line 3: image_url must be an absolute http:// or https:// URL",
          "line 4: row is not valid JSON",
          "line 5: user_id must be a string"
        ])
        assert.strictEqual(result.stdout[0], "4 rows: 1 valid, 3 invalid — nothing was sent.")
        const good = yield* writeFile(dir, "good.csv", csv([`${user(1)},ok,${photo},,`]))
        assert.strictEqual((yield* esms(["zalo", "send-batch", good, "--dry-run"])).exitCode, 0)
        assert.strictEqual((yield* simulator.attempts).length, 0)
        assert.isFalse(Fs.existsSync(`${good}.journal.sqlite`))
      }))

    it.scoped("a file that cannot be read at all, or a report that cannot be written: exit 2, nothing sent", () =>
      Effect.gen(function*() {
        yield* fresh
        const simulator = yield* Simulator.Simulator
        const dir = yield* tempDir
        const missing = yield* esms(["zalo", "send-batch", Path.join(dir, "nope.csv"), "--json"])
        assert.strictEqual(missing.exitCode, 2)
        assert.match(JSON.parse(missing.stdout[0]).errors[0].message, /ENOENT/)
        const noHeader = yield* writeFile(dir, "h.csv", `user_id,message\n${user(1)},hi\n`)
        const header = yield* esms(["zalo", "send-batch", noHeader])
        assert.strictEqual(header.exitCode, 2)
        assert.match(header.stderr.join("\n"), /lacks text, image_url/)
        // An unclosed quote far down: found by the first pass, before any row is sent.
        const broken = yield* writeFile(dir, "q.csv", csv([`${user(1)},ok,${photo},,`, `${user(2)},"open,${photo},,`]))
        const quote = yield* esms(["zalo", "send-batch", broken])
        assert.strictEqual(quote.exitCode, 2)
        assert.match(quote.stderr.join("\n"), /Quote Not Closed/)
        const good = yield* writeFile(dir, "g.csv", csv([`${user(1)},ok,${photo},,`]))
        const report = yield* esms(["zalo", "send-batch", good, "--report", Path.join(dir, "no", "such", "r.jsonl")])
        assert.strictEqual(report.exitCode, 2)
        assert.match(report.stderr.join("\n"), /--report .*ENOENT/)
        assert.strictEqual((yield* simulator.attempts).length, 0)
      }))

    it.scoped("resume: accepted rows skipped; a failed row waits for --retry-failed, then goes with its RequestId", () =>
      Effect.gen(function*() {
        yield* fresh
        const simulator = yield* Simulator.Simulator
        const dir = yield* tempDir
        const file = yield* writeFile(dir, "c.csv", csv([1, 2, 3].map((i) => `${user(i)},hi ${i},${photo},,`)))
        // The first request is taken by eSMS but its answer is lost; with one attempt the row fails.
        yield* simulator.injectFault(Fault.drop({ processed: true }))
        const args = ["zalo", "send-batch", file, "--concurrency", "1", "--json"]
        const first = yield* esms(args, { ESMS_MAX_ATTEMPTS: "1" })
        assert.strictEqual(first.exitCode, 4)
        assert.deepInclude(JSON.parse(first.stdout[0]), { accepted: 2, failed: { ConnectionLost: 1 } })
        const failed = yield* journalOf(`${file}.journal.sqlite`, (j) => j.inState("failed"))
        assert.strictEqual(failed.length, 1)

        const again = yield* esms(args)
        assert.strictEqual(again.exitCode, 4)
        assert.deepInclude(JSON.parse(again.stdout[0]), {
          accepted: 2,
          acceptedEarlier: 2,
          failed: { ConnectionLost: 1 }
        })
        assert.strictEqual(JSON.parse(again.stdout[0]).notRetried, 1)
        // Said, not silent: how many rows were left as they were, and how to send them.
        const human = yield* esms(["zalo", "send-batch", file, "--concurrency", "1"])
        assert.include(
          human.stdout.join("\n"),
          "1 row failed or rejected by an earlier run was not sent again; --retry-failed sends it (same RequestId)."
        )
        assert.strictEqual((yield* simulator.attempts).length, 3, "nothing sent without --retry-failed")

        const retried = yield* esms([...args, "--retry-failed"])
        assert.strictEqual(retried.exitCode, 0)
        assert.deepInclude(JSON.parse(retried.stdout[0]), { accepted: 2, deduplicated: 1, failed: {} })
        // eSMS had it all along: the same RequestId came back 124, and there is still one message per row.
        assert.strictEqual(yield* simulator.acceptedCount(failed[0].requestId), 1)
        assert.strictEqual((yield* simulator.messages).length, 3)
      }))

    it.scoped("a file edited after a run (a sent line now holds another message): exit 2 before any send", () =>
      Effect.gen(function*() {
        yield* fresh
        const simulator = yield* Simulator.Simulator
        const dir = yield* tempDir
        const file = yield* writeFile(dir, "e.csv", csv([`${user(1)},hi,${photo},,`, `${user(2)},hi,${photo},,`]))
        assert.strictEqual((yield* esms(["zalo", "send-batch", file])).exitCode, 0)
        // A row inserted at the top: line 2 is now someone else, under line 2's RequestId.
        yield* writeFile(
          dir,
          "e.csv",
          csv([`${user(3)},hi,${photo},,`, `${user(1)},hi,${photo},,`, `${user(2)},hi,${photo},,`])
        )
        const result = yield* esms(["zalo", "send-batch", file, "--json"])
        assert.strictEqual(result.exitCode, 2)
        assert.match(JSON.parse(result.stdout[0]).errors[0].message, /^line 2 of .* is not what was sent from it/)
        assert.strictEqual((yield* simulator.attempts).length, 2)
      }))

    it.scoped("--rate: the simulator never counts more sends than the rate in any second", () =>
      Effect.gen(function*() {
        yield* fresh
        const simulator = yield* Simulator.Simulator
        const dir = yield* tempDir
        const rows = Array.from({ length: 15 }, (_, i) => `${user(i)},hi,${photo},,`)
        const file = yield* writeFile(dir, "r.csv", csv(rows))
        const start = Date.now()
        const result = yield* esms(["zalo", "send-batch", file, "--rate", "6", "--concurrency", "8"])
        assert.strictEqual(result.exitCode, 0)
        assert.isAtLeast(Date.now() - start, 2000, "15 sends at 6 per second take more than 2 seconds")
        const at = (yield* simulator.attempts).map((a) => a.at).sort((a, b) => a - b)
        assert.strictEqual(at.length, 15)
        const busiest = Math.max(...at.map((t) => at.filter((u) => u >= t && u < t + 1000).length))
        // Starts are evenly spaced; arrivals can bunch by one through network jitter, not more.
        assert.isAtMost(busiest, 7)
      }))

    it.scoped("--callback: rows without a callback_url report to the receiver's URL; a row's own URL wins", () =>
      Effect.gen(function*() {
        yield* fresh
        const simulator = yield* Simulator.Simulator
        const dir = yield* tempDir
        const receiver = "https://hooks.example.vn/esms/callback/0123456789abcdef0123"
        const file = yield* writeFile(
          dir,
          "callback.csv",
          csv([
            `${user(1)},one,${photo},,cb-1`,
            `${user(2)},two,${photo},https://own.example.vn/hook,cb-2`
          ])
        )
        const missing = yield* esms(["zalo", "send-batch", file, "--callback", "--json"])
        assert.strictEqual(missing.exitCode, 2)
        assert.strictEqual((yield* simulator.messages).length, 0)
        const result = yield* esms(["zalo", "send-batch", file, "--callback", "--json"], {
          ESMS_CALLBACK_URL: receiver
        })
        assert.strictEqual(result.exitCode, 0)
        const byRequestId = new Map((yield* simulator.messages).map((m) => [m.requestId, m.callbackUrl]))
        assert.deepStrictEqual(Object.fromEntries(byRequestId), {
          "cb-1": receiver,
          "cb-2": "https://own.example.vn/hook"
        })
      }))

    it.scoped("a request_id repeated within the file is a bad row: --dry-run lists it, a run does not send it", () =>
      Effect.gen(function*() {
        yield* fresh
        const simulator = yield* Simulator.Simulator
        const dir = yield* tempDir
        const file = yield* writeFile(
          dir,
          "c.csv",
          csv([
            `${user(1)},hi 1,${photo},,promo-7`,
            `${user(2)},hi 2,${photo},,promo-8`,
            `${user(3)},hi 3,${photo},,promo-7`
          ])
        )
        const dry = yield* esms(["zalo", "send-batch", file, "--dry-run", "--json"])
        assert.strictEqual(dry.exitCode, 2)
        assert.deepInclude(JSON.parse(dry.stdout[0]), { rows: 3, valid: 2, invalid: 1 })
        assert.strictEqual(JSON.parse(dry.stdout[0]).invalidRows[0].line, 4)
        assert.strictEqual(JSON.parse(dry.stdout[0]).invalidRows[0].errors[0].field, "request_id")
        assert.match(JSON.parse(dry.stdout[0]).invalidRows[0].errors[0].message, /repeats the request_id of line 2/)

        const report = Path.join(dir, "r.jsonl")
        const result = yield* esms(["zalo", "send-batch", file, "--json", "--report", report])
        const summary = JSON.parse(result.stdout[0])
        assert.deepInclude(summary, { accepted: 2, deduplicated: 0, invalid: 1 })
        assert.deepEqual(reportOf(report).map((r) => [r.line, r.status]), [[2, "accepted"], [3, "accepted"], [
          4,
          "invalid"
        ]])
        const messages = yield* simulator.messages
        assert.deepEqual(messages.map((m) => m.userId).sort(), [user(1), user(2)])
      }))

    it.scoped("a one-row file says \"1 row\"", () =>
      Effect.gen(function*() {
        yield* fresh
        const dir = yield* tempDir
        const file = yield* writeFile(dir, "c.csv", csv([`${user(1)},hi,${photo},,`]))
        const dry = yield* esms(["zalo", "send-batch", file, "--dry-run"])
        assert.strictEqual(dry.stdout[0], "1 row: 1 valid, 0 invalid — nothing was sent.")
        const result = yield* esms(["zalo", "send-batch", file])
        assert.strictEqual(result.stdout[0].split("\n")[0], "1 row")
      }))
  }
)
