/**
 * What became of one message of a batch sent with `EsmsClient.sendMany`: tagged so a pipeline can
 * branch on it (`Stream.partition`, `switch (outcome._tag)`), never an error that stops the others.
 *
 * @since 0.1.0
 */
import type { ImageError, ResultCode, ZaloMessage } from "@esms-effect/core"
import type * as TransportError from "./TransportError.js"

interface Base<A> {
  /** The message's position in the input stream, from 0. */
  readonly index: number
  /** The input element, as given. */
  readonly message: A
}

/**
 * eSMS accepted the message (`deduplicated`: an earlier attempt of this send had already reached it).
 *
 * @since 0.1.0
 */
export interface Accepted<A> extends Base<A> {
  readonly _tag: "Accepted"
  readonly requestId: string
  readonly smsId: string | undefined
  readonly deduplicated: boolean
}

/**
 * eSMS answered a result code other than 100.
 *
 * @since 0.1.0
 */
export interface Rejected<A> extends Base<A> {
  readonly _tag: "Rejected"
  readonly requestId: string
  readonly error: ResultCode.ResultCodeError
}

/**
 * No readable answer from eSMS after the retries: the message may or may not have reached it; sending
 * it again with the same `requestId` is safe.
 *
 * @since 0.1.0
 */
export interface Failed<A> extends Base<A> {
  readonly _tag: "Failed"
  readonly requestId: string
  readonly error: TransportError.TransportError
}

/**
 * The message breaks a rule, or its photo is not one eSMS takes (when images are checked); it was
 * not sent.
 *
 * @since 0.1.0
 */
export interface Invalid<A> extends Base<A> {
  readonly _tag: "Invalid"
  readonly error: ZaloMessage.InvalidMessage | ImageError.ImageError
}

/** @since 0.1.0 */
export type BatchOutcome<A> = Accepted<A> | Rejected<A> | Failed<A> | Invalid<A>

/** @since 0.1.0 */
export const isAccepted = <A>(outcome: BatchOutcome<A>): outcome is Accepted<A> => outcome._tag === "Accepted"

/** @since 0.1.0 */
export const isRejected = <A>(outcome: BatchOutcome<A>): outcome is Rejected<A> => outcome._tag === "Rejected"

/** @since 0.1.0 */
export const isFailed = <A>(outcome: BatchOutcome<A>): outcome is Failed<A> => outcome._tag === "Failed"

/** @since 0.1.0 */
export const isInvalid = <A>(outcome: BatchOutcome<A>): outcome is Invalid<A> => outcome._tag === "Invalid"
