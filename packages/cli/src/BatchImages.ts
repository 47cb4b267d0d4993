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
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as BatchFile from "./BatchFile.js"
import type * as Outcome from "./Outcome.js"

/** @since 0.1.0 */
export const noCheckImage = Options.boolean("no-check-image").pipe(
  Options.withDescription(
    "Do not fetch the photos in the checking pass (by default each distinct image_url is fetched once and " +
      "rows whose photo is not a JPEG or PNG of at most 1 MB are invalid)."
  )
)

/** Photos fetched at once in the checking pass. @since 0.1.0 */
export const CONCURRENCY = 4

/** A row's problem with its photo, named by its column. @since 0.1.0 */
export const problemOf = (error: ImageError.ImageError): Outcome.FieldProblem => ({
  field: BatchFile.columnName("imageUrl"),
  message: error.reason
})

/** The problems of an invalid outcome: its broken fields, or its photo. @since 0.1.0 */
export const problemsOf = (
  error: ZaloMessage.InvalidMessage | ImageError.ImageError
): ReadonlyArray<Outcome.FieldProblem> =>
  error._tag === "InvalidMessage"
    ? error.errors.map((e) => ({ field: BatchFile.columnName(e.field), message: e.message }))
    : [problemOf(error)]

/**
 * The checks of one run: `check` turns a valid row into a bad one when its photo fails; `checker` is
 * for `sendMany` (the same answers). Both absent with `--no-check-image`.
 *
 * @since 0.1.0
 */
export interface Photos {
  readonly check: <B extends { readonly line: number; readonly errors: ReadonlyArray<Outcome.FieldProblem> }>(
    line: number,
    result: Either.Either<ZaloMessage.ZaloMessage, B>
  ) => Effect.Effect<Either.Either<ZaloMessage.ZaloMessage, B | { line: number; errors: [Outcome.FieldProblem] }>>
  readonly checker: ImageCheck.Checker | undefined
}

/**
 * The run's photo checks, on the `HttpClient` in context.
 *
 * @since 0.1.0
 */
export const make = (enabled: boolean): Effect.Effect<Photos, never, HttpClient.HttpClient> =>
  enabled
    ? Effect.map(ImageCheck.cached(), (checker) => ({
      checker,
      check: (line, result) =>
        Either.isLeft(result)
          ? Effect.succeed(result)
          : Effect.match(checker(result.right.imageUrl), {
            onFailure: (error) => Either.left({ line, errors: [problemOf(error)] as [Outcome.FieldProblem] }),
            onSuccess: () => result
          })
    }))
    : Effect.succeed({ checker: undefined, check: (_, result) => Effect.succeed(result) })
