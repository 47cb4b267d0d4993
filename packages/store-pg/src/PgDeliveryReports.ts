/**
 * Delivery reports (`DeliveryReports` of `@esms-effect/store`) in PostgreSQL: the same service, shared
 * by every receiver and `esms status` on the database. Each report is stored once per SMSID, status
 * and result — a unique constraint, so receivers behind one load balancer that all get eSMS's retries
 * of a callback still store it once.
 *
 * @since 0.1.0
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { DeliveryReport } from "@esms-effect/core"
import { DeliveryReports } from "@esms-effect/store"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"

interface Row {
  readonly query: string
  readonly received_at: string | number
}

const encodeQuery = Schema.encodeSync(Schema.parseJson(DeliveryReport.DeliveryReportFromQuery))
const decodeQuery = Schema.decodeUnknown(Schema.parseJson(DeliveryReport.DeliveryReportFromQuery))

/**
 * The service on the SQL client in context (the schema made by `PgStore.layer`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: Effect.Effect<DeliveryReports.Service, never, SqlClient.SqlClient> = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient

  const toStored = (rows: ReadonlyArray<Row>) =>
    Effect.forEach(rows, (row) =>
      decodeQuery(row.query).pipe(
        Effect.map((report): DeliveryReports.Stored => ({ receivedAt: new Date(Number(row.received_at)), report })),
        // A row this module wrote always decodes; one edited by hand is skipped, not fatal.
        Effect.option
      )).pipe(Effect.map((stored) => stored.flatMap(Option.toArray)))

  const record = (report: DeliveryReport.DeliveryReport) =>
    Effect.flatMap(Clock.currentTimeMillis, (now) =>
      sql<{ id: string }>`INSERT INTO esms_delivery_reports
        (sms_id, request_id, send_status, result, received_at, query)
        VALUES (${report.smsId}, ${report.requestId ?? null}, ${report.sendStatusCode},
          ${DeliveryReport.result(report)}, ${now}, ${encodeQuery(report)})
        ON CONFLICT (sms_id, send_status, result) DO NOTHING
        RETURNING id`).pipe(Effect.map((rows) => rows.length > 0))

  const latest = (id: string) =>
    sql<Row>`SELECT query, received_at FROM esms_delivery_reports
      WHERE sms_id = ${id} OR request_id = ${id}
      -- final statuses (rejected, finished) first: nothing happens after them
      ORDER BY send_status IN (4, 5) DESC, id DESC
      LIMIT 1`.pipe(
      Effect.flatMap(toStored),
      Effect.map((stored) => Option.fromNullable(stored[0]))
    )

  const history = (id: string) =>
    sql<Row>`SELECT query, received_at FROM esms_delivery_reports
      WHERE sms_id = ${id} OR request_id = ${id}
      ORDER BY id`.pipe(Effect.flatMap(toStored))

  const count = sql<{ n: string }>`SELECT count(*) AS n FROM esms_delivery_reports`.pipe(
    Effect.map((rows) => Number(rows[0]?.n ?? 0))
  )

  return DeliveryReports.DeliveryReports.of({ record, latest, history, count })
})

/**
 * The `DeliveryReports` service on the SQL client in context; provide `PgStore.layer`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<DeliveryReports.DeliveryReports, never, SqlClient.SqlClient> = Layer.effect(
  DeliveryReports.DeliveryReports,
  make
)
