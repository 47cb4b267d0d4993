/**
 * The checking pass of `esms zalo send-batch`: every row checked (fields, repeated request_ids, photos)
 * before anything is sent, and on a re-run, every row the journal has sent still the same message.
 *
 * @since 0.1.0
 */
import { ZaloMessage } from "@esms-effect/core"
import { Journal } from "@esms-effect/store"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { identity } from "effect/Function"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as BatchFile from "./BatchFile.js"
import * as BatchImages from "./BatchImages.js"
import type * as Outcome from "./Outcome.js"

/**
 * Invalid rows listed in the `--json` object at most (the `--report` file has all).
 *
 * @since 0.1.0
 * @category constants
 */
export const MAX_LISTED_INVALID = 1000

/**
 * One bad row: its line and every broken field (named by column).
 *
 * @since 0.1.0
 * @category models
 */
export interface BadRow {
  readonly line: number
  readonly errors: ReadonlyArray<Outcome.FieldProblem>
}

const problemsOf = (row: BatchFile.Row, error?: ZaloMessage.InvalidMessage): ReadonlyArray<Outcome.FieldProblem> =>
  row.problem !== undefined
    ? [{ field: "row", message: row.problem }]
    : (error?.errors ?? []).map((e) => ({ field: BatchFile.columnName(e.field), message: e.message }))

/**
 * The journal's fingerprint of the message a row sends.
 *
 * @since 0.1.0
 * @category fingerprints
 */
export const fingerprintOf = (input: ZaloMessage.Input): string =>
  Journal.fingerprint([input.userId, input.text, input.imageUrl, input.callbackUrl, input.requestId])

/**
 * A row's message, or its problems by column.
 *
 * @since 0.1.0
 * @category validation
 */
export const validate = (row: BatchFile.Row): Either.Either<ZaloMessage.ZaloMessage, BadRow> =>
  row.problem !== undefined
    ? Either.left({ line: row.line, errors: problemsOf(row) })
    : Either.mapLeft(
      ZaloMessage.validateEither(BatchFile.toInput(row)),
      (error) => ({ line: row.line, errors: problemsOf(row, error) })
    )

/**
 * A bad row as printed on stderr while checking.
 *
 * @since 0.1.0
 * @category formatting
 */
export const renderBad = (bad: BadRow): string => `line ${bad.line}: ${ZaloMessage.formatFieldErrors(bad.errors)}`

/**
 * What the first pass found.
 *
 * @since 0.1.0
 * @category models
 */
export interface Checked {
  readonly rows: number
  readonly invalid: number
  readonly listed: ReadonlyArray<BadRow>
  /** Rows whose `request_id` an earlier row has, by line: the earlier row's line. */
  readonly repeats: ReadonlyMap<number, number>
}

/**
 * The problem of a row that repeats the `request_id` of an earlier line.
 *
 * @since 0.1.0
 * @category validation
 */
export const repeatProblem = (first: number): Outcome.FieldProblem => ({
  field: "request_id",
  message: `repeats the request_id of line ${first} (one RequestId per message: eSMS would drop this one as a 124)`
})

/**
 * The first pass: every row checked before anything is sent; bad rows handed to `onBad` as found.
 * Memory holds only the rows' own request_ids (to find repeats), not the rows. Photos are checked a
 * chunk of rows at a time (each distinct URL once, a few at once), rows kept in order.
 *
 * @since 0.1.0
 * @category passes
 */
export const check = (
  file: string,
  defaults: BatchFile.Defaults,
  photos: BatchImages.Photos,
  onBad: (bad: BadRow) => Effect.Effect<void>
): Effect.Effect<Checked, BatchFile.FileUnreadable> =>
  Effect.suspend(() => {
    const seen = new Map<string, number>()
    const repeats = new Map<number, number>()
    const listed: Array<BadRow> = []
    const checkRow = (row: BatchFile.Row) => {
      const result = validate(row)
      const requestId = Either.isRight(result) ? BatchFile.toInput(row).requestId : undefined
      if (requestId === undefined) return result
      const first = seen.get(requestId)
      if (first === undefined) {
        seen.set(requestId, row.line)
        return result
      }
      repeats.set(row.line, first)
      return Either.left<BadRow>({ line: row.line, errors: [repeatProblem(first)] })
    }
    return BatchFile.rows(file, defaults).pipe(
      photos.enabled ? Stream.rechunk(BatchImages.CHUNK) : identity,
      Stream.mapChunksEffect((rows) =>
        photos.checkRows(Chunk.map(rows, (row) => [row, row.line, checkRow(row)] as const))
      ),
      Stream.runFoldEffect({ rows: 0, invalid: 0 }, (acc, [, result]) => {
        if (Either.isRight(result)) return Effect.succeed({ ...acc, rows: acc.rows + 1 })
        if (listed.length < MAX_LISTED_INVALID) listed.push(result.left)
        return Effect.as(onBad(result.left), { rows: acc.rows + 1, invalid: acc.invalid + 1 })
      }),
      Effect.map((acc): Checked => ({ ...acc, listed, repeats }))
    )
  })

/**
 * A row the journal says was sent holds another message now: the file was edited after a run. Its
 * RequestId must not be reused for the new content (eSMS would de-duplicate it away).
 *
 * @since 0.1.0
 * @category errors
 */
export class FileChanged extends Schema.TaggedError<FileChanged>("@esms-effect/cli/FileChanged")("FileChanged", {
  file: Schema.String,
  journal: Schema.String,
  line: Schema.Number
}) {
  override get message(): string {
    return `line ${this.line} of ${this.file} is not what was sent from it (journal ${this.journal}); ` +
      "restore the file, or start a new batch with another --journal"
  }
}

/**
 * A re-run's extra pass: a row the journal says was sent must still hold the same message.
 *
 * @since 0.1.0
 * @category passes
 */
export const checkUnchanged = (
  file: string,
  defaults: BatchFile.Defaults,
  journalFile: string,
  journal: Journal.Service
) =>
  BatchFile.rows(file, defaults).pipe(
    Stream.runForEach((row) =>
      Either.isLeft(validate(row)) ?
        Effect.void :
        Effect.flatMap(journal.get(row.line), (entry) =>
          Journal.conflicts(entry, fingerprintOf(BatchFile.toInput(row)))
            ? Effect.fail(new FileChanged({ file, journal: journalFile, line: row.line }))
            : Effect.void)
    )
  )
