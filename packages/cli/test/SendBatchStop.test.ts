/**
 * `esms zalo send-batch` as a real process stopped with Ctrl-C (SIGINT), killed, or run twice at once,
 * against a simulator in this test: what the operator stopped is never sent, what the server holds is
 * cut after the grace and settled by the next run, and a journal is never taken as new when it is not.
 * Needs the build first.
 */
import { assert, layer } from "@effect/vitest"
import { Fault, Simulator } from "@esms-effect/simulator"
import { Journal } from "@esms-effect/store"
import * as Effect from "effect/Effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { assertExactlyOnce, campaign, envFor, run, spawn, tempDir } from "./EsmsProcess.js"

const journalCounts = (file: string) =>
  Effect.orDie(Effect.flatMap(Journal.Journal, (j) => j.counts).pipe(Effect.provide(Journal.layerSqlite(file))))

const batch = (simulator: Simulator.Service, args: ReadonlyArray<string>) =>
  spawn(["zalo", "send-batch", "--no-check-image", ...args], envFor(simulator.baseUrl))

const waitFor = (condition: () => boolean, what: string, timeoutMillis = 20_000) =>
  Effect.promise(async () => {
    const until = Date.now() + timeoutMillis
    while (!condition()) {
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  })

layer(Simulator.layer({ tps: 1000, callbackDelay: "1 hour" }), { timeout: "90 seconds", excludeTestServices: true })(
  "esms zalo send-batch stopped",
  (it) => {
    it.scoped("Ctrl-C with --rate: rows waiting for the pacer are never sent, and the stop is quick", () =>
      Effect.gen(function*() {
        const simulator = yield* Simulator.Simulator
        yield* simulator.reset
        const dir = yield* tempDir
        const rows = 40
        const file = campaign(dir, rows)
        // 2 per second with 16 slots: after a few seconds, 16 rows sit in the pacer's queue.
        const child = batch(simulator, [file, "--rate", "2", "--concurrency", "16", "--json"])
        yield* simulator.waitUntil((s) => s.messages.length >= 5)
        const before = (yield* simulator.attempts).length
        const stoppedAt = Date.now()
        child.process.kill("SIGINT")
        const stopped = yield* Effect.promise(() => child.exited)
        const stopMillis = Date.now() - stoppedAt
        const after = (yield* simulator.attempts).length
        console.log(
          `[figure] --rate 2 --concurrency 16: requests after Ctrl-C ${after - before}, stop ${stopMillis} ms`
        )
        assert.strictEqual(stopped.code, 130)
        // A send the pacer released at the very moment of the stop may still go: it is journaled first.
        assert.isAtMost(after - before, 1, "no row waiting for the pacer is sent after Ctrl-C")
        assert.isBelow(stopMillis, 1000)
        const summary = JSON.parse(stopped.stdout)
        assert.strictEqual(summary.status, "interrupted")
        assert.strictEqual(summary.exitCode, 130, "the object's exitCode is the process's")
        const journal = yield* journalCounts(`${file}.journal.sqlite`)
        assert.strictEqual(journal.in_flight, 0)
        assert.strictEqual(journal.accepted, after)
        assert.strictEqual(summary.accepted, after)
      }))

    it.scoped(
      "Ctrl-C while eSMS holds the sends: cut after the 10 s grace, journaled in_flight, summary, exit 130",
      () =>
        Effect.gen(function*() {
          const simulator = yield* Simulator.Simulator
          yield* simulator.reset
          const dir = yield* tempDir
          const rows = 6
          const file = campaign(dir, rows)
          // eSMS takes the first 4 messages and does not answer for 2 minutes.
          yield* simulator.injectFault(Fault.delay(120_000), 4)
          const child = batch(simulator, [file, "--rate", "100", "--concurrency", "4", "--timeout", "60", "--json"])
          yield* simulator.waitUntil((s) => s.messages.length >= 4)
          const before = (yield* simulator.attempts).length
          const stoppedAt = Date.now()
          child.process.kill("SIGINT")
          yield* waitFor(() => /stopping/i.test(child.stderr()), "the stopping… line")
          const stoppingMillis = Date.now() - stoppedAt
          const stopped = yield* Effect.promise(() => child.exited)
          const stopMillis = Date.now() - stoppedAt
          const after = (yield* simulator.attempts).length
          console.log(
            `[figure] sends held by eSMS: "stopping…" after ${stoppingMillis} ms, exit after ${stopMillis} ms, ` +
              `requests after Ctrl-C ${after - before}`
          )
          assert.strictEqual(stopped.code, 130)
          assert.isAtLeast(stopMillis, 9_000)
          assert.isBelow(stopMillis, 12_000)
          assert.isBelow(stoppingMillis, 1_000)
          assert.strictEqual(after - before, 0, "nothing sent after Ctrl-C")
          const summary = JSON.parse(stopped.stdout)
          assert.strictEqual(summary.status, "interrupted")
          assert.strictEqual(summary.exitCode, 130, "the object's exitCode is the process's")
          assert.strictEqual(summary.inFlight, 4)
          const journal = yield* journalCounts(`${file}.journal.sqlite`)
          assert.strictEqual(journal.in_flight, 4, "the cut sends may be at eSMS: the next run asks again")
          assert.strictEqual(journal.failed, 0)

          // The next run sends them again with the same RequestIds: eSMS had them (124), so de-duplicated.
          yield* simulator.clearFaults
          const again = yield* run(
            ["zalo", "send-batch", "--no-check-image", file, "--json"],
            envFor(simulator.baseUrl)
          )
          assert.strictEqual(again.code, 0)
          assert.deepInclude(JSON.parse(again.stdout), { accepted: rows - 4, deduplicated: 4 })
          yield* assertExactlyOnce(simulator, rows)
        }),
      { timeout: 60_000 }
    )

    it.scoped("a journal emptied to 0 bytes is refused (exit 2), nothing is sent again", () =>
      Effect.gen(function*() {
        const simulator = yield* Simulator.Simulator
        yield* simulator.reset
        const dir = yield* tempDir
        const file = campaign(dir, 5)
        const first = yield* run(["zalo", "send-batch", "--no-check-image", file], envFor(simulator.baseUrl))
        assert.strictEqual(first.code, 0)
        Fs.truncateSync(`${file}.journal.sqlite`, 0)
        const again = yield* run(["zalo", "send-batch", "--no-check-image", file], envFor(simulator.baseUrl))
        assert.strictEqual(again.code, 2)
        assert.match(again.stderr, /--journal .*is empty/)
        assert.notMatch(again.stderr, /\n\s+at /, "no stack trace")
        assert.strictEqual((yield* simulator.messages).length, 5, "nothing sent again")
      }))

    it.scoped("killed with SIGKILL, then its -wal and -shm deleted: the re-run sends nothing twice", () =>
      Effect.gen(function*() {
        const simulator = yield* Simulator.Simulator
        yield* simulator.reset
        const dir = yield* tempDir
        const rows = 40
        const file = campaign(dir, rows)
        const journal = `${file}.journal.sqlite`
        yield* simulator.injectFault(Fault.delay(300), 1000)
        const child = batch(simulator, [file, "--rate", "100", "--concurrency", "8"])
        yield* simulator.waitUntil((s) => s.messages.length >= 20)
        child.process.kill("SIGKILL")
        yield* Effect.promise(() => child.exited)
        for (const suffix of ["-wal", "-shm"]) Fs.rmSync(journal + suffix, { force: true })

        yield* simulator.clearFaults
        const again = yield* run(["zalo", "send-batch", "--no-check-image", file, "--json"], envFor(simulator.baseUrl))
        assert.strictEqual(again.code, 0)
        const summary = JSON.parse(again.stdout)
        assert.strictEqual(summary.accepted + summary.deduplicated, rows)
        console.log(
          `[figure] -wal/-shm deleted after SIGKILL: ${(yield* simulator.messages).length} messages for ${rows} rows ` +
            `(${summary.deduplicated} de-duplicated)`
        )
        yield* assertExactlyOnce(simulator, rows)
      }))

    it.scoped("a second run on a journal in use is refused (exit 2); after a SIGKILL the lock is gone", () =>
      Effect.gen(function*() {
        const simulator = yield* Simulator.Simulator
        yield* simulator.reset
        const dir = yield* tempDir
        const rows = 30
        const file = campaign(dir, rows)
        const first = batch(simulator, [file, "--rate", "5", "--concurrency", "2"])
        yield* simulator.waitUntil((s) => s.messages.length >= 2)
        const second = yield* run(["zalo", "send-batch", "--no-check-image", file, "--json"], envFor(simulator.baseUrl))
        assert.strictEqual(second.code, 2)
        const refusal = JSON.parse(second.stdout)
        assert.strictEqual(refusal.status, "invalid")
        assert.strictEqual(refusal.errors[0].field, "--journal")
        assert.match(refusal.errors[0].message, /in use by another/)
        first.process.kill("SIGKILL")
        yield* Effect.promise(() => first.exited)

        const third = yield* run(
          ["zalo", "send-batch", "--no-check-image", file, "--rate", "200", "--json"],
          envFor(simulator.baseUrl)
        )
        assert.strictEqual(third.code, 0)
        yield* assertExactlyOnce(simulator, rows)
        const attempts = yield* simulator.attempts
        console.log(`[figure] two runs on one journal: ${attempts.length} requests for ${rows} rows, second refused`)
        assert.isBelow(attempts.length, rows + 10, "no row sent by two runs")
      }))

    it.scoped("the journal, its -wal and the --report file are readable by their owner only", () =>
      Effect.gen(function*() {
        const simulator = yield* Simulator.Simulator
        yield* simulator.reset
        const dir = yield* tempDir
        const file = campaign(dir, 30)
        const report = Path.join(dir, "campaign.report.jsonl")
        yield* simulator.injectFault(Fault.delay(300), 1000)
        const child = batch(simulator, [file, "--rate", "100", "--concurrency", "4", "--report", report])
        yield* simulator.waitUntil((s) => s.messages.length >= 8)
        child.process.kill("SIGKILL")
        yield* Effect.promise(() => child.exited)
        const files = [`${file}.journal.sqlite`, `${file}.journal.sqlite-wal`, report].filter((f) => Fs.existsSync(f))
        assert.isAtLeast(files.length, 3)
        for (const f of files) {
          assert.strictEqual((Fs.statSync(f).mode & 0o777).toString(8), "600", Path.basename(f))
        }
      }))
  }
)
