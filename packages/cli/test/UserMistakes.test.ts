/**
 * The operator's own mistakes, through the built `esms` binary: exit 2, one clear line (or the JSON
 * object with --json), no stack trace, and no file left behind or destroyed. Needs the build first.
 */
import { assert, layer } from "@effect/vitest"
import { Simulator } from "@esms-effect/simulator"
import * as Effect from "effect/Effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { campaign, envFor, run, tempDir } from "./EsmsProcess.js"

const noStack = (stderr: string) => assert.notMatch(stderr, /\n\s+at |level=ERROR/, "no stack trace")

const userMistake = (exited: { code: number | null; stderr: string }) => {
  assert.strictEqual(exited.code, 2, exited.stderr)
  noStack(exited.stderr)
}

layer(Simulator.layer({ tps: 1000, callbackDelay: "1 hour" }), { timeout: "60 seconds", excludeTestServices: true })(
  "user mistakes exit 2",
  (it) => {
    it.scoped("--wizard without a terminal: exit 2 at once, no prompt waiting forever", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        const exited = yield* run(["--wizard"], {}, dir).pipe(Effect.timeout("20 seconds"))
        userMistake(exited)
        assert.include(exited.stderr, "--wizard asks its questions on a terminal")
      }))

    it.scoped("esms simulator with --tps below 1 or a negative --balance", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        for (
          const [args, message] of [
            [["--tps", "0"], "--tps must be at least 1"],
            [["--tps", "-1"], "--tps must be at least 1"],
            [["--balance", "-5"], "--balance must not be negative"]
          ] as const
        ) {
          const exited = yield* run(["simulator", "--port", "0", ...args], {}, dir).pipe(Effect.timeout("20 seconds"))
          userMistake(exited)
          assert.include(exited.stderr, message)
        }
      }))

    it.scoped("esms status with a blank id: exit 2, eSMS not asked", () =>
      Effect.gen(function*() {
        const simulator = yield* Simulator.Simulator
        const dir = yield* tempDir
        for (const blank of ["", "   "]) {
          const exited = yield* run(["status", blank], envFor(simulator.baseUrl), dir)
          userMistake(exited)
          assert.include(exited.stderr, "must not be blank")
        }
        assert.strictEqual((yield* simulator.attempts).length, 0, "eSMS not asked")
      }))

    it.scoped("a whole-number option given something else is named with its flag", () =>
      Effect.gen(function*() {
        const simulator = yield* Simulator.Simulator
        const dir = yield* tempDir
        const file = campaign(dir, 1)
        const cases: Array<[ReadonlyArray<string>, string]> = [
          [["zalo", "send-batch", file, "--rate", "abc"], "--rate"],
          [["zalo", "send-batch", file, "--concurrency", "1.5"], "--concurrency"],
          [["simulator", "--tps", "fast"], "--tps"],
          [["simulator", "--balance", "1e9"], "--balance"],
          [["callbacks", "serve", "--port", "http"], "--port"]
        ]
        for (const [args, flag] of cases) {
          const exited = yield* run(args, envFor(simulator.baseUrl), dir)
          userMistake(exited)
          assert.include(exited.stderr, `${flag} must be a whole number`, args.join(" "))
        }
        assert.strictEqual((yield* simulator.attempts).length, 0, "nothing sent")
      }))

    it.scoped("a --journal that is not a database, or a directory", () =>
      Effect.gen(function*() {
        const simulator = yield* Simulator.Simulator
        yield* simulator.reset
        const dir = yield* tempDir
        const file = campaign(dir, 2)
        const notDb = Path.join(dir, "notes.txt")
        Fs.writeFileSync(notDb, "these are my notes, not a journal\n".repeat(200))
        const a = yield* run(
          ["zalo", "send-batch", "--no-check-image", file, "--journal", notDb],
          envFor(simulator.baseUrl)
        )
        userMistake(a)
        assert.match(a.stderr, /--journal .*not a .*journal/)
        assert.strictEqual(Fs.readFileSync(notDb, "utf8"), "these are my notes, not a journal\n".repeat(200))
        const b = yield* run(
          ["zalo", "send-batch", "--no-check-image", file, "--journal", dir, "--json"],
          envFor(simulator.baseUrl)
        )
        userMistake(b)
        assert.deepInclude(JSON.parse(b.stdout).errors[0], { field: "--journal" })
        assert.strictEqual((yield* simulator.attempts).length, 0)
      }))

    it.scoped("a whitespace-only ESMS_API_KEY (send-batch and send-image, with --json an object)", () =>
      Effect.gen(function*() {
        const simulator = yield* Simulator.Simulator
        yield* simulator.reset
        const dir = yield* tempDir
        const file = campaign(dir, 2)
        const env = { ...envFor(simulator.baseUrl), ESMS_API_KEY: "   ", ESMS_STORE: Path.join(dir, "esms.sqlite") }
        const batch = yield* run(["zalo", "send-batch", "--no-check-image", file, "--json"], env)
        userMistake(batch)
        assert.deepInclude(JSON.parse(batch.stdout).errors[0], { field: "ESMS_API_KEY" })
        const image = yield* run([
          "zalo",
          "send-image",
          "--no-check-image",
          "--user-id",
          "5308693166941955879",
          "--text",
          "hi",
          "--image-url",
          "https://cdn.example.vn/p/a.png",
          "--json"
        ], env)
        userMistake(image)
        assert.deepInclude(JSON.parse(image.stdout).errors[0], { field: "ESMS_API_KEY" })
        const human = yield* run(["zalo", "send-batch", "--no-check-image", file], env)
        userMistake(human)
        assert.match(human.stderr, /ESMS_API_KEY/)
        assert.strictEqual((yield* simulator.attempts).length, 0)
      }))

    it.scoped("--port 70000 and --port -5 (callbacks serve, simulator)", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        for (const command of [["callbacks", "serve"], ["simulator"]]) {
          for (const port of ["70000", "-5"]) {
            const exited = yield* run([...command, "--port", port], { ESMS_STORE: Path.join(dir, "esms.sqlite") }, dir)
            userMistake(exited)
            assert.match(exited.stderr, /--port .*0 to 65535/)
          }
        }
        assert.isFalse(Fs.existsSync(Path.join(dir, "esms.sqlite")), "no store made by a usage error")
      }))

    it.scoped("a missing or empty input: exit 2, no empty journal left behind, the reason said once", () =>
      Effect.gen(function*() {
        const simulator = yield* Simulator.Simulator
        const dir = yield* tempDir
        const missing = Path.join(dir, "missing.csv")
        const a = yield* run(["zalo", "send-batch", "--no-check-image", missing], envFor(simulator.baseUrl))
        userMistake(a)
        assert.notMatch(a.stderr, /ENOENT: ENOENT/)
        assert.match(a.stderr, /no such file/)
        assert.isFalse(Fs.existsSync(`${missing}.journal.sqlite`), "no journal for a file that is not there")
        for (const name of ["empty.csv", "empty.jsonl"]) {
          const empty = Path.join(dir, name)
          Fs.writeFileSync(empty, "")
          const b = yield* run(["zalo", "send-batch", "--no-check-image", empty], envFor(simulator.baseUrl))
          userMistake(b)
          assert.match(b.stderr, /is empty/)
          assert.isFalse(Fs.existsSync(`${empty}.journal.sqlite`))
        }
      }))

    it.scoped("--report or --journal on the input, the journal or each other is refused; nothing destroyed", () =>
      Effect.gen(function*() {
        const simulator = yield* Simulator.Simulator
        yield* simulator.reset
        const dir = yield* tempDir
        const file = campaign(dir, 3)
        const journal = `${file}.journal.sqlite`
        const first = yield* run(["zalo", "send-batch", "--no-check-image", file], envFor(simulator.baseUrl))
        assert.strictEqual(first.code, 0)
        const input = Fs.readFileSync(file)
        const journalBytes = Fs.readFileSync(journal)
        Fs.symlinkSync(file, Path.join(dir, "link.csv"))
        const cases: ReadonlyArray<ReadonlyArray<string>> = [
          ["--report", file],
          ["--report", Path.join(dir, "link.csv")],
          ["--report", `${dir}/./sub/../campaign.csv`],
          ["--report", journal],
          ["--journal", file],
          ["--journal", Path.join(dir, "x.sqlite"), "--report", Path.join(dir, "x.sqlite")]
        ]
        for (const extra of cases) {
          const exited = yield* run(
            ["zalo", "send-batch", "--no-check-image", file, ...extra, "--json"],
            envFor(simulator.baseUrl)
          )
          userMistake(exited)
          const out = JSON.parse(exited.stdout)
          assert.oneOf(out.errors[0].field, ["--report", "--journal"], extra.join(" "))
          assert.match(out.errors[0].message, /is the same file as/)
        }
        assert.deepEqual(Fs.readFileSync(file), input, "the input is intact")
        assert.deepEqual(Fs.readFileSync(journal), journalBytes, "the journal is intact")
        assert.isFalse(Fs.existsSync(Path.join(dir, "x.sqlite")))
        assert.strictEqual((yield* simulator.messages).length, 3, "nothing sent again")
      }))

    it.scoped("a --report that is a link to a journal not made yet, or another run's journal, is refused", () =>
      Effect.gen(function*() {
        const simulator = yield* Simulator.Simulator
        yield* simulator.reset
        const dir = yield* tempDir
        const file = campaign(dir, 2)
        const journal = Path.join(dir, "new.sqlite")
        // Dangling links: to the journal this run is about to make (directly, through ../, two hops).
        Fs.symlinkSync("new.sqlite", Path.join(dir, "dangling"))
        Fs.mkdirSync(Path.join(dir, "sub"))
        Fs.symlinkSync("../new.sqlite", Path.join(dir, "sub", "up"))
        Fs.symlinkSync("dangling", Path.join(dir, "twice"))
        Fs.symlinkSync(`${Path.basename(file)}.journal.sqlite`, Path.join(dir, "default-journal"))
        const cases: ReadonlyArray<ReadonlyArray<string>> = [
          ["--journal", journal, "--report", Path.join(dir, "dangling")],
          ["--journal", journal, "--report", Path.join(dir, "sub", "up")],
          ["--journal", journal, "--report", Path.join(dir, "twice")],
          ["--report", Path.join(dir, "default-journal")]
        ]
        for (const extra of cases) {
          const exited = yield* run(
            ["zalo", "send-batch", "--no-check-image", file, ...extra, "--json"],
            envFor(simulator.baseUrl)
          )
          userMistake(exited)
          assert.match(JSON.parse(exited.stdout).errors[0].message, /is the same file as/, extra.join(" "))
        }
        assert.strictEqual((yield* simulator.messages).length, 0, "nothing sent")
        // Another batch's journal (a SQLite database) as this run's report: refused, left intact.
        const other = campaign(Fs.mkdtempSync(Path.join(dir, "other-")), 1)
        const ran = yield* run(["zalo", "send-batch", "--no-check-image", other], envFor(simulator.baseUrl))
        assert.strictEqual(ran.code, 0, ran.stderr)
        const otherJournal = `${other}.journal.sqlite`
        const before = Fs.readFileSync(otherJournal)
        const exited = yield* run(
          ["zalo", "send-batch", "--no-check-image", file, "--report", otherJournal, "--json"],
          envFor(simulator.baseUrl)
        )
        userMistake(exited)
        assert.match(JSON.parse(exited.stdout).errors[0].message, /SQLite database/)
        assert.deepEqual(Fs.readFileSync(otherJournal), before, "the other journal is intact")
        assert.strictEqual((yield* simulator.messages).length, 1, "nothing sent by the refused run")
      }))
  }
)
