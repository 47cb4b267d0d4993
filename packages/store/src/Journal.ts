/**
 * The batch journal: for each row of a batch file (by line number), the RequestId it is sent with and
 * what became of it. A row is written `in_flight` before its send and gets its outcome after, so a run
 * killed at any point can be resumed without sending anything twice: accepted rows are skipped, rows
 * whose outcome is unknown go again with the same RequestId (eSMS answers 124 if it already has them).
 *
 * One journal file holds one batch. Its tables are made by {@link migrations} at layer start (their
 * history in `journal_migrations`), so the file may be new, made by an earlier version, or shared with
 * other stores.
 *
 * @since 0.1.0
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type * as SqlError from "@effect/sql/SqlError"
import * as Clock from "effect/Clock"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import { createHash, randomBytes } from "node:crypto"
import * as Migrate from "./internal/migrate.js"
import * as SqliteFile from "./internal/sqliteFile.js"

/**
 * Where a row stands: `in_flight` (a send started and its outcome is
 * unknown), `accepted` / `deduplicated` (eSMS has it), `rejected` (a result code other than 100),
 * `failed` (no readable answer after the retries), `invalid` (never sent).
 *
 * @since 0.1.0
 */
export type State = "in_flight" | "accepted" | "deduplicated" | "rejected" | "failed" | "invalid"

/** @since 0.1.0 */
export const states: ReadonlyArray<State> = [
  "in_flight",
  "accepted",
  "deduplicated",
  "rejected",
  "failed",
  "invalid"
]

/**
 * One row's record.
 *
 * @since 0.1.0
 */
export interface Entry {
  readonly line: number
  readonly requestId: string
  /** A hash of what the row sends: a row that changed since it was sent must not reuse its RequestId. */
  readonly fingerprint: string
  readonly state: State
  /** The error's tag for `rejected` and `failed` (`InsufficientBalance`, `ConnectionLost`, …). */
  readonly tag: string | undefined
  /** The eSMS result code for `rejected`. */
  readonly code: string | undefined
  readonly smsId: string | undefined
  /** A readable reason for `rejected`, `failed` and `invalid`. */
  readonly detail: string | undefined
  readonly updatedAt: Date
}

/**
 * A send's outcome, as recorded after it.
 *
 * @since 0.1.0
 */
export type Settlement =
  | { readonly state: "accepted"; readonly smsId: string | undefined }
  | { readonly state: "deduplicated" }
  | { readonly state: "rejected"; readonly tag: string; readonly code: string; readonly detail: string }
  | { readonly state: "failed"; readonly tag: string; readonly detail: string }

/**
 * The columns a {@link Settlement} writes, the ones it has no value for `null`: the one mapping for every
 * table that records outcomes (the journals of each dialect, a campaign's rows).
 *
 * @since 0.2.0
 * @category constructors
 */
export const settlementColumns = (s: Settlement): {
  readonly state: Settlement["state"]
  readonly tag: string | null
  readonly code: string | null
  readonly sms_id: string | null
  readonly detail: string | null
} => ({
  state: s.state,
  tag: s.state === "rejected" || s.state === "failed" ? s.tag : null,
  code: s.state === "rejected" ? s.code : null,
  sms_id: s.state === "accepted" ? s.smsId ?? null : null,
  detail: s.state === "rejected" || s.state === "failed" ? s.detail : null
})

/**
 * What to do with a row on this run, given its journal entry.
 *
 * - `Send`: send it. `sentBefore`: this RequestId may already have reached eSMS (a run stopped while
 *   it was in flight, or it failed without an answer), so a 124 now means eSMS has it: accepted.
 * - `Skip`: leave it as it is (accepted earlier; or rejected / failed earlier without `retryFailed`).
 *
 * @since 0.1.0
 */
export type Decision = Data.TaggedEnum<{
  Send: { readonly requestId: string; readonly sentBefore: boolean }
  Skip: { readonly entry: Entry }
}>

/**
 * The constructors of {@link Decision}, and its `$is` / `$match`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const Decision = Data.taggedEnum<Decision>()

/**
 * The resume rule: accepted rows are skipped; rows in flight at a crash go again with the same
 * RequestId; rejected and failed rows go again only with `retryFailed`; new and invalid rows
 * are sent with `requestId`.
 *
 * @since 0.1.0
 */
