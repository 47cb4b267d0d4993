/**
 * The sending pass of `esms zalo send-batch`, as a stream of row results (report lines). It reads its
 * rows from a {@link RowSource}: today the batch file with its SQLite journal ({@link fileSource}); any
 * other source of claimed rows (a campaign shared by several workers) plugs in the same way.
 *
 * @since 0.1.0
 */
import { ZaloMessage } from "@esms-effect/core"
import { type BatchOutcome, type EsmsClient, UndiciHttpClient } from "@esms-effect/http-client"
import { Journal } from "@esms-effect/store"
import * as Chunk from "effect/Chunk"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Mailbox from "effect/Mailbox"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as BatchCheck from "./BatchCheck.js"
import * as BatchFile from "./BatchFile.js"
import * as BatchImages from "./BatchImages.js"
import type * as BatchReport from "./BatchReport.js"
import * as BatchStop from "./BatchStop.js"
import type * as Outcome from "./Outcome.js"

/**
 * A row on its way to the client: the message fields, its line, and what its source knows.
 *
 * @since 0.1.0
 * @category models
 */
export interface Item extends ZaloMessage.Input {
  readonly line: number
  readonly fingerprint: string
  /** Its RequestId may already have reached eSMS: a 124 for it now means eSMS has it (accepted). */
  readonly sentBefore: boolean
}

/**
 * A row as its source hands it to the sending pass.
 *
 * - `Send`: to send, with the RequestId it carries.
 * - `Settled`: an earlier run settled it (accepted, or rejected / failed without `--retry-failed`).
 * - `Invalid`: not sent at all.
 *
 * @since 0.1.0
 * @category models
 */
export type Claimed = Data.TaggedEnum<{
  Send: { readonly item: Item }
  Settled: { readonly entry: Journal.Entry }
  Invalid: { readonly line: number; readonly fingerprint: string; readonly errors: ReadonlyArray<Outcome.FieldProblem> }
}>

/** @since 0.1.0 @category constructors */
export const Claimed = Data.taggedEnum<Claimed>()

/**
 * Where the sending pass writes a send's start and each row's result: the journal's writes.
 *
 * A ledger with `unstarted` is written in_flight before the row waits for its permit, so that the
 * request leaves right at it (a store across the network answers in a round trip, whose jitter would
 * bunch the requests eSMS counts); on a stop it is handed the rows so written whose request never went.
 * One without (the SQLite file's journal, written locally in microseconds) is written right before the
 * request, after the permit: a stopped row is never in_flight there.
 *
 * @since 0.1.0
 * @category models
 */
export interface Ledger extends Pick<Journal.Service, "inFlight" | "settle" | "invalid"> {
  readonly unstarted?: ((lines: ReadonlyArray<number>) => Effect.Effect<void, LedgerError>) | undefined
}

/** What a ledger's write fails with (the journal's SQL error). @since 0.1.0 @category models */
export type LedgerError = Effect.Effect.Error<ReturnType<Journal.Service["settle"]>>

/**
 * The rows of a run: a stream of claimed rows, read one at a time as the sends go, and the ledger
 * their results are written to.
 *
 * @since 0.1.0
 * @category models
 */
export interface RowSource<E, R> {
  readonly rows: Stream.Stream<Claimed, E, R>
  readonly ledger: Ledger
}

/**
 * The rows of a batch file, each decided by the SQLite journal (`Journal.decide`).
 *
 * @since 0.1.0
 * @category sources
 */
