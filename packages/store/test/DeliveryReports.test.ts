import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, it } from "@effect/vitest"
import { DeliveryReport } from "@esms-effect/core"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as process from "node:process"
import { DeliveryReports, Journal } from "../src/index.js"

const report = (query: string) => Either.getOrThrow(DeliveryReport.fromQueryString(query))

const tempFile = Effect.acquireRelease(
  Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "esms-store-"))),
  (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
).pipe(Effect.map((dir) => Path.join(dir, "esms.sqlite")))

const withStore = <A, E>(
  file: string,
  use: (store: DeliveryReports.Service) => Effect.Effect<A, E>
) => Effect.flatMap(DeliveryReports.DeliveryReports, use).pipe(Effect.provide(DeliveryReports.layerSqlite(file)))

const delivered = "SMSID=s1&SendStatus=5&SendSuccess=1&SendFailed=0&RequestId=req-1&TypeId=26"
const waiting = "SMSID=s1&SendStatus=2&RequestId=req-1"
const failed = "SMSID=s2&SendStatus=5&SendSuccess=0&SendFailed=1&RequestId=req-2" +
  "&error_info=%7B%22error%22%3A-213%2C%22message%22%3A%22User%20has%20not%20followed%20the%20OA%22%7D"

describe("DeliveryReports", () => {
  it.scoped("an in-memory store (\":memory:\") writes no file", () =>
    Effect.gen(function*() {
      const dir = yield* Effect.acquireRelease(
        Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "esms-store-cwd-"))),
        (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
      )
      const cwd = process.cwd()
      process.chdir(dir)
      yield* Effect.addFinalizer(() => Effect.sync(() => process.chdir(cwd)))
      yield* withStore(":memory:", (store) => Effect.map(store.count, (n) => assert.strictEqual(n, 0)))
      assert.deepStrictEqual(Fs.readdirSync(dir), [])
    }))

  it.scoped("stores a report once per SMSID, status and result: a repeated callback changes nothing", () =>
    Effect.gen(function*() {
      const file = yield* tempFile
      yield* withStore(file, (store) =>
        Effect.gen(function*() {
          assert.isTrue(yield* store.record(report(delivered)))
          assert.isFalse(yield* store.record(report(delivered)))
          // Concurrent repeats (eSMS's retries racing each other) still store one.
          const again = yield* Effect.all(Array.from({ length: 20 }, () => store.record(report(delivered))), {
            concurrency: "unbounded"
          })
          assert.isTrue(again.every((isNew) => !isNew))
          assert.isTrue(yield* store.record(report(waiting)))
          assert.strictEqual(yield* store.count, 2)
        }))
    }))

  it.scoped("latest by SMSID or by RequestId prefers the final report, whatever arrived last", () =>
    Effect.gen(function*() {
      const file = yield* tempFile
      yield* withStore(file, (store) =>
        Effect.gen(function*() {
          yield* store.record(report(delivered))
          yield* store.record(report(waiting)) // late, out of order
          yield* store.record(report(failed))
          for (const id of ["s1", "req-1"]) {
            const latest = Option.getOrThrow(yield* store.latest(id))
            assert.strictEqual(latest.report.sendStatus, "Finished", id)
            assert.isTrue(DeliveryReport.Fate.$is("Delivered")(DeliveryReport.fate(latest.report)), id)
          }
          const s2 = Option.getOrThrow(yield* store.latest("req-2"))
          assert.deepStrictEqual(
            DeliveryReport.fate(s2.report),
            DeliveryReport.Fate.Failed({ zaloError: -213, zaloMessage: s2.report.zalo?.message })
          )
          assert.isTrue(Option.isNone(yield* store.latest("nobody")))
          assert.deepStrictEqual((yield* store.history("s1")).map((s) => s.report.sendStatus), [
            "Finished",
            "WaitingToSend"
          ])
        }))
    }))

  it.scoped("the file keeps the reports across layers (another process reads what the receiver wrote)", () =>
    Effect.gen(function*() {
      const file = yield* tempFile
      yield* withStore(file, (store) => store.record(report(failed)))
      const stored = yield* withStore(file, (store) => store.latest("s2"))
      const kept = Option.getOrThrow(stored).report
      assert.deepStrictEqual(kept, report(failed))
      assert.strictEqual(kept.zalo?.error, -213)
    }))

  it.scoped("shares a file with the batch journal: both sets of tables, neither disturbed", () =>
    Effect.gen(function*() {
      const file = yield* tempFile
      // The journal locks its file while a run holds it: the store opens it after.
      yield* Effect.scoped(Layer.build(Journal.layerSqlite(file)))
      yield* withStore(file, (store) => store.record(report(delivered)))
      const tables = yield* Effect.flatMap(
        SqlClient.SqlClient,
        (sql) => sql<{ name: string }>`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`
      ).pipe(
        Effect.provide(SqliteClient.layer({ filename: file }))
      )
      const names = tables.map((t) => t.name)
      assert.includeMembers(names, ["delivery_reports", "journal_batch", "journal_rows"])
      assert.isTrue(Option.isSome(yield* withStore(file, (store) => store.latest("s1"))))
    }))

  it.scoped("the store and its -wal and -shm are created readable by their owner only", () =>
    Effect.gen(function*() {
      const file = yield* tempFile
      yield* withStore(file, (store) =>
        Effect.gen(function*() {
          yield* store.record(report(delivered))
          for (const f of [file, `${file}-wal`, `${file}-shm`]) {
            assert.strictEqual((Fs.statSync(f).mode & 0o777).toString(8), "600", f)
          }
        }))
    }))
})