export const decide = (entry: Option.Option<Entry>, requestId: string, retryFailed: boolean): Decision => {
  if (Option.isNone(entry)) return Decision.Send({ requestId, sentBefore: false })
  const e = entry.value
  switch (e.state) {
    case "accepted":
    case "deduplicated":
      return Decision.Skip({ entry: e })
    case "in_flight":
      return Decision.Send({ requestId: e.requestId, sentBefore: true })
    case "failed":
      return retryFailed ? Decision.Send({ requestId: e.requestId, sentBefore: true }) : Decision.Skip({ entry: e })
    case "rejected":
      // eSMS answered: it did not take this RequestId, so a 124 now would be someone else's.
      return retryFailed ? Decision.Send({ requestId: e.requestId, sentBefore: false }) : Decision.Skip({ entry: e })
    case "invalid":
      return Decision.Send({ requestId, sentBefore: false })
  }
}

/**
 * Whether the row at this line was sent with different content than it has now (the file was edited
 * after a run): its RequestId then belongs to another message.
 *
 * @since 0.1.0
 */
export const conflicts = (entry: Option.Option<Entry>, fingerprint: string): boolean =>
  Option.isSome(entry) && entry.value.state !== "invalid" &&
  entry.value.fingerprint !== fingerprint

/**
 * A stable hash of the fields a row sends.
 *
 * @since 0.1.0
 */
export const fingerprint = (fields: ReadonlyArray<string | undefined>): string =>
  createHash("sha256").update(JSON.stringify(fields.map((f) => f ?? null))).digest("base64url").slice(0, 22)

/**
 * @since 0.1.0
 */
export interface Service {
  /** This journal's batch id: random, made when the journal is created, part of every derived RequestId. */
  readonly batchId: string
  /** The batch was made by this opening: no run before this one used the journal. */
  readonly isNew: boolean
  /** The RequestId of a row without its own: the same on every run with this journal (≤ 50 characters). */
  readonly requestIdFor: (line: number) => string
  readonly get: (line: number) => Effect.Effect<Option.Option<Entry>, SqlError.SqlError>
  /** Records that the row's send starts now, with this RequestId. */
  readonly inFlight: (line: number, requestId: string, fingerprint: string) => Effect.Effect<void, SqlError.SqlError>
  /** Records a send's outcome. */
  readonly settle: (line: number, settlement: Settlement) => Effect.Effect<void, SqlError.SqlError>
  /** Records a row that breaks a rule (it is not sent). */
  readonly invalid: (line: number, fingerprint: string, detail: string) => Effect.Effect<void, SqlError.SqlError>
  /** How many rows are in each state. */
  readonly counts: Effect.Effect<Readonly<Record<State, number>>, SqlError.SqlError>
  /** Every row in a state, by line. */
  readonly inState: (state: State) => Effect.Effect<ReadonlyArray<Entry>, SqlError.SqlError>
}

/**
 * @since 0.1.0
 */
export class Journal extends Context.Tag("@esms-effect/store/Journal")<Journal, Service>() {}

/**
 * A journal row as SQL hands it back (PostgreSQL hands a BIGINT back as a string).
 *
 * @since 0.2.0
 * @category models
 */
export interface Row {
  readonly line: number
  readonly request_id: string
  readonly fingerprint: string
  readonly state: State
  readonly tag: string | null
  readonly code: string | null
  readonly sms_id: string | null
  readonly detail: string | null
  readonly updated_at: number | string
}

/**
 * The {@link Entry} of a journal row: the one mapping for every dialect's journal.
 *
 * @since 0.2.0
 * @category constructors
 */
export const entryFromRow = (row: Row): Entry => ({
  line: row.line,
  requestId: row.request_id,
  fingerprint: row.fingerprint,
  state: row.state,
  tag: row.tag ?? undefined,
  code: row.code ?? undefined,
  smsId: row.sms_id ?? undefined,
  detail: row.detail ?? undefined,
  updatedAt: new Date(Number(row.updated_at))
})

/**
 * The RequestId of line `line` of batch `batchId`: `esms-<batchId>-<line>`, the one format of every
 * journal and campaign (unique per batch, the same on every re-run).
 *
 * @since 0.2.0
 * @category constructors
 */
export const requestIdOf = (batchId: string, line: number): string => `esms-${batchId}-${line}`

/**
 * The journal's schema, one migration per change (recorded in `journal_migrations`). The first is the
 * tables of 0.1.0, made only where missing: a journal written by 0.1.0 opens as it is.
 *
 * @since 0.2.0
 */