export const fileSource = (
  options: {
    readonly file: string
    readonly defaults: BatchFile.Defaults
    readonly retryFailed: boolean
    /** The journal was used before this run: a row it has no record of may have been sent (a lost commit). */
    readonly resumed: boolean
  },
  checked: BatchCheck.Checked,
  journal: Journal.Service
): RowSource<BatchFile.FileUnreadable | LedgerError, never> => ({
  ledger: journal,
  rows: BatchFile.rows(options.file, options.defaults).pipe(
    Stream.rechunk(1),
    Stream.mapEffect((row) =>
      Effect.gen(function*() {
        const input = BatchFile.toInput(row)
        const fingerprint = BatchCheck.fingerprintOf(input)
        const repeated = checked.repeats.get(row.line)
        const result = BatchCheck.validate(row)
        if (repeated !== undefined || Either.isLeft(result)) {
          const errors = repeated !== undefined ? [BatchCheck.repeatProblem(repeated)] : Either.getLeft(result).pipe(
            Option.map((bad) => bad.errors),
            Option.getOrElse(() => [])
          )
          return Claimed.Invalid({ line: row.line, fingerprint, errors })
        }
        const entry = yield* journal.get(row.line)
        const decision = Journal.decide(entry, input.requestId ?? journal.requestIdFor(row.line), options.retryFailed)
        if (decision._tag === "Skip") return Claimed.Settled({ entry: decision.entry })
        return Claimed.Send({
          item: {
            ...input,
            requestId: decision.requestId,
            line: row.line,
            fingerprint,
            // A RequestId of this journal's own making that it has no record of: only this journal can
            // have sent it (a commit lost with a deleted -wal), so a 124 for it means eSMS has it.
            sentBefore: decision.sentBefore ||
              (options.resumed && Option.isNone(entry) && input.requestId === undefined)
          }
        })
      })
    )
  )
})

/**
 * The report line of a row an earlier run settled.
 *
 * @since 0.1.0
 * @category results
 */
export const settledLine = (entry: Journal.Entry): BatchReport.ReportLine => {
  switch (entry.state) {
    case "accepted":
    case "deduplicated":
      return {
        line: entry.line,
        status: "accepted",
        requestId: entry.requestId,
        smsId: entry.smsId ?? null,
        earlier: true
      }
    case "rejected":
      return {
        line: entry.line,
        status: "rejected",
        tag: entry.tag ?? null,
        code: entry.code ?? null,
        message: entry.detail ?? null,
        requestId: entry.requestId,
        earlier: true
      }
    default:
      return {
        line: entry.line,
        status: "failed",
        tag: entry.tag ?? null,
        message: entry.detail ?? null,
        requestId: entry.requestId,
        earlier: true
      }
  }
}

const invalid = (ledger: Ledger, line: number, fingerprint: string, errors: ReadonlyArray<Outcome.FieldProblem>) =>
  Effect.as(
    ledger.invalid(line, fingerprint, ZaloMessage.formatFieldErrors(errors)),
    { line, status: "invalid", errors } satisfies BatchReport.ReportLine
  )

// A send's outcome: journaled, and its report line.
const settle = (
  ledger: Ledger,
  outcome: BatchOutcome.BatchOutcome<Item>
): Effect.Effect<BatchReport.ReportLine, LedgerError> => {
  const item = outcome.message
  switch (outcome._tag) {
    case "Invalid":
      return invalid(ledger, item.line, item.fingerprint, BatchImages.problemsOf(outcome.error))
    case "Accepted":
      return Effect.as(
        ledger.settle(
          item.line,
          outcome.deduplicated ? { state: "deduplicated" } : { state: "accepted", smsId: outcome.smsId }
        ),
        {
          line: item.line,
          status: "accepted",
          requestId: outcome.requestId,
          smsId: outcome.smsId ?? null,
          deduplicated: outcome.deduplicated
        }
      )
    case "Rejected":
      // Sent before with this RequestId (a stop while in flight): 124 means eSMS has it.
      if (outcome.error._tag === "DuplicateRequestId" && item.sentBefore) {
        return Effect.as(
          ledger.settle(item.line, { state: "deduplicated" }),
          { line: item.line, status: "accepted", requestId: outcome.requestId, smsId: null, deduplicated: true }
        )
      }
      return Effect.as(
        ledger.settle(item.line, {
          state: "rejected",
          tag: outcome.error._tag,
          code: outcome.error.code,
          detail: outcome.error.message
        }),
        {
          line: item.line,
          status: "rejected",
          tag: outcome.error._tag,
          code: outcome.error.code,
          message: outcome.error.message,
          requestId: outcome.requestId
        }
      )
    case "Failed":
      return Effect.as(
        ledger.settle(item.line, { state: "failed", tag: outcome.error._tag, detail: outcome.error.message }),
        {
          line: item.line,
          status: "failed",
          tag: outcome.error._tag,
          message: outcome.error.message,
          requestId: outcome.requestId
        }
      )
  }
}

/**
 * How the sending pass sends.
 *
 * @since 0.1.0
 * @category models
 */
