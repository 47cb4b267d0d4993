import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, it } from "@effect/vitest"
import { DeliveryReport } from "@esms-effect/core"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as TestClock from "effect/TestClock"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { DeliveryReports, Journal, SentRequests } from "../src/index.js"

const tempFile = Effect.acquireRelease(
  Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "esms-migrations-"))),
  (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
).pipe(Effect.map((dir) => Path.join(dir, "esms.sqlite")))

const sqlite = <A>(file: string, use: (sql: SqlClient.SqlClient) => Effect.Effect<A, unknown>) =>
  Effect.orDie(Effect.flatMap(SqlClient.SqlClient, use).pipe(Effect.provide(SqliteClient.layer({ filename: file }))))

const fp = Journal.fingerprint(["u1", "Xin chào", "https://cdn.example.vn/p.png"])

// What 0.1.0 wrote, statement for statement: its tables made inline, no migrations table.
const version010 = (sql: SqlClient.SqlClient) =>
  Effect.all([
    sql`CREATE TABLE journal_batch (id TEXT PRIMARY KEY, created_at INTEGER NOT NULL)`,
    sql`CREATE TABLE journal_rows (line INTEGER PRIMARY KEY, request_id TEXT NOT NULL, fingerprint TEXT NOT NULL,
      state TEXT NOT NULL, tag TEXT, code TEXT, sms_id TEXT, detail TEXT, updated_at INTEGER NOT NULL)`,
    sql`CREATE INDEX journal_rows_state ON journal_rows (state)`,
    sql`INSERT INTO journal_batch VALUES ('0123456789ab', 1700000000000)`,
    sql`INSERT INTO journal_rows (line, request_id, fingerprint, state, sms_id, updated_at)
      VALUES (2, 'esms-0123456789ab-2', ${fp}, 'accepted', 'sms-2', 1700000000000)`,
    sql`CREATE TABLE delivery_reports (id INTEGER PRIMARY KEY AUTOINCREMENT, sms_id TEXT NOT NULL, request_id TEXT,
      send_status INTEGER NOT NULL, result TEXT NOT NULL, received_at INTEGER NOT NULL, query TEXT NOT NULL,
      UNIQUE (sms_id, send_status, result))`,
    sql`CREATE INDEX delivery_reports_request_id ON delivery_reports (request_id)`
  ], { discard: true })

describe("store schema through Migrator", () => {
  it.scoped("a store file made by 0.1.0 opens as it was: same batch id, same rows, reports kept", () =>
    Effect.gen(function*() {
      const file = yield* tempFile
      yield* sqlite(file, version010)
      const journal = yield* Effect.flatMap(
        Journal.Journal,
        (j) => Effect.map(j.get(2), (entry) => ({ batchId: j.batchId, isNew: j.isNew, entry }))
      ).pipe(
        Effect.provide(Journal.layerSqlite(file))
      )
      assert.strictEqual(journal.batchId, "0123456789ab")
      assert.isFalse(journal.isNew)
      assert.deepStrictEqual(
        Option.map(journal.entry, (e) => [e.state, e.requestId, e.smsId]),
        Option.some(["accepted", "esms-0123456789ab-2", "sms-2"])
      )
      const migrated = yield* sqlite(file, (sql) =>
        Effect.all([
          sql<{ name: string }>`SELECT name FROM journal_migrations`,
          sql<{ name: string }>`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`
        ]))
      assert.deepStrictEqual(migrated[0], [{ name: "journal_tables" }])
      assert.includeMembers(migrated[1].map((t) => t.name), ["journal_migrations", "journal_rows", "delivery_reports"])
    }))

  it.scoped("each store keeps its own migration history in a shared file, applied once", () =>
    Effect.gen(function*() {
      const file = yield* tempFile
      for (let i = 0; i < 2; i++) {
        yield* Effect.provide(Effect.void, DeliveryReports.layerSqlite(file))
        yield* Effect.provide(Effect.void, SentRequests.layerSqlite(file))
      }
      const rows = yield* sqlite(file, (sql) =>
        Effect.all([
          sql<{ migration_id: number; name: string }>`SELECT migration_id, name FROM delivery_reports_migrations`,
          sql<{ migration_id: number; name: string }>`SELECT migration_id, name FROM sent_requests_migrations`
        ]))
      assert.deepStrictEqual(rows, [
        [{ migration_id: 1, name: "delivery_reports_table" }],
        [{ migration_id: 1, name: "sent_requests_table" }]
      ])
    }))

  it.scoped("times come from Clock: the TestClock's time is what the journal and the reports record", () =>
    Effect.gen(function*() {
      const file = yield* tempFile
      const at = new Date("2026-03-01T02:03:04.000Z")
      yield* TestClock.setTime(at.getTime())
      const entry = yield* Effect.flatMap(Journal.Journal, (j) => Effect.zipRight(j.inFlight(2, "rid-2", fp), j.get(2)))
        .pipe(Effect.provide(Journal.layerSqlite(file)))
      assert.deepStrictEqual(Option.map(entry, (e) => e.updatedAt), Option.some(at))
      const report = Either.getOrThrow(DeliveryReport.fromQueryString("SMSID=s1&SendStatus=2&RequestId=rid-2"))
      const stored = yield* Effect.flatMap(
        DeliveryReports.DeliveryReports,
        (r) => Effect.zipRight(r.record(report), r.latest("s1"))
      ).pipe(Effect.provide(DeliveryReports.layerSqlite(file)))
      assert.deepStrictEqual(Option.map(stored, (s) => s.receivedAt), Option.some(at))
    }))
})
