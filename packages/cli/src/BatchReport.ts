/**
 * The `--report` file of `esms zalo send-batch`: one JSON line per row (line, status, RequestId, SMSID
 * or error), written as the rows are settled. Readable by its owner only; never over a database.
 *
 * @since 0.1.0
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"

/** @since 0.1.0 @category schemas */
export const Accepted = Schema.Struct({
  line: Schema.Number,
  status: Schema.Literal("accepted"),
  requestId: Schema.String,
  smsId: Schema.NullOr(Schema.String),
  /** eSMS already had this RequestId (a re-send after a stop). */
  deduplicated: Schema.optional(Schema.Boolean),
  /** Settled by an earlier run: not sent by this one. */
  earlier: Schema.optional(Schema.Literal(true))
})

// A row eSMS did not take: the same fields, in the same order, whether it answered (rejected) or not.
const notTaken = <S extends string, F extends Schema.Struct.Fields>(status: S, fields: F) =>
  Schema.Struct({
    line: Schema.Number,
    status: Schema.Literal(status),
    tag: Schema.NullOr(Schema.String),
    ...fields,
    message: Schema.NullOr(Schema.String),
    requestId: Schema.String,
    earlier: Schema.optional(Schema.Literal(true))
  })

/** @since 0.1.0 @category schemas */
export const Rejected = notTaken("rejected", { code: Schema.NullOr(Schema.String) })

/** @since 0.1.0 @category schemas */
export const Failed = notTaken("failed", {})

/** @since 0.1.0 @category schemas */
export const Invalid = Schema.Struct({
  line: Schema.Number,
  status: Schema.Literal("invalid"),
  errors: Schema.Array(Schema.Struct({ field: Schema.String, message: Schema.String }))
})

/**
 * One row's result: a line of the report file, and what the tally counts.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ReportLine = Schema.Union(Accepted, Rejected, Failed, Invalid)

/** @since 0.1.0 @category models */
export type ReportLine = typeof ReportLine.Type

/**
 * A report line as written: one line of JSON.
 *
 * @since 0.1.0
 * @category encoding
 */
export const encodeLine: (line: ReportLine) => string = Schema.encodeSync(Schema.parseJson(ReportLine))

/**
 * Where report lines go.
 *
 * @since 0.1.0
 * @category models
 */
export interface Writer {
  readonly write: (line: ReportLine) => Effect.Effect<void>
}

/** No `--report`: lines go nowhere. @since 0.1.0 @category constructors */
export const none: Writer = { write: () => Effect.void }

const SQLITE_HEADER = "SQLite format 3\u0000"

// A report overwrites its file: never a database (another run's journal, a store), whatever its name.
const isDatabase = (fs: FileSystem.FileSystem, path: string): Effect.Effect<boolean> =>
  Effect.scoped(Effect.gen(function*() {
    const file = yield* fs.open(path, { flag: "r" })
    const head = new Uint8Array(SQLITE_HEADER.length)
    const read = yield* file.read(head)
    return Number(read) === head.length && Buffer.from(head).toString("latin1") === SQLITE_HEADER
  })).pipe(Effect.orElseSucceed(() => false))

/**
 * Opens the report file (truncated, mode 0600 even if it existed) for the scope: fails with the reason
 * it cannot be written, before anything is sent.
 *
 * @since 0.1.0
 * @category constructors
 */
export const open = (path: string): Effect.Effect<Writer, string, FileSystem.FileSystem | Scope.Scope> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    if (yield* isDatabase(fs, path)) {
      return yield* Effect.fail(
        `${path} is a SQLite database (a journal or a store?): a report would overwrite it; choose another`
      )
    }
    // The report holds recipients and results: readable by its owner only.
    const file = yield* fs.open(path, { flag: "w", mode: 0o600 }).pipe(Effect.mapError((error) => error.message))
    yield* fs.chmod(path, 0o600).pipe(Effect.mapError((error) => error.message))
    const encoder = new TextEncoder()
    return {
      write: (line) => Effect.orDie(file.writeAll(encoder.encode(encodeLine(line) + "\n")))
    }
  })

/**
 * The writer of an optional `--report` file.
 *
 * @since 0.1.0
 * @category constructors
 */
export const openOption = (
  path: Option.Option<string>
): Effect.Effect<Writer, string, FileSystem.FileSystem | Scope.Scope> =>
  Option.match(path, { onNone: () => Effect.succeed(none), onSome: open })
