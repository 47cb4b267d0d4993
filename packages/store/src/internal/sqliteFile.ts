/**
 * Opening a store's SQLite file: created readable by its owner only (SQLite gives its -wal and -shm
 * the main file's mode), and every way it can fail to open answered as a `SqlError`, not a defect.
 */
import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import type * as SqlClient from "@effect/sql/SqlClient"
import { SqlError } from "@effect/sql/SqlError"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as Fs from "node:fs"

/** What was at the path before it was opened. */
export type Before = "missing" | "empty" | "database"

/** The SQLite error code (`SQLITE_BUSY`, `SQLITE_NOTADB`, …) behind a failure, if any. */
export const codeOf = (error: unknown): string | undefined => {
  const cause = error instanceof SqlError ? error.cause : error
  return typeof cause === "object" && cause !== null && "code" in cause && typeof cause.code === "string"
    ? cause.code
    : undefined
}

const reason = (cause: unknown) =>
  cause instanceof Error
    ? ("code" in cause && typeof cause.code === "string" ? `${cause.message} (${cause.code})` : cause.message)
    : String(cause)

/** SQLite's names for a database that is no file: `:memory:` and `""` (a private temporary one). */
const isNoFile = (filename: string) => filename === ":memory:" || filename === ""

/** Makes the file (mode 0600) if it is missing, and says what was there. */
export const prepare = (filename: string): Effect.Effect<Before, SqlError> =>
  Effect.try({
    try: (): Before => {
      if (isNoFile(filename)) return "missing"
      const stat = Fs.statSync(filename, { throwIfNoEntry: false })
      if (stat === undefined) {
        Fs.closeSync(Fs.openSync(filename, "wx", 0o600))
        return "missing"
      }
      if (!stat.isFile()) throw Object.assign(new Error("is a directory, not a file"), { code: "EISDIR" })
      return stat.size === 0 ? "empty" : "database"
    },
    catch: (cause) => new SqlError({ cause, message: reason(cause) })
  })

/**
 * The SQLite client on `filename`, opened in the scope. `exclusive`: the connection holds the file's
 * lock until it closes (another process gets `SQLITE_BUSY` at once; the OS drops the lock when the
 * process dies, even by SIGKILL), and WAL needs no -shm file.
 */
export const open = (
  filename: string,
  options: { readonly exclusive?: boolean } = {}
): Effect.Effect<
  Context.Context<SqlClient.SqlClient | SqliteClient.SqliteClient>,
  SqlError | ConfigError.ConfigError,
  Scope.Scope
> =>
  Effect.gen(function*() {
    const context = yield* Layer.build(SqliteClient.layer({ filename, disableWAL: true })).pipe(
      // better-sqlite3 throws from its constructor (a directory, no permission): the file's fault.
      Effect.catchAllDefect((cause) => Effect.fail(new SqlError({ cause, message: reason(cause) })))
    )
    const client = Context.get(context, SqliteClient.SqliteClient)
    const pragmas = [
      ...(options.exclusive === true ? ["PRAGMA busy_timeout = 0", "PRAGMA locking_mode = EXCLUSIVE"] : []),
      "PRAGMA journal_mode = WAL"
    ]
    for (const pragma of pragmas) yield* client.unsafe(pragma)
    return context
  })
