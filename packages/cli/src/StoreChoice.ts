/**
 * The one store setting (`--store`, else `ESMS_STORE`): a file path is the SQLite store (the default,
 * `esms.sqlite`); a `postgres://` URL is the PostgreSQL store shared by several machines. The URL is a
 * secret like the keys (its password): kept `Redacted`, and said masked (`postgres://esms:***@db/esms`).
 *
 * @since 0.2.0
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import { DeliveryReports, SentRequests } from "@esms-effect/store"
import type * as StorePg from "@esms-effect/store-pg"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Path from "node:path"

/**
 * @since 0.2.0
 * @category models
 */
export type StoreChoice =
  | { readonly _tag: "Sqlite"; readonly file: string }
  | { readonly _tag: "Postgres"; readonly url: Redacted.Redacted<string> }

/** Whether the setting names PostgreSQL. @since 0.2.0 */
export const isUrl = (store: string): boolean => /^postgres(ql)?:\/\//i.test(store.trim())

/**
 * @since 0.2.0
 * @category constructors
 */
export const choose = (store: string): StoreChoice =>
  isUrl(store) ? { _tag: "Postgres", url: Redacted.make(store.trim()) } : { _tag: "Sqlite", file: store }

/**
 * The store as it may be printed: the file's absolute path, or the URL with its password masked.
 *
 * @since 0.2.0
 */
export const describe = (choice: StoreChoice): string => {
  if (choice._tag === "Sqlite") return Path.resolve(choice.file)
  try {
    const url = new URL(Redacted.value(choice.url))
    if (url.password !== "") url.password = "***"
    return url.toString()
  } catch {
    return "postgres://…"
  }
}

/**
 * The PostgreSQL store could not be opened (`detail` has no password: store-pg masks it).
 *
 * @since 0.2.0
 * @category errors
 */
export interface StoreUnavailable {
  readonly _tag: "StoreUnavailable"
  readonly url: string
  readonly detail: string
  readonly message: string
}

/** How opening the SQLite store fails (a `SqlError`, a `ConfigError`). @since 0.2.0 */
export type SqliteFailure = Layer.Layer.Error<ReturnType<typeof DeliveryReports.layerSqlite>>

// store-pg (and the `pg` driver) load only when a URL is chosen: a SQLite user's start-up does not pay
// for them. `pick` chooses the layer of store-pg to run on the database at `url`.
const onPostgres = <A, E>(
  url: Redacted.Redacted<string>,
  pick: (pg: typeof StorePg) => Layer.Layer<A, E, SqlClient.SqlClient>
): Layer.Layer<A, E | StoreUnavailable> =>
  Layer.unwrapEffect(
    Effect.map(
      Effect.promise(() => import("@esms-effect/store-pg")),
      (pg) => pick(pg).pipe(Layer.provide(pg.PgStore.layer(url)))
    )
  )

/**
 * The `DeliveryReports` of the chosen store. store-pg (and the `pg` driver) load only when a URL is
 * chosen: a SQLite user's start-up does not pay for them.
 *
 * @since 0.2.0
 * @category layers
 */
export const deliveryReports = (
  choice: StoreChoice
): Layer.Layer<DeliveryReports.DeliveryReports, SqliteFailure | StoreUnavailable> =>
  choice._tag === "Sqlite"
    ? DeliveryReports.layerSqlite(choice.file)
    : onPostgres(choice.url, (pg) => pg.PgDeliveryReports.layer)

/**
 * The `SentRequests` (what each RequestId carried) of the chosen store.
 *
 * @since 0.2.0
 * @category layers
 */
export const sentRequests = (
  choice: StoreChoice
): Layer.Layer<SentRequests.SentRequests, SqliteFailure | StoreUnavailable> =>
  choice._tag === "Sqlite"
    ? SentRequests.layerSqlite(choice.file)
    : onPostgres(choice.url, (pg) => pg.PgSentRequests.layer)
