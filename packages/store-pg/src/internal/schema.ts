/**
 * The PostgreSQL store's schema: one set of migrations for all its tables (journal, delivery reports,
 * campaigns, rate buckets), recorded in `esms_migrations`. A change of a table is a new migration here.
 */
import * as Migrator from "@effect/sql/Migrator"
import * as SqlClient from "@effect/sql/SqlClient"
import { SqlError } from "@effect/sql/SqlError"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"

export const TABLE = "esms_migrations"

export const migrations: Record<string, Effect.Effect<void, SqlError, SqlClient.SqlClient>> = {
  "1_tables": Effect.flatMap(SqlClient.SqlClient, (sql) =>
    Effect.all([
      sql`CREATE TABLE esms_journal_batches (
        name text PRIMARY KEY,
        id text NOT NULL UNIQUE,
        created_at bigint NOT NULL
      )`,
      sql`CREATE TABLE esms_journal_rows (
        batch text NOT NULL REFERENCES esms_journal_batches (name) ON DELETE CASCADE,
        line integer NOT NULL,
        request_id text NOT NULL,
        fingerprint text NOT NULL,
        state text NOT NULL,
        tag text,
        code text,
        sms_id text,
        detail text,
        updated_at bigint NOT NULL,
        PRIMARY KEY (batch, line)
      )`,
      sql`CREATE INDEX esms_journal_rows_state ON esms_journal_rows (batch, state)`,
      sql`CREATE TABLE esms_delivery_reports (
        id bigserial PRIMARY KEY,
        sms_id text NOT NULL,
        request_id text,
        send_status integer NOT NULL,
        result text NOT NULL,
        received_at bigint NOT NULL,
        query text NOT NULL,
        UNIQUE (sms_id, send_status, result)
      )`,
      sql`CREATE INDEX esms_delivery_reports_request_id ON esms_delivery_reports (request_id)`,
      sql`CREATE TABLE esms_campaigns (
        name text PRIMARY KEY,
        id text NOT NULL UNIQUE,
        file_fingerprint text NOT NULL,
        size integer NOT NULL,
        created_at timestamptz NOT NULL DEFAULT clock_timestamp()
      )`,
      sql`CREATE TABLE esms_campaign_rows (
        campaign text NOT NULL REFERENCES esms_campaigns (name) ON DELETE CASCADE,
        line integer NOT NULL,
        request_id text NOT NULL UNIQUE,
        data jsonb NOT NULL,
        state text NOT NULL DEFAULT 'pending',
        worker text,
        lease_until timestamptz,
        sent boolean NOT NULL DEFAULT false,
        attempts integer NOT NULL DEFAULT 0,
        tag text,
        code text,
        sms_id text,
        detail text,
        updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        PRIMARY KEY (campaign, line)
      )`,
      sql`CREATE INDEX esms_campaign_rows_claim ON esms_campaign_rows (campaign, state, lease_until)`,
      sql`CREATE TABLE esms_rate_buckets (
        account text PRIMARY KEY,
        next_slot double precision NOT NULL
      )`
    ], { discard: true })),
  "2_sent_requests": Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql`CREATE TABLE esms_sent_requests (
      request_id text PRIMARY KEY,
      fingerprint text NOT NULL,
      state text NOT NULL,
      first_sent_at bigint NOT NULL
    )`)
}

const migrator = Migrator.make({})

const asSqlError = (error: Migrator.MigrationError): SqlError =>
  error.cause instanceof SqlError ? error.cause : new SqlError({ cause: error, message: error.message })

/**
 * Applies the migrations not yet in `esms_migrations`. Processes starting together take turns: each
 * holds a PostgreSQL advisory lock (on a connection of its own) while it migrates.
 */
export const migrate: Effect.Effect<void, SqlError, SqlClient.SqlClient> = Effect.scoped(
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const lock = yield* sql.reserve
    yield* Effect.acquireRelease(
      lock.executeRaw("SELECT pg_advisory_lock(hashtext('esms-migrations'))", []),
      () => Effect.ignore(lock.executeRaw("SELECT pg_advisory_unlock(hashtext('esms-migrations'))", []))
    )
    yield* migrator({ table: TABLE, loader: Migrator.fromRecord(migrations) })
  })
).pipe(
  Effect.catchSomeDefect((defect) =>
    defect instanceof Migrator.MigrationError ? Option.some(Effect.fail(asSqlError(defect))) : Option.none()
  ),
  Effect.catchAll((error) => Effect.fail(error instanceof Migrator.MigrationError ? asSqlError(error) : error))
)
