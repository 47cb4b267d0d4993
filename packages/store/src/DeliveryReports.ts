/**
 * Delivery reports (eSMS callbacks) in the local SQLite store, next to the batch journal: each report
 * is stored once per SMSID, status and result (`success` / `failed` / `none`), so eSMS's retries
 * of the same callback change nothing; reports are found by SMSID or by RequestId.
 *
 * The table is made by {@link migrations} at layer start (its history in `delivery_reports_migrations`):
 * the store file may be new, made by an earlier version, or shared with the journal.
 *
 * @since 0.1.0
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type * as SqlError from "@effect/sql/SqlError"
import { DeliveryReport } from "@esms-effect/core"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Migrate from "./internal/migrate.js"
import * as SqliteFile from "./internal/sqliteFile.js"

/** The store file when `ESMS_STORE` is not set: `esms.sqlite` in the working directory. @since 0.1.0 */
export const DEFAULT_FILE = "esms.sqlite"

/**
 * The store file: `ESMS_STORE`, else {@link DEFAULT_FILE}.
 *
 * @since 0.1.0
 */
export const fileConfig: Config.Config<string> = Config.nonEmptyString("ESMS_STORE").pipe(
  Config.withDefault(DEFAULT_FILE)
)

/**
 * A report as stored, with when it arrived.
 *
 * @since 0.1.0
 */
export interface Stored {
  readonly receivedAt: Date
  readonly report: DeliveryReport.DeliveryReport
}

/**
 * @since 0.1.0
 */
export interface Service {
  /** Stores the report unless one with the same SMSID, status and result is there; true when new. */
  readonly record: (report: DeliveryReport.DeliveryReport) => Effect.Effect<boolean, SqlError.SqlError>
  /**
   * The report that best says what happened to a message, by SMSID or RequestId: the latest final one
   * (finished or rejected), else the latest.
   */
  readonly latest: (smsIdOrRequestId: string) => Effect.Effect<Option.Option<Stored>, SqlError.SqlError>
  /** Every report of a message, by SMSID or RequestId, oldest first. */
  readonly history: (smsIdOrRequestId: string) => Effect.Effect<ReadonlyArray<Stored>, SqlError.SqlError>
  /** How many reports are stored (all messages). */
  readonly count: Effect.Effect<number, SqlError.SqlError>
}

/**
 * @since 0.1.0
 */
export class DeliveryReports extends Context.Tag("@esms-effect/store/DeliveryReports")<DeliveryReports, Service>() {}

interface Row {
  readonly query: string
  readonly received_at: number | string
}

const encodeQuery = Schema.encodeSync(Schema.parseJson(DeliveryReport.DeliveryReportFromQuery))
const decodeQuery = Schema.decodeUnknown(Schema.parseJson(DeliveryReport.DeliveryReportFromQuery))

/**
 * The reports' schema, one migration per change (recorded in `delivery_reports_migrations`). The first
 * is the table of 0.1.0, made only where missing: a store written by 0.1.0 opens as it is.
 *
 * @since 0.2.0
 */
export const migrations: Record<string, Effect.Effect<unknown, SqlError.SqlError, SqlClient.SqlClient>> = {
  "1_delivery_reports_table": Effect.flatMap(SqlClient.SqlClient, (sql) =>
    Effect.all([
      sql`CREATE TABLE IF NOT EXISTS delivery_reports (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        sms_id TEXT NOT NULL,
        request_id TEXT,
        send_status INTEGER NOT NULL,
        result TEXT NOT NULL,
        received_at INTEGER NOT NULL,
        query TEXT NOT NULL,
        UNIQUE (sms_id, send_status, result)
      )`,
      sql`CREATE INDEX IF NOT EXISTS delivery_reports_request_id ON delivery_reports (request_id)`
    ], { discard: true }))
}

/**
 * The service on a table of the reports' shape named `table`, already made (by {@link migrations}
 * here, by `@esms-effect/store-pg`'s migrations on PostgreSQL): one service, the dialect chosen by the
 * layer that provides the `SqlClient`.
 *
 * @since 0.2.0
 * @category constructors
 */