export interface SendOptions {
  readonly concurrency: number
  /** At most this many sends start per second. */
  readonly rate: number
  /** The checking pass's photo answers, reused by the sends; undefined with --no-check-image. */
  readonly images: BatchImages.Photos["checker"]
}

/**
 * The second pass: each claimed row sent (or recorded as it is), its result written to the source's
 * ledger, and answered as its report line. Once `stop` is signalled no row is taken and no send starts;
 * the stream then waits for {@link BatchStop.run} to cut it.
 *
 * @since 0.1.0
 * @category passes
 */
export const sendPass = <E, R>(
  source: RowSource<E, R>,
  client: EsmsClient.Service,
  options: SendOptions,
  stop: BatchStop.Stop
): Stream.Stream<BatchReport.ReportLine, E | LedgerError, R> => {
  const taken = source.rows.pipe(
    Stream.mapEffect((claimed) => Effect.map(BatchStop.isStopping(stop), (stopping) => stopping ? undefined : claimed)),
    Stream.takeWhile((claimed): claimed is Claimed => claimed !== undefined)
  )
  // A ledger that can hand rows back is written before the permit, one that cannot right after it (see
  // `Ledger`).
  const early = source.ledger.unstarted !== undefined
  const journal = (item: Item, requestId: string) => source.ledger.inFlight(item.line, requestId, item.fingerprint)
  // undici before the first permit: loaded by the first request instead (the bundled esms loads it
  // lazily), it held the first permitted requests, up to seconds on a busy machine, which then left in a
  // burst over the account's TPS.
  return Stream.unwrapScoped(Effect.gen(function*() {
    yield* UndiciHttpClient.preload
    // Every report line goes out through one small mailbox: a row not to send (settled before, invalid)
    // as it is read, a send's as it settles. Not `Stream.partitionEither` and `Stream.merge`, which fork
    // fibers for every element they pass (3 a row, ~0.35 ms of CPU).
    const lines = yield* Mailbox.make<BatchReport.ReportLine, E | LedgerError>(16)
    const toSend = taken.pipe(
      Stream.tap((claimed) =>
        claimed._tag === "Send"
          ? Effect.void
          : Effect.flatMap(
            claimed._tag === "Settled"
              ? Effect.succeed(settledLine(claimed.entry))
              : invalid(source.ledger, claimed.line, claimed.fingerprint, claimed.errors),
            (line) => lines.offer(line)
          )
      ),
      Stream.filterMap((claimed) => claimed._tag === "Send" ? Option.some(claimed.item) : Option.none())
    )
    // One outcome journaled and answered as its report line.
    const settleOne = (outcome: BatchOutcome.BatchOutcome<Item>) =>
      Effect.zipRight(BatchStop.settled(stop, outcome.message.line), settle(source.ledger, outcome))
    const sends = client.sendMany(toSend, {
      concurrency: options.concurrency,
      perSecond: options.rate,
      checkImage: options.images ?? false,
      beforePermit: early
        ? (item, _, requestId) => Effect.zipRight(BatchStop.waiting(stop, item.line), journal(item, requestId))
        : undefined,
      // Right after the permit: once Ctrl-C came, a row still waiting never starts.
      beforeSend: early
        ? (item) => BatchStop.starting(stop, item.line)
        : (item, _, requestId) => Effect.zipRight(BatchStop.starting(stop, item.line), journal(item, requestId))
    }).pipe(
      // The results that came together written together: a store across the network (a campaign's)
      // answers each write in a round trip, which one at a time would cap the run at one row per round
      // trip (the campaign's ledger combines concurrent writes into one statement). Chunk by chunk, not
      // `Stream.mapEffect` with a concurrency, whose machinery cost ~0.5 ms of CPU per row; a lone
      // result (most chunks) without forking a fiber for it.
      Stream.mapChunksEffect((outcomes) =>
        outcomes.length === 1
          ? Effect.map(settleOne(Chunk.unsafeHead(outcomes)), Chunk.of)
          : Effect.forEach(outcomes, settleOne, { concurrency: "unbounded" }).pipe(Effect.map(Chunk.unsafeFromArray))
      )
    )
    // Ends the mailbox when every row is through, fails it with the first failure; cut with the scope.
    yield* Effect.forkScoped(Mailbox.into(Stream.runForEach(sends, (line) => lines.offer(line)), lines))
    return Mailbox.toStream(lines)
  }))
}
