/**
 * Delivery reports (`DeliveryReports` of `@esms-effect/store`) in PostgreSQL: the same service, shared
 * by every receiver and `esms status` on the database. Each report is stored once per SMSID, status
 * and result — a unique constraint, so receivers behind one load balancer that all get eSMS's retries
 * of a callback still store it once.
 *
 * @since 0.1.0
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import { DeliveryReports } from "@esms-effect/store"
import type * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

/**
 * The service on the SQL client in context (the schema made by `PgStore.layer`): the store's own
 * queries, on the table `esms_delivery_reports`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: Effect.Effect<DeliveryReports.Service, never, SqlClient.SqlClient> = DeliveryReports.makeOn(
  "esms_delivery_reports"
)

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
