/**
 * The photos of a `send-batch` run, checked in its checking pass (so `--dry-run` reports them by
 * line): each distinct URL fetched once per run, a few at a time; a row whose photo eSMS would not
 * take is a bad row like any other. The sending pass reuses the same answers (no second fetch).
 *
 * @since 0.1.0
 */
import * as Options from "@effect/cli/Options"
import type * as HttpClient from "@effect/platform/HttpClient"
import type { ImageError, ZaloMessage } from "@esms-effect/core"
import { ImageCheck } from "@esms-effect/http-client"
import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as BatchFile from "./BatchFile.js"
import type * as Outcome from "./Outcome.js"

/** @since 0.1.0 @category options */
export const noCheckImage = Options.boolean("no-check-image").pipe(
  Options.withDescription(
    "Do not fetch the photos in the checking pass (by default each distinct image_url is fetched once and " +
      "rows whose photo is not a JPEG or PNG of at most 1 MB are invalid)."
  )
)

/** Photos fetched at once in the checking pass. @since 0.1.0 @category constants */
export const CONCURRENCY = 4

/** A row's problem with its photo, named by its column. @since 0.1.0 @category formatting */
export const problemOf = (error: ImageError.ImageError): Outcome.FieldProblem => ({
  field: BatchFile.columnName("imageUrl"),
  message: error.reason
})

/** The problems of an invalid outcome: its broken fields, or its photo. @since 0.1.0 @category formatting */
export const problemsOf = (
  error: ZaloMessage.InvalidMessage | ImageError.ImageError
): ReadonlyArray<Outcome.FieldProblem> =>
  error._tag === "InvalidMessage"
    ? error.errors.map((e) => ({ field: BatchFile.columnName(e.field), message: e.message }))
    : [problemOf(error)]

/** Rows checked together: their distinct new photos are fetched at once, then each row is a lookup. @since 0.1.0 @category constants */
export const CHUNK = 512

/** A checked row: the message, or why the row is bad. @since 0.1.0 @category models */
export type Checked<B> = Either.Either<ZaloMessage.ZaloMessage, B | BadPhoto>

/** A row whose photo eSMS would not take. @since 0.1.0 @category models */
export interface BadPhoto {
  readonly line: number
  readonly errors: ReadonlyArray<Outcome.FieldProblem>
}

/**
 * The checks of one run: `checkRows` turns the valid rows of a chunk whose photo fails into bad ones
 * (rows kept in order); `checker` answers `sendMany` from the same results. Without a check, `checkRows`
 * answers the rows as they are and `checker` is undefined.
 *
 * @since 0.1.0
 * @category models
 */
export interface Photos {
  readonly enabled: boolean
  readonly checkRows: <R, B>(
    rows: Chunk.Chunk<readonly [R, number, Either.Either<ZaloMessage.ZaloMessage, B>]>
  ) => Effect.Effect<Chunk.Chunk<readonly [R, Checked<B>]>>
  readonly checker: ImageCheck.Checker | undefined
}

/**
 * The run's photo checks, on the `HttpClient` in context.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (enabled: boolean): Effect.Effect<Photos, never, HttpClient.HttpClient> =>
  !enabled
    ? Effect.succeed({
      enabled,
      checker: undefined,
      checkRows: (rows) => Effect.succeed(Chunk.map(rows, ([row, , result]) => [row, result] as const))
    })
    : Effect.map(ImageCheck.cached(), (fetch) => {
      // Settled answers, so that a row whose photo is known costs a lookup, not a fiber.
      const answers = new Map<string, Exit.Exit<ImageCheck.Image, ImageError.ImageError>>()
      const checker: ImageCheck.Checker = (url) => {
        const known = answers.get(url)
        return known ?? Effect.tap(Effect.exit(fetch(url)), (exit) => Effect.sync(() => answers.set(url, exit)))
          .pipe(Effect.flatten)
      }
      return {
        enabled,
        checker,
        checkRows: (rows) => {
          const fresh = new Set<string>()
          for (const [, , result] of rows) {
            if (Either.isRight(result) && !answers.has(result.right.imageUrl)) fresh.add(result.right.imageUrl)
          }
          return Effect.map(
            Effect.forEach(fresh, (url) => Effect.ignore(checker(url)), { concurrency: CONCURRENCY, discard: true }),
            // After the fetches: every photo of the chunk has its answer now.
            () =>
              Chunk.map(rows, ([row, line, result]) => {
                if (Either.isLeft(result)) return [row, result] as const
                const answer = answers.get(result.right.imageUrl)
                const error = answer !== undefined && Exit.isFailure(answer)
                  ? Option.getOrUndefined(Cause.failureOption(answer.cause))
                  : undefined
                return error === undefined
                  ? [row, result] as const
                  : [row, Either.left({ line, errors: [problemOf(error)] })] as const
              })
          )
        }
      }
    })
