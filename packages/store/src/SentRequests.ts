/**
 * What each RequestId carried, in the local store (`esms.sqlite`, next to the delivery reports): a
 * single send records its RequestId with a fingerprint of its message (a hash: no recipient, no text)
 * before it goes out. eSMS answers 124 to a RequestId it has seen within 24 h; with this record a
 * retry can tell which 124 it got:
 *
 * - the same message sent before with this RequestId, and not refused then: eSMS has it — the retry
 *   is accepted, de-duplicated;
 * - another message, or none known here: a RequestId reused — a rejection, as eSMS says.
 *
 * Records older than {@link KEEP_DAYS} days are dropped when the store opens (eSMS forgets after 24 h).
 *
 * @since 0.1.0
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type * as SqlError from "@effect/sql/SqlError"
import * as Clock from "effect/Clock"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as DeliveryReports from "./DeliveryReports.js"
import * as Migrate from "./internal/migrate.js"
import * as Journal from "./Journal.js"

/**
 * The fingerprint of what a send carries (OAID, recipient, text, image, callback, send date): a hash.
 *
 * @since 0.1.0
 */
export const fingerprint: (fields: ReadonlyArray<string | undefined>) => string = Journal.fingerprint

/** Days a record is kept. @since 0.1.0 */
export const KEEP_DAYS = 7

/**
 * `sent`: the send went out (accepted, or its answer was unreadable); `rejected`: eSMS answered with a
 * result code other than 100 and 124, so it does not hold the message.
 *
 * @since 0.1.0
 */
export type State = "sent" | "rejected"

/** @since 0.1.0 */
export interface Sent {
  readonly requestId: string
  readonly fingerprint: string
  readonly state: State
  readonly firstSentAt: Date
}

/**
 * What a 124 for a send means, given what the store held for its RequestId before it.
 *
 * - `SameMessage`: this message went out with this RequestId before: eSMS has it.
 * - `OtherMessage`: another message carried it (`since` when).
 * - `Unknown`: nothing known here (another machine or store, or older than {@link KEEP_DAYS} days), or
 *   eSMS refused the earlier send.
 *
 * @since 0.1.0
 */
export type Earlier =
  | { readonly _tag: "SameMessage" }
  | { readonly _tag: "OtherMessage"; readonly since: Date }
  | { readonly _tag: "Unknown" }

/**
 * @since 0.1.0
 */
export interface Service {
  /**
   * Records that a send with this RequestId and message fingerprint starts now (the first message to
   * carry a RequestId keeps it), and says what was known of it before.
   */
  readonly starting: (requestId: string, fingerprint: string) => Effect.Effect<Earlier, SqlError.SqlError>
  /** Records that eSMS refused this send (it holds no message under this RequestId from it). */
  readonly rejected: (requestId: string, fingerprint: string) => Effect.Effect<void, SqlError.SqlError>
  readonly get: (requestId: string) => Effect.Effect<Option.Option<Sent>, SqlError.SqlError>
}

/** @since 0.1.0 */
export class SentRequests extends Context.Tag("@esms-effect/store/SentRequests")<SentRequests, Service>() {}

interface Row {
  readonly request_id: string
  readonly fingerprint: string
  readonly state: State
  readonly first_sent_at: number
}

/**
 * The records' schema, one migration per change (recorded in `sent_requests_migrations`). The first is
 * the table of 0.1.0, made only where missing: a store written by 0.1.0 opens as it is.
 *
 * @since 0.2.0
 */
export const migrations: Record<string, Effect.Effect<unknown, SqlError.SqlError, SqlClient.SqlClient>> = {
  "1_sent_requests_table": Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql`CREATE TABLE IF NOT EXISTS sent_requests (
      request_id TEXT PRIMARY KEY,
      fingerprint TEXT NOT NULL,
      state TEXT NOT NULL,
      first_sent_at INTEGER NOT NULL
    )`)
}

/**
 * Migrates the schema, drops old records, and builds the service on the `SqlClient` in context.
 *
 * @since 0.1.0
 */
export const make: Effect.Effect<Service, SqlError.SqlError, SqlClient.SqlClient> = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* Migrate.run("sent_requests_migrations", migrations)
  yield* sql`DELETE FROM sent_requests WHERE first_sent_at < ${
    (yield* Clock.currentTimeMillis) - KEEP_DAYS * 24 * 3600_000
  }`

  const get = (requestId: string) =>
    sql<Row>`SELECT * FROM sent_requests WHERE request_id = ${requestId}`.pipe(
      Effect.map((rows) =>
        Option.map(Option.fromNullable(rows[0]), (row): Sent => ({
          requestId: row.request_id,
          fingerprint: row.fingerprint,
          state: row.state,
          firstSentAt: new Date(row.first_sent_at)
        }))
      )
    )

  const starting = (requestId: string, fingerprint: string) =>
    Effect.gen(function*() {
      const before = yield* get(requestId)
      if (Option.isNone(before)) {
        yield* sql`INSERT INTO sent_requests (request_id, fingerprint, state, first_sent_at)
          VALUES (${requestId}, ${fingerprint}, 'sent', ${yield* Clock.currentTimeMillis})`
        return { _tag: "Unknown" } as const
      }
      if (before.value.fingerprint !== fingerprint) {
        return { _tag: "OtherMessage", since: before.value.firstSentAt } as const
      }
      yield* sql`UPDATE sent_requests SET state = 'sent' WHERE request_id = ${requestId}`
      return before.value.state === "sent" ? { _tag: "SameMessage" } as const : { _tag: "Unknown" } as const
    }).pipe(sql.withTransaction)

  const rejected = (requestId: string, fingerprint: string) =>
    sql`UPDATE sent_requests SET state = 'rejected'
      WHERE request_id = ${requestId} AND fingerprint = ${fingerprint}`.pipe(Effect.asVoid)

  return SentRequests.of({ starting, rejected, get })
})

/** @since 0.1.0 */
export const layer: Layer.Layer<SentRequests, SqlError.SqlError, SqlClient.SqlClient> = Layer.effect(
  SentRequests,
  make
)

/**
 * The service on a store file (created 0600 if missing; see `DeliveryReports.layerSqlClient`).
 *
 * @since 0.1.0
 */
export const layerSqlite = (
  filename: string
): Layer.Layer<SentRequests, SqlError.SqlError | ConfigError.ConfigError> =>
  layer.pipe(Layer.provide(DeliveryReports.layerSqlClient(filename)))
