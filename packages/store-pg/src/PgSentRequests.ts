/**
 * What each RequestId carried (`SentRequests` of `@esms-effect/store`) in PostgreSQL: the same service,
 * so a `send-image` retried from another machine still tells eSMS's 124 for its own message apart.
 * Records older than `SentRequests.KEEP_DAYS` days are dropped when the service starts.
 *
 * @since 0.1.0
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type * as SqlError from "@effect/sql/SqlError"
import { SentRequests } from "@esms-effect/store"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"

interface Row {
  readonly request_id: string
  readonly fingerprint: string
  readonly state: SentRequests.State
  readonly first_sent_at: string | number
}

/**
 * The service on the SQL client in context (the schema made by `PgStore.layer`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: Effect.Effect<SentRequests.Service, SqlError.SqlError, SqlClient.SqlClient> = Effect.gen(
  function*() {
    const sql = yield* SqlClient.SqlClient
    const now = yield* Clock.currentTimeMillis
    yield* sql`DELETE FROM esms_sent_requests WHERE first_sent_at < ${now - SentRequests.KEEP_DAYS * 24 * 3600_000}`

    const get = (requestId: string) =>
      sql<Row>`SELECT * FROM esms_sent_requests WHERE request_id = ${requestId}`.pipe(
        Effect.map((rows) =>
          Option.map(Option.fromNullable(rows[0]), (row): SentRequests.Sent => ({
            requestId: row.request_id,
            fingerprint: row.fingerprint,
            state: row.state,
            firstSentAt: new Date(Number(row.first_sent_at))
          }))
        )
      )

    // The first message to carry a RequestId keeps it: one insert that loses to a concurrent one reads it.
    const starting = (requestId: string, fingerprint: string) =>
      Effect.gen(function*() {
        const at = yield* Clock.currentTimeMillis
        const inserted = yield* sql`INSERT INTO esms_sent_requests (request_id, fingerprint, state, first_sent_at)
          VALUES (${requestId}, ${fingerprint}, 'sent', ${at})
          ON CONFLICT (request_id) DO NOTHING
          RETURNING request_id`
        if (inserted.length > 0) return { _tag: "Unknown" } as const
        const before = yield* Effect.map(
          sql<Row>`SELECT * FROM esms_sent_requests WHERE request_id = ${requestId} FOR UPDATE`,
          (rows) => rows[0]
        )
        if (before === undefined) return { _tag: "Unknown" } as const
        if (before.fingerprint !== fingerprint) {
          return { _tag: "OtherMessage", since: new Date(Number(before.first_sent_at)) } as const
        }
        yield* sql`UPDATE esms_sent_requests SET state = 'sent' WHERE request_id = ${requestId}`
        return before.state === "sent" ? { _tag: "SameMessage" } as const : { _tag: "Unknown" } as const
      }).pipe(sql.withTransaction)

    const rejected = (requestId: string, fingerprint: string) =>
      sql`UPDATE esms_sent_requests SET state = 'rejected'
        WHERE request_id = ${requestId} AND fingerprint = ${fingerprint}`.pipe(Effect.asVoid)

    return SentRequests.SentRequests.of({ starting, rejected, get })
  }
)

/**
 * The `SentRequests` service on the SQL client in context; provide `PgStore.layer`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<SentRequests.SentRequests, SqlError.SqlError, SqlClient.SqlClient> = Layer.effect(
  SentRequests.SentRequests,
  make
)
