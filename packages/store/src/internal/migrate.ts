/**
 * Runs a store's migrations through `@effect/sql`'s `Migrator`, each store with its own migrations
 * table: stores share a file (the journal, the delivery reports), and each has its own history.
 */
import * as Migrator from "@effect/sql/Migrator"
import type * as SqlClient from "@effect/sql/SqlClient"
import { SqlError } from "@effect/sql/SqlError"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"

const migrator = Migrator.make({})

const asSqlError = (error: Migrator.MigrationError): SqlError =>
  error.cause instanceof SqlError ? error.cause : new SqlError({ cause: error, message: error.message })

/** Applies the migrations of `record` ("1_name": effect) not yet recorded in `table`. */
export const run = (
  table: string,
  record: Record<string, Effect.Effect<unknown, SqlError, SqlClient.SqlClient>>
): Effect.Effect<void, SqlError, SqlClient.SqlClient> =>
  migrator({
    table,
    loader: Migrator.fromRecord(record as Record<string, Effect.Effect<void, unknown, SqlClient.SqlClient>>)
  }).pipe(
    // A failed migration is the database's state (locked, read-only, damaged): the SqlError it is.
    Effect.catchSomeDefect((defect) =>
      defect instanceof Migrator.MigrationError ? Option.some(Effect.fail(asSqlError(defect))) : Option.none()
    ),
    Effect.catchAll((error) => Effect.fail(error instanceof Migrator.MigrationError ? asSqlError(error) : error)),
    Effect.asVoid
  )
