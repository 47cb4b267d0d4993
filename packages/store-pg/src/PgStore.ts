/**
 * The PostgreSQL connection of the store, from a `postgres://user:password@host:port/database` URL.
 * The URL is a secret (its password): it stays `Redacted`, and every error says it with the password
 * masked (`postgres://esms:***@db:5432/esms`).
 *
 * @since 0.1.0
 */
import * as PgClient from "@effect/sql-pg/PgClient"
import type * as SqlClient from "@effect/sql/SqlClient"
import type * as SqlError from "@effect/sql/SqlError"
import * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Schema_ from "./internal/schema.js"

/**
 * Whether a store setting (`ESMS_STORE`, `--store`) names PostgreSQL rather than a SQLite file.
 *
 * @since 0.1.0
 * @category predicates
 */
export const isUrl = (store: string): boolean => /^postgres(ql)?:\/\//i.test(store.trim())

/**
 * The URL with its password masked: what errors and logs may say.
 *
 * @since 0.1.0
 * @category utils
 */
export const masked = (url: Redacted.Redacted<string>): string => {
  const raw = Redacted.value(url)
  try {
    const parsed = new URL(raw)
    if (parsed.password !== "") parsed.password = "***"
    return parsed.toString()
  } catch {
    // Not a URL at all: say only its scheme.
    return `${raw.split(":")[0]}://…`
  }
}

/**
 * Every form of the URL's password (raw and URL-encoded) replaced with `***` in a text.
 *
 * @since 0.1.0
 * @category utils
 */
export const scrub = (url: Redacted.Redacted<string>, text: string): string => {
  const raw = Redacted.value(url)
  const secrets = new Set<string>([raw])
  try {
    const password = new URL(raw).password
    if (password !== "") {
      secrets.add(password)
      secrets.add(decodeURIComponent(password))
    }
  } catch {
    // Unparsable: the whole URL is the secret.
  }
  let result = text
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    if (secret !== "") result = result.split(secret).join(secret === raw ? masked(url) : "***")
  }
  return result
}

/**
 * The PostgreSQL store could not be opened: the URL is not one, the server does not answer, or it
 * refuses the login. `url` has its password masked; `detail` says why.
 *
 * @since 0.1.0
 * @category errors
 */
export class StoreUnavailable extends Schema.TaggedError<StoreUnavailable>("@esms-effect/store-pg/StoreUnavailable")(
  "StoreUnavailable",
  { url: Schema.String, detail: Schema.String }
) {
  override get message(): string {
    return `store ${this.url}: ${this.detail}`
  }
}

const reason = (error: unknown): string => {
  const cause = typeof error === "object" && error !== null && "cause" in error ? error.cause : error
  if (cause instanceof AggregateError && cause.errors.length > 0) return reason(cause.errors[0])
  if (cause instanceof Error) {
    const code = "code" in cause && typeof cause.code === "string" ? ` (${cause.code})` : ""
    return `${cause.message}${code}`
  }
  return error instanceof Error ? error.message : String(error)
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** How long to wait for the server at start. Default 5 seconds. */
  readonly connectTimeout?: Duration.DurationInput | undefined
  /** Connections in the pool. Default 10. */
  readonly maxConnections?: number | undefined
}

/**
 * The SQL client on the database of `url`, with the store's schema migrated (`@effect/sql`'s
 * `Migrator`, history in `esms_migrations`). Fails with {@link StoreUnavailable}, the password masked.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  url: Redacted.Redacted<string>,
  options: Options = {}
): Layer.Layer<SqlClient.SqlClient | PgClient.PgClient, StoreUnavailable> => {
  const fail = (detail: string) => new StoreUnavailable({ url: masked(url), detail: scrub(url, detail) })
  const raw = Redacted.value(url)
  let parsed: URL | undefined
  try {
    parsed = new URL(raw)
  } catch {
    parsed = undefined
  }
  if (parsed === undefined || !isUrl(raw) || parsed.hostname === "") {
    return Layer.fail(fail("is not a PostgreSQL URL (postgres://user:password@host:port/database)"))
  }
  const client = PgClient.layer({
    url,
    connectTimeout: options.connectTimeout ?? Duration.seconds(5),
    maxConnections: options.maxConnections ?? 10,
    applicationName: "esms"
  })
  const migrated = Layer.effectDiscard(Schema_.migrate).pipe(Layer.provideMerge(client))
  return migrated.pipe(
    Layer.catchAll((error: SqlError.SqlError) => Layer.fail(fail(reason(error))))
  )
}

/**
 * Runs the store's migrations on the SQL client in context (done by {@link layer}; for a client made
 * elsewhere).
 *
 * @since 0.1.0
 * @category constructors
 */
export const migrate: Effect.Effect<void, SqlError.SqlError, SqlClient.SqlClient> = Schema_.migrate