export const migrations: Record<string, Effect.Effect<unknown, SqlError.SqlError, SqlClient.SqlClient>> = {
  "1_journal_tables": Effect.flatMap(SqlClient.SqlClient, (sql) =>
    Effect.all([
      sql`CREATE TABLE IF NOT EXISTS journal_batch (
        id TEXT PRIMARY KEY,
        created_at INTEGER NOT NULL
      )`,
      sql`CREATE TABLE IF NOT EXISTS journal_rows (
        line INTEGER PRIMARY KEY,
        request_id TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        state TEXT NOT NULL,
        tag TEXT,
        code TEXT,
        sms_id TEXT,
        detail TEXT,
        updated_at INTEGER NOT NULL
      )`,
      sql`CREATE INDEX IF NOT EXISTS journal_rows_state ON journal_rows (state)`
    ], { discard: true }))
}

/**
 * Migrates the schema (and the batch id on a new journal) and builds the service on the
 * `SqlClient` in context.
 *
 * @since 0.1.0
 */
export const make: Effect.Effect<Service, SqlError.SqlError, SqlClient.SqlClient> = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* Migrate.run("journal_migrations", migrations)
  const created = yield* sql<{ id: string }>`INSERT INTO journal_batch (id, created_at)
    SELECT ${randomBytes(6).toString("hex")}, ${yield* Clock.currentTimeMillis}
    WHERE NOT EXISTS (SELECT 1 FROM journal_batch)
    RETURNING id`
  const [batch] = yield* sql<{ id: string }>`SELECT id FROM journal_batch ORDER BY created_at LIMIT 1`
  const batchId = batch.id

  const get = (line: number) =>
    sql<Row>`SELECT * FROM journal_rows WHERE line = ${line}`.pipe(
      Effect.map((rows) => Option.map(Option.fromNullable(rows[0]), entryFromRow))
    )

  const inFlight = (line: number, requestId: string, fingerprint: string) =>
    Effect.flatMap(
      Clock.currentTimeMillis,
      (now) =>
        sql`INSERT INTO journal_rows (line, request_id, fingerprint, state, updated_at)
      VALUES (${line}, ${requestId}, ${fingerprint}, 'in_flight', ${now})
      ON CONFLICT (line) DO UPDATE SET request_id = excluded.request_id, fingerprint = excluded.fingerprint,
        state = 'in_flight', tag = NULL, code = NULL, sms_id = NULL, detail = NULL,
        updated_at = excluded.updated_at`
    ).pipe(Effect.asVoid)

  const settle = (line: number, s: Settlement) => {
    const { code, detail, sms_id, state, tag } = settlementColumns(s)
    return Effect.flatMap(
      Clock.currentTimeMillis,
      (now) =>
        sql`UPDATE journal_rows SET state = ${state}, tag = ${tag}, code = ${code}, sms_id = ${sms_id},
      detail = ${detail}, updated_at = ${now} WHERE line = ${line}`
    ).pipe(Effect.asVoid)
  }

  const invalid = (line: number, fingerprint: string, detail: string) =>
    Effect.flatMap(
      Clock.currentTimeMillis,
      (now) =>
        sql`INSERT INTO journal_rows (line, request_id, fingerprint, state, detail, updated_at)
      VALUES (${line}, '', ${fingerprint}, 'invalid', ${detail}, ${now})
      ON CONFLICT (line) DO UPDATE SET fingerprint = excluded.fingerprint, state = 'invalid', tag = NULL,
        code = NULL, sms_id = NULL, detail = excluded.detail, updated_at = excluded.updated_at`
    ).pipe(Effect.asVoid)

  const counts = sql<{ state: State; n: number }>`SELECT state, count(*) AS n FROM journal_rows GROUP BY state`.pipe(
    Effect.map((rows) => {
      const result = Object.fromEntries(states.map((s) => [s, 0])) as Record<State, number>
      for (const row of rows) result[row.state] = row.n
      return result
    })
  )

  const inState = (state: State) =>
    sql<Row>`SELECT * FROM journal_rows WHERE state = ${state} ORDER BY line`.pipe(
      Effect.map((rows) => rows.map(entryFromRow))
    )

  return Journal.of({
    batchId,
    isNew: created.length > 0,
    requestIdFor: (line) => requestIdOf(batchId, line),
    get,
    inFlight,
    settle,
    invalid,
    counts,
    inState
  })
})

/**
 * The service on the `SqlClient` in context.
 *
 * @since 0.1.0
 */
export const layer: Layer.Layer<Journal, SqlError.SqlError, SqlClient.SqlClient> = Layer.effect(Journal, make)

/**
 * The journal file can not be used as this batch's journal: nothing was sent. `detail` says why and
 * what to do.
 *
 * @since 0.1.0
 */
export class JournalUnusable extends Schema.TaggedError<JournalUnusable>("@esms-effect/store/JournalUnusable")(
  "JournalUnusable",
  { file: Schema.String, detail: Schema.String }
) {
  override get message(): string {
    return `${this.file} ${this.detail}`
  }
}

