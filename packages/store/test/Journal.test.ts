import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { Journal } from "../src/index.js"

const tempFile = Effect.acquireRelease(
  Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "esms-journal-"))),
  (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
).pipe(Effect.map((dir) => Path.join(dir, "batch.journal.sqlite")))

/** Opens the journal file, uses it, closes it: each call is one run of the batch. */
const run = <A, E>(file: string, use: (journal: Journal.Service) => Effect.Effect<A, E>) =>
  Effect.flatMap(Journal.Journal, use).pipe(Effect.provide(Journal.layerSqlite(file)))

/** A plain SQLite connection on a file (WAL, as SqliteClient opens it). */
const sqlite = <A>(file: string, use: (sql: SqlClient.SqlClient) => Effect.Effect<A, unknown>) =>
  Effect.orDie(Effect.flatMap(SqlClient.SqlClient, use).pipe(Effect.provide(SqliteClient.layer({ filename: file }))))

const fp = Journal.fingerprint(["u1", "Xin chào", "https://cdn.example.vn/p.png"])

describe("Journal", () => {
  it.scoped("RequestIds are derived from the journal's batch id and the line: the same on every run", () =>
    Effect.gen(function*() {
      const file = yield* tempFile
      const first = yield* run(file, (j) => Effect.succeed([j.batchId, j.requestIdFor(2), j.requestIdFor(30001)]))
      const again = yield* run(file, (j) => Effect.succeed([j.batchId, j.requestIdFor(2), j.requestIdFor(30001)]))
      assert.deepStrictEqual(again, first)
      assert.match(first[1], /^esms-[0-9a-f]{12}-2$/)
      assert.isAtMost(first[2].length, 50)
      // Another journal is another batch: its ids never collide with this one's.
      const other = yield* tempFile
      assert.notStrictEqual(yield* run(other, (j) => Effect.succeed(j.requestIdFor(2))), first[1])
    }))

  it.scoped("in_flight is on disk before the outcome; the outcome replaces it, across runs", () =>
    Effect.gen(function*() {
      const file = yield* tempFile
      yield* run(file, (j) =>
        Effect.gen(function*() {
          yield* j.inFlight(2, "rid-2", fp)
          yield* j.inFlight(3, "rid-3", fp)
          yield* j.settle(2, { state: "accepted", smsId: "sms-2" })
          yield* j.inFlight(4, "rid-4", fp)
          yield* j.settle(4, { state: "rejected", tag: "InsufficientBalance", code: "103", detail: "balance too low" })
          yield* j.inFlight(5, "rid-5", fp)
          yield* j.settle(5, { state: "failed", tag: "ConnectionFailed", detail: "ECONNREFUSED" })
          yield* j.invalid(6, fp, "image_url must be a .jpg, .jpeg or .png file")
        }))
      // A new run (as after a crash) reads what the last one left.
      yield* run(file, (j) =>
        Effect.gen(function*() {
          const two = Option.getOrThrow(yield* j.get(2))
          assert.deepStrictEqual([two.state, two.requestId, two.smsId], ["accepted", "rid-2", "sms-2"])
          const three = Option.getOrThrow(yield* j.get(3))
          assert.strictEqual(three.state, "in_flight")
          const four = Option.getOrThrow(yield* j.get(4))
          assert.deepStrictEqual([four.state, four.tag, four.code], ["rejected", "InsufficientBalance", "103"])
          assert.isTrue(Option.isNone(yield* j.get(7)))
          assert.deepStrictEqual(yield* j.counts, {
            in_flight: 1,
            accepted: 1,
            deduplicated: 0,
            rejected: 1,
            failed: 1,
            invalid: 1
          })
          assert.deepStrictEqual((yield* j.inState("in_flight")).map((e) => e.line), [3])
        }))
    }))

  it.scoped("resume: accepted skipped, in flight re-sent with its RequestId, failed only with retryFailed", () =>
    Effect.gen(function*() {
      const file = yield* tempFile
      yield* run(file, (j) =>
        Effect.gen(function*() {
          for (const line of [2, 3, 4, 5, 6]) yield* j.inFlight(line, `rid-${line}`, fp)
          yield* j.settle(2, { state: "accepted", smsId: "s" })
          yield* j.settle(3, { state: "deduplicated" })
          yield* j.settle(5, { state: "failed", tag: "RequestTimeout", detail: "timed out" })
          yield* j.settle(6, { state: "rejected", tag: "InsufficientBalance", code: "103", detail: "low" })
          const decide = (line: number, retryFailed = false) =>
            Effect.map(j.get(line), (entry) => Journal.decide(entry, j.requestIdFor(line), retryFailed))
          assert.strictEqual((yield* decide(2))._tag, "Skip")
          assert.strictEqual((yield* decide(3))._tag, "Skip")
          assert.deepStrictEqual(yield* decide(4), { _tag: "Send", requestId: "rid-4", sentBefore: true })
          assert.strictEqual((yield* decide(5))._tag, "Skip")
          assert.deepStrictEqual(yield* decide(5, true), { _tag: "Send", requestId: "rid-5", sentBefore: true })
          assert.strictEqual((yield* decide(6))._tag, "Skip")
          assert.deepStrictEqual(yield* decide(6, true), { _tag: "Send", requestId: "rid-6", sentBefore: false })
          assert.deepStrictEqual(yield* decide(7), { _tag: "Send", requestId: j.requestIdFor(7), sentBefore: false })
        }))
    }))

  it.scoped("a row whose content changed since it was sent conflicts; an invalid one does not", () =>
    Effect.gen(function*() {
      const file = yield* tempFile
      yield* run(file, (j) =>
        Effect.gen(function*() {
          yield* j.inFlight(2, "rid-2", fp)
          yield* j.invalid(3, fp, "bad")
          const changed = Journal.fingerprint(["u2", "Xin chào", "https://cdn.example.vn/p.png"])
          assert.isFalse(Journal.conflicts(yield* j.get(2), fp))
          assert.isTrue(Journal.conflicts(yield* j.get(2), changed))
          assert.isFalse(Journal.conflicts(yield* j.get(3), changed))
          assert.isFalse(Journal.conflicts(yield* j.get(4), changed))
        }))
    }))

  it.scoped("shares its file with DeliveryReports: each creates only its own tables", () =>
    Effect.gen(function*() {
      const file = yield* tempFile
      yield* run(file, (j) => j.inFlight(2, "rid-2", fp))
      const { DeliveryReports } = yield* Effect.promise(() => import("../src/index.js"))
      const count = yield* Effect.flatMap(DeliveryReports.DeliveryReports, (r) => r.count).pipe(
        Effect.provide(DeliveryReports.layerSqlite(file))
      )
      assert.strictEqual(count, 0)
      assert.strictEqual(yield* run(file, (j) => Effect.map(j.counts, (c) => c.in_flight)), 1)
    }))

  it.scoped("a journal emptied to 0 bytes, or whose tables are gone, is refused: never taken as new", () =>
    Effect.gen(function*() {
      const file = yield* tempFile
      yield* run(file, (j) => j.inFlight(2, "rid-2", fp))
      Fs.truncateSync(file, 0)
      const empty = yield* Effect.flip(run(file, () => Effect.void))
      assert.strictEqual(empty._tag, "JournalUnusable")
      assert.match(empty.message, /is empty \(0 bytes\)/)
      // A SQLite file with nothing in it: what a journal's main file is when its WAL never reached it.
      Fs.rmSync(file)
      yield* sqlite(file, (sql) => Effect.zipRight(sql`CREATE TABLE t (x)`, sql`DROP TABLE t`))
      const gone = yield* Effect.flip(run(file, () => Effect.void))
      assert.strictEqual(gone._tag, "JournalUnusable")
      assert.match(gone.message, /holds no journal/)
    }))

  it.scoped("a file that is not a database, or a directory, is refused with the reason", () =>
    Effect.gen(function*() {
      const file = yield* tempFile
      Fs.writeFileSync(file, "not a database at all\n".repeat(300))
      const notDb = yield* Effect.flip(run(file, () => Effect.void))
      assert.strictEqual(notDb._tag, "JournalUnusable")
      assert.match(notDb.message, /is not an esms journal/)
      const dir = Path.dirname(file)
      const isDir = yield* Effect.flip(run(dir, () => Effect.void))
      assert.strictEqual(isDir._tag, "JournalUnusable")
      assert.match(isDir.message, /is a directory/)
    }))

  it.scoped("one run at a time: a second opening while the first holds it is refused at once", () =>
    Effect.gen(function*() {
      const file = yield* tempFile
      yield* run(file, () =>
        Effect.gen(function*() {
          const started = Date.now()
          const second = yield* Effect.flip(run(file, () => Effect.void))
          assert.strictEqual(second._tag, "JournalUnusable")
          assert.match(second.message, /in use by another esms run/)
          assert.isBelow(Date.now() - started, 1000)
        }))
      // Released with the first run: the next one opens it.
      yield* run(file, (j) => j.counts)
    }))

  it.scopedLive("the journal and its -wal are created readable by their owner only; the main file holds the state", () =>
    Effect.gen(function*() {
      const file = yield* tempFile
      // The main file alone (a copy without its WAL), as after a kill and a deleted -wal.
      const mainFileOnly = <A>(query: (sql: SqlClient.SqlClient) => Effect.Effect<A, unknown>) => {
        const copy = `${file}.copy`
        Fs.copyFileSync(file, copy)
        return Effect.ensuring(sqlite(copy, query), Effect.sync(() => Fs.rmSync(copy)))
      }
      yield* run(file, (j) =>
        Effect.gen(function*() {
          const batch = yield* mainFileOnly((sql) => sql<{ id: string }>`SELECT id FROM journal_batch`)
          assert.deepStrictEqual(batch, [{ id: j.batchId }], "the batch id is in the main file at once")
          yield* j.inFlight(2, "rid-2", fp)
          for (const f of [file, `${file}-wal`]) {
            assert.strictEqual((Fs.statSync(f).mode & 0o777).toString(8), "600", f)
          }
          assert.isFalse(Fs.existsSync(`${file}-shm`), "exclusive WAL needs no -shm")
          yield* Effect.sleep(Duration.sum(Journal.CHECKPOINT_EVERY, "300 millis"))
          const rows = yield* mainFileOnly((sql) =>
            sql<{ state: string }>`SELECT state FROM journal_rows WHERE line = 2`
          )
          assert.deepStrictEqual(rows, [{ state: "in_flight" }])
        }))
    }))
})
