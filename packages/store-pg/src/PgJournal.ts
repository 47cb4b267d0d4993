/**
 * The batch journal (`Journal` of `@esms-effect/store`) in PostgreSQL: the same service, one journal
 * per name (a batch's name takes the place of its journal file). One run at a time per name: the
 * layer holds a PostgreSQL advisory lock on its own connection until it is released; the server drops
 * it when that connection goes, even after a SIGKILL.
 *
 * @since 0.1.0
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type * as SqlError from "@effect/sql/SqlError"
import { Journal } from "@esms-effect/store"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import { randomBytes } from "node:crypto"

/**
 * The journal named `name` (created on first use) on the SQL client in context, locked for this run:
 * a second run of the same name is refused with `JournalUnusable` ("in use") while this one holds it.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  name: string
): Effect.Effect<Journal.Service, SqlError.SqlError | Journal.JournalUnusable, SqlClient.SqlClient | Scope.Scope> =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const lock = yield* sql.reserve
    const [locked] = yield* lock.executeRaw(
      "SELECT pg_try_advisory_lock(hashtext('esms-journal'), hashtext($1)) AS ok",
      [name]
    ).pipe(Effect.map((result) => (result as { rows: ReadonlyArray<{ ok: boolean }> }).rows))
    if (locked?.ok !== true) {
      return yield* new Journal.JournalUnusable({
        file: `journal "${name}"`,
        detail: "is in use by another esms run (a run holds its journal until it ends; the database drops the " +
          "hold of a run that was killed): wait for that run to finish, or stop it"
      })
    }
    const now = yield* Clock.currentTimeMillis
    const created = yield* sql<{ id: string }>`INSERT INTO esms_journal_batches (name, id, created_at)
      VALUES (${name}, ${randomBytes(6).toString("hex")}, ${now})
      ON CONFLICT (name) DO NOTHING
      RETURNING id`
    const [batch] = yield* sql<{ id: string }>`SELECT id FROM esms_journal_batches WHERE name = ${name}`
    const batchId = batch.id

    const get = (line: number) =>
      sql<Journal.Row>`SELECT * FROM esms_journal_rows WHERE batch = ${name} AND line = ${line}`.pipe(
        Effect.map((rows) => Option.map(Option.fromNullable(rows[0]), Journal.entryFromRow))
      )

    const inFlight = (line: number, requestId: string, fingerprint: string) =>
      Effect.flatMap(
        Clock.currentTimeMillis,
        (now) =>
          sql`INSERT INTO esms_journal_rows (batch, line, request_id, fingerprint, state, updated_at)
          VALUES (${name}, ${line}, ${requestId}, ${fingerprint}, 'in_flight', ${now})
          ON CONFLICT (batch, line) DO UPDATE SET request_id = excluded.request_id,
            fingerprint = excluded.fingerprint, state = 'in_flight', tag = NULL, code = NULL, sms_id = NULL,
            detail = NULL, updated_at = excluded.updated_at`
      ).pipe(Effect.asVoid)

    const settle = (line: number, s: Journal.Settlement) => {
      const { code, detail, sms_id, state, tag } = Journal.settlementColumns(s)
      return Effect.flatMap(
        Clock.currentTimeMillis,
        (now) =>
          sql`UPDATE esms_journal_rows SET state = ${state}, tag = ${tag}, code = ${code}, sms_id = ${sms_id},
          detail = ${detail}, updated_at = ${now} WHERE batch = ${name} AND line = ${line}`
      ).pipe(Effect.asVoid)
    }

    const invalid = (line: number, fingerprint: string, detail: string) =>
      Effect.flatMap(
        Clock.currentTimeMillis,
        (now) =>
          sql`INSERT INTO esms_journal_rows (batch, line, request_id, fingerprint, state, detail, updated_at)
          VALUES (${name}, ${line}, '', ${fingerprint}, 'invalid', ${detail}, ${now})
          ON CONFLICT (batch, line) DO UPDATE SET fingerprint = excluded.fingerprint, state = 'invalid',
            tag = NULL, code = NULL, sms_id = NULL, detail = excluded.detail,
            updated_at = excluded.updated_at`
      ).pipe(Effect.asVoid)

    const counts = sql<{ state: Journal.State; n: string }>`SELECT state, count(*) AS n FROM esms_journal_rows
      WHERE batch = ${name} GROUP BY state`.pipe(
      Effect.map((rows) => {
        const result = Object.fromEntries(Journal.states.map((s) => [s, 0])) as Record<Journal.State, number>
        for (const row of rows) result[row.state] = Number(row.n)
        return result
      })
    )

    const inState = (state: Journal.State) =>
      sql<Journal.Row>`SELECT * FROM esms_journal_rows WHERE batch = ${name} AND state = ${state} ORDER BY line`.pipe(
        Effect.map((rows) => rows.map(Journal.entryFromRow))
      )

    return Journal.Journal.of({
      batchId,
      isNew: created.length > 0,
      requestIdFor: (line) => Journal.requestIdOf(batchId, line),
      get,
      inFlight,
      settle,
      invalid,
      counts,
      inState
    })
  })

/**
 * The `Journal` named `name` on the SQL client in context (see {@link make}); provide `PgStore.layer`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  name: string
): Layer.Layer<Journal.Journal, SqlError.SqlError | Journal.JournalUnusable, SqlClient.SqlClient> =>
  Layer.scoped(Journal.Journal, make(name))