export const makeOn = (table: string): Effect.Effect<Service, never, SqlClient.SqlClient> =>
  Effect.map(SqlClient.SqlClient, (sql) => {
    const reports = sql(table)

    const toStored = (rows: ReadonlyArray<Row>) =>
      Effect.forEach(rows, (row) =>
        decodeQuery(row.query).pipe(
          // PostgreSQL hands a BIGINT back as a string.
          Effect.map((report): Stored => ({ receivedAt: new Date(Number(row.received_at)), report })),
          // A row this module wrote always decodes; one edited by hand is skipped, not fatal.
          Effect.option
        )).pipe(Effect.map((stored) => stored.flatMap(Option.toArray)))

    const record = (report: DeliveryReport.DeliveryReport) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        sql<{ id: number | string }>`INSERT INTO ${reports}
          (sms_id, request_id, send_status, result, received_at, query)
          VALUES (${report.smsId}, ${report.requestId ?? null}, ${report.sendStatusCode},
            ${DeliveryReport.result(report)}, ${now}, ${encodeQuery(report)})
          ON CONFLICT (sms_id, send_status, result) DO NOTHING
          RETURNING id`).pipe(Effect.map((rows) => rows.length > 0))

    const latest = (id: string) =>
      sql<Row>`SELECT query, received_at FROM ${reports}
        WHERE sms_id = ${id} OR request_id = ${id}
        -- final statuses (rejected, finished) first: nothing happens after them
        ORDER BY send_status IN (4, 5) DESC, id DESC
        LIMIT 1`.pipe(
        Effect.flatMap(toStored),
        Effect.map((stored) => Option.fromNullable(stored[0]))
      )

    const history = (id: string) =>
      sql<Row>`SELECT query, received_at FROM ${reports}
        WHERE sms_id = ${id} OR request_id = ${id}
        ORDER BY id`.pipe(Effect.flatMap(toStored))

    const count = sql<{ n: number | string }>`SELECT count(*) AS n FROM ${reports}`.pipe(
      Effect.map((rows) => Number(rows[0]?.n ?? 0))
    )

    return DeliveryReports.of({ record, latest, history, count })
  })

/**
 * Migrates the schema and builds the service on the `SqlClient` in context.
 *
 * @since 0.1.0
 */
export const make: Effect.Effect<Service, SqlError.SqlError, SqlClient.SqlClient> = Effect.zipRight(
  Migrate.run("delivery_reports_migrations", migrations),
  makeOn("delivery_reports")
)

/**
 * The service on the `SqlClient` in context.
 *
 * @since 0.1.0
 */
export const layer: Layer.Layer<DeliveryReports, SqlError.SqlError, SqlClient.SqlClient> = Layer.effect(
  DeliveryReports,
  make
)

/**
 * The SQL client on a store file, created if missing readable by its owner only (it holds recipients'
 * delivery results; SQLite gives its -wal and -shm the same mode), in WAL mode: a receiver may write
 * while `esms status` reads. Shared by the stores kept in that file.
 *
 * @since 0.1.0
 */
export const layerSqlClient = (
  filename: string
): Layer.Layer<SqlClient.SqlClient, SqlError.SqlError | ConfigError.ConfigError> =>
  Layer.scopedContext(Effect.zipRight(SqliteFile.prepare(filename), SqliteFile.open(filename)))

/**
 * The service on a SQLite file (see {@link layerSqlClient}).
 *
 * @since 0.1.0
 */
export const layerSqlite = (
  filename: string
): Layer.Layer<DeliveryReports, SqlError.SqlError | ConfigError.ConfigError> =>
  layer.pipe(Layer.provide(layerSqlClient(filename)))

/**
 * The service on the file named by {@link fileConfig} (`ESMS_STORE`, default `esms.sqlite`).
 *
 * @since 0.1.0
 */
export const layerConfig: Layer.Layer<DeliveryReports, SqlError.SqlError | ConfigError.ConfigError> = Layer
  .unwrapEffect(Effect.map(fileConfig, layerSqlite))
