/**
 * What became of one message of a batch sent with `EsmsClient.sendMany`: tagged so a pipeline can
 * branch on it (`Stream.partition`, `BatchOutcome.$match`), never an error that stops the others.
 *
 * @since 0.1.0
 */
import type { ImageError, ResultCode, ZaloMessage } from "@esms-effect/core"
import * as Data from "effect/Data"
import type * as TransportError from "./TransportError.js"

interface Base<A> {
  /** The message's position in the input stream, from 0. */
  readonly index: number
  /** The input element, as given. */
  readonly message: A
}

/**
 * The four outcomes:
 *
 * - `Accepted`: eSMS accepted the message (`deduplicated`: an earlier attempt of this send had
 *   already reached it).
 * - `Rejected`: eSMS answered a result code other than 100.
 * - `Failed`: no readable answer from eSMS after the retries: the message may or may not have
 *   reached it; sending it again with the same `requestId` is safe.
 * - `Invalid`: the message breaks a rule, or its photo is not one eSMS takes (when images are
 *   checked); it was not sent.
 *
 * @since 0.1.0
 * @category models
 */
export type BatchOutcome<A> = Data.TaggedEnum<{
  Accepted: Base<A> & {
    readonly requestId: string
    readonly smsId: string | undefined
    readonly deduplicated: boolean
  }
  Rejected: Base<A> & { readonly requestId: string; readonly error: ResultCode.ResultCodeError }
  Failed: Base<A> & { readonly requestId: string; readonly error: TransportError.TransportError }
  Invalid: Base<A> & { readonly error: ZaloMessage.InvalidMessage | ImageError.ImageError }
}>

/**
 * {@link BatchOutcome} with its input type as a parameter, for `Data.taggedEnum`.
 *
 * @since 0.1.0
 * @category models
 */
export interface BatchOutcomeDefinition extends Data.TaggedEnum.WithGenerics<1> {
  readonly taggedEnum: BatchOutcome<this["A"]>
}

/** @since 0.1.0 @category models */
export type Accepted<A> = Data.TaggedEnum.Value<BatchOutcome<A>, "Accepted">

/** @since 0.1.0 @category models */
export type Rejected<A> = Data.TaggedEnum.Value<BatchOutcome<A>, "Rejected">

/** @since 0.1.0 @category models */
export type Failed<A> = Data.TaggedEnum.Value<BatchOutcome<A>, "Failed">

/** @since 0.1.0 @category models */
export type Invalid<A> = Data.TaggedEnum.Value<BatchOutcome<A>, "Invalid">

/**
 * The constructors (`BatchOutcome.Accepted({ … })`, …), `$is` and `$match`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const { $is, $match, Accepted, Failed, Invalid, Rejected } = Data.taggedEnum<BatchOutcomeDefinition>()

/** @since 0.1.0 @category guards */
export const isAccepted = $is("Accepted")

/** @since 0.1.0 @category guards */
export const isRejected = $is("Rejected")

/** @since 0.1.0 @category guards */
export const isFailed = $is("Failed")

/** @since 0.1.0 @category guards */
export const isInvalid = $is("Invalid")