/**
 * How often the journal's WAL is copied into its main file while a run holds it: at most this much of
 * the state lives only in the -wal file.
 *
 * @since 0.1.0
 */
export const CHECKPOINT_EVERY: Duration.Duration = Duration.seconds(1)

const unusable = (file: string, detail: string) => new JournalUnusable({ file, detail })

// The SQLite failures that are the file's state, not a bug: said with what to do.
const explain =
  (file: string) => (error: SqlError.SqlError): Effect.Effect<never, SqlError.SqlError | JournalUnusable> => {
    switch (SqliteFile.codeOf(error)) {
      case "SQLITE_BUSY":
      case "SQLITE_LOCKED":
        return Effect.fail(unusable(
          file,
          "is in use by another esms run (a run locks its journal until it ends; the operating system drops " +
            "the lock of a run that was killed): wait for that run to finish, or stop it"
        ))
      case "SQLITE_NOTADB":
        return Effect.fail(unusable(
          file,
          "is not an esms journal (not a SQLite database): give --journal the journal of this batch, or a new file"
        ))
      case "SQLITE_CORRUPT":
        return Effect.fail(unusable(file, "is damaged (a truncated or altered database): restore it from a backup"))
      case "EISDIR":
        return Effect.fail(unusable(file, "is a directory: give --journal a file"))
      default:
        return Effect.fail(error)
    }
  }

/**
 * The service on a SQLite file, created if missing (readable by its owner only: it holds recipients
 * and message texts). Opening it checks that it is what it claims:
 *
 * - A file that exists must hold a journal (or be another store, which then gets one): a journal
 *   emptied to 0 bytes, or one whose tables are gone, is refused with `JournalUnusable` — taken as new,
 *   it would give every row a new RequestId and send it again.
 * - One run at a time: the connection holds SQLite's exclusive lock (`locking_mode = EXCLUSIVE`) until
 *   the layer is released; a second run is refused at once with `JournalUnusable` ("in use"). The lock
 *   is the operating system's, so it goes with the process, even one killed by SIGKILL: never stale.
 * - WAL with `synchronous = NORMAL` (a row's record survives the process being killed, not a power
 *   cut, without an fsync per row), checkpointed into the main file when the journal is made and every
 *   {@link CHECKPOINT_EVERY}: if the -wal file is lost after a kill, the main file still has the batch
 *   id (so the same RequestIds) and all but the last second of rows.
 *
 * @since 0.1.0
 */
export const layerSqlite = (
  filename: string
): Layer.Layer<Journal, SqlError.SqlError | ConfigError.ConfigError | JournalUnusable> =>
  Layer.scoped(
    Journal,
    Effect.gen(function*() {
      const before = yield* SqliteFile.prepare(filename)
      if (before === "empty") {
        return yield* unusable(
          filename,
          "is empty (0 bytes): it was truncated, and taken as new it would send every row again. Restore it " +
            "from a backup; delete it only if no row of this batch was ever sent"
        )
      }
      const context = yield* SqliteFile.open(filename, { exclusive: true })
      const sql = Context.get(context, SqlClient.SqlClient)
      yield* sql`PRAGMA synchronous = NORMAL`
      const checkpoint = Effect.ignore(sql`PRAGMA wal_checkpoint(PASSIVE)`)
      if (before === "database") {
        const tables = yield* sql<{ name: string }>`SELECT name FROM sqlite_master WHERE type = 'table'`
        const hasBatch = tables.some((t) => t.name === "journal_batch") &&
          (yield* sql<{ n: number }>`SELECT count(*) AS n FROM journal_batch`)[0].n > 0
        // No tables at all: what was there is gone (its -wal deleted before it reached the main file).
        if (!hasBatch && (tables.length === 0 || tables.some((t) => t.name.startsWith("journal_")))) {
          return yield* unusable(
            filename,
            "holds no journal (its content is gone: was its -wal file deleted?), and taken as new it would " +
              "send every row again. Restore it (and its -wal file) from a backup; delete it only if no row " +
              "of this batch was ever sent"
          )
        }
      }
      const journal = yield* Effect.provide(make, context)
      // The batch id reaches the main file at once; the rows every CHECKPOINT_EVERY (an fsync after each
      // commit made a batch six times slower).
      yield* checkpoint
      yield* Effect.forkScoped(Effect.repeat(checkpoint, Schedule.spaced(CHECKPOINT_EVERY)))
      return journal
    }).pipe(Effect.catchTag("SqlError", explain(filename)))
  )
