/**
 * `esms zalo send-batch FILE`: one Zalo photo message per row of a CSV or JSON Lines file, within a
 * rate, with progress, journaled in SQLite so that a re-run after a crash or Ctrl-C sends nothing
 * twice.
 *
 * @since 0.1.0
 */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import type * as HttpClient from "@effect/platform/HttpClient"
import { ZaloMessage } from "@esms-effect/core"
import { type BatchOutcome, EsmsClient } from "@esms-effect/http-client"
import { Journal } from "@esms-effect/store"
import { SingleBar } from "cli-progress"
import * as Chunk from "effect/Chunk"
import * as Console from "effect/Console"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Fiber from "effect/Fiber"
import { identity } from "effect/Function"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { Buffer } from "node:buffer"
import * as Fs from "node:fs"
import * as BatchFile from "./BatchFile.js"
import * as BatchImages from "./BatchImages.js"
import * as CallbacksCommand from "./CallbacksCommand.js"
import * as ExitStatus from "./ExitStatus.js"
import { wholeNumber } from "./internal/wholeNumberOption.js"
import * as Outcome from "./Outcome.js"
import * as Overrides from "./Overrides.js"
import * as SameFile from "./SameFile.js"

const file = Args.text({ name: "FILE" }).pipe(
  Args.withDescription("CSV (header user_id,text,image_url[,callback_url,request_id]) or JSON Lines (.jsonl).")
)
const concurrency = wholeNumber("concurrency").pipe(
  Options.withDescription("Sends in flight at once (default 8)."),
  Options.withDefault(EsmsClient.DEFAULT_CONCURRENCY)
)
const rate = wholeNumber("rate").pipe(
  Options.withDescription("At most this many sends start per second: your account's TPS (default 20)."),
  Options.withDefault(20)
)
const journal = Options.text("journal").pipe(
  Options.withDescription("The SQLite journal that makes a re-run resume (default: FILE.journal.sqlite)."),
  Options.optional
)
const dryRun = Options.boolean("dry-run").pipe(
  Options.withDescription("Check every row, list the bad ones by line and field, send nothing.")
)
const retryFailed = Options.boolean("retry-failed").pipe(
  Options.withDescription("Also send again the rows an earlier run left rejected or failed (same RequestId).")
)
const callback = Options.boolean("callback").pipe(
  Options.withDescription(
    "Rows without a callback_url report delivery to the receiver of `esms callbacks serve` (ESMS_CALLBACK_URL)."
  )
)
const report = Options.text("report").pipe(
  Options.withDescription("Write one JSON line per row (line, status, RequestId, SMSID or error) to this file."),
  Options.optional
)

/** How long in-flight sends may take to finish after Ctrl-C before they are cut. @since 0.1.0 */
export const STOP_GRACE: Duration.Duration = Duration.seconds(10)

/** Invalid rows listed in the `--json` object at most (the `--report` file has all). @since 0.1.0 */
export const MAX_LISTED_INVALID = 1000

/** The journal next to a batch file. @since 0.1.0 */
export const defaultJournal = (file: string): string => `${file}.journal.sqlite`

/** One bad row: its line and every broken field (named by column). @since 0.1.0 */
export interface BadRow {
  readonly line: number
  readonly errors: ReadonlyArray<Outcome.FieldProblem>
}

const problemsOf = (row: BatchFile.Row, error?: ZaloMessage.InvalidMessage): ReadonlyArray<Outcome.FieldProblem> =>
  row.problem !== undefined
    ? [{ field: "row", message: row.problem }]
    : (error?.errors ?? []).map((e) => ({ field: BatchFile.columnName(e.field), message: e.message }))

const fingerprintOf = (input: ZaloMessage.Input) =>
  Journal.fingerprint([input.userId, input.text, input.imageUrl, input.callbackUrl, input.requestId])

const validate = (row: BatchFile.Row): Either.Either<ZaloMessage.ZaloMessage, BadRow> =>
  row.problem !== undefined
    ? Either.left({ line: row.line, errors: problemsOf(row) })
    : Either.mapLeft(
      ZaloMessage.validateEither(BatchFile.toInput(row)),
      (error) => ({ line: row.line, errors: problemsOf(row, error) })
    )

const renderBad = (bad: BadRow) => `line ${bad.line}: ${bad.errors.map((e) => `${e.field} ${e.message}`).join("; ")}`

/** What the first pass found. @since 0.1.0 */
export interface Checked {
  readonly rows: number
  readonly invalid: number
  readonly listed: ReadonlyArray<BadRow>
  /** Rows whose `request_id` an earlier row has, by line: the earlier row's line. */
  readonly repeats: ReadonlyMap<number, number>
}

const repeatProblem = (first: number): Outcome.FieldProblem => ({
  field: "request_id",
  message: `repeats the request_id of line ${first} (one RequestId per message: eSMS would drop this one as a 124)`
})

// The first pass: every row checked before anything is sent; bad rows printed as found. Memory holds
// only the rows' own request_ids (to find repeats), not the rows. Photos are checked a chunk of rows at
// a time (each distinct URL once, a few at once), rows kept in order.
const check = (
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

// A re-run's extra pass: a row the journal says was sent must still hold the same message.
const checkUnchanged = (file: string, defaults: BatchFile.Defaults, journalFile: string, journal: Journal.Service) =>
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

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`

/**
 * A row the journal says was sent holds another message now: the file was edited after a run. Its
 * RequestId must not be reused for the new content (eSMS would de-duplicate it away).
 *
 * @since 0.1.0
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

/** The counts of a run, including rows settled by earlier runs. @since 0.1.0 */
export interface Tally {
  rows: number
  done: number
  accepted: number
  acceptedEarlier: number
  deduplicated: number
  rejected: Record<string, number>
  failed: Record<string, number>
  invalid: number
  sentThisRun: number
  /** Sends cut after the stop grace: their outcome is unknown, the journal has them `in_flight`. */
  inFlight: number
  /** Rows an earlier run left failed or rejected, skipped (not sent again) because no --retry-failed. */
  notRetried: number
}

/** A run's tally before any row. @since 0.1.0 */
export const newTally = (rows: number): Tally => ({
  rows,
  done: 0,
  accepted: 0,
  acceptedEarlier: 0,
  deduplicated: 0,
  rejected: {},
  failed: {},
  invalid: 0,
  sentThisRun: 0,
  inFlight: 0,
  notRetried: 0
})

const total = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0)

const bump = (counts: Record<string, number>, key: string) => {
  counts[key] = (counts[key] ?? 0) + 1
}

/**
 * The exit code of a batch: 4 when some rows could not be delivered to eSMS, else 3 when some were
 * rejected, else 0 (every valid row accepted). Invalid rows are reported, not counted here.
 *
 * @since 0.1.0
 */
export const exitCodeOf = (tally: Tally): number =>
  total(tally.failed) > 0
    ? Outcome.ExitCode.failed
    : total(tally.rejected) > 0
    ? Outcome.ExitCode.rejected
    : Outcome.ExitCode.accepted

const breakdown = (counts: Record<string, number>) =>
  Object.entries(counts).sort(([, a], [, b]) => b - a).map(([tag, n]) => `${tag} ${n}`).join(", ")

/**
 * The final summary table.
 *
 * @since 0.1.0
 */
export const summaryTable = (tally: Tally, status: "done" | "interrupted"): string => {
  const rows: Array<[string, number, string]> = [
    [
      "accepted",
      tally.accepted + tally.acceptedEarlier,
      tally.acceptedEarlier > 0 ? `${tally.accepted} this run, ${tally.acceptedEarlier} by earlier runs` : ""
    ],
    ["de-duplicated", tally.deduplicated, tally.deduplicated > 0 ? "eSMS already had them (sent before a stop)" : ""],
    ["rejected", total(tally.rejected), breakdown(tally.rejected)],
    ["failed", total(tally.failed), breakdown(tally.failed)],
    ["invalid", tally.invalid, tally.invalid > 0 ? "not sent" : ""]
  ]
  if (tally.inFlight > 0) {
    rows.push([
      "in flight",
      tally.inFlight,
      "cut at the stop: eSMS may have them; the next run asks with the same RequestId"
    ])
  }
  const width = String(Math.max(...rows.map(([, n]) => n), tally.rows)).length
  return [
    status === "interrupted"
      ? `Interrupted after ${tally.done} of ${plural(tally.rows, "row")}; run the same command again to resume.`
      : plural(tally.rows, "row"),
    ...rows.map(([label, n, note]) => `  ${label.padEnd(14)}${String(n).padStart(width)}${note ? `   ${note}` : ""}`),
    ...(tally.notRetried > 0
      ? [
        `${plural(tally.notRetried, "row")} failed or rejected by an earlier run ${
          tally.notRetried === 1 ? "was" : "were"
        } not sent again; --retry-failed sends ${tally.notRetried === 1 ? "it" : "them"} (same RequestId).`
      ]
      : [])
  ].join("\n")
}

/**
 * The exit code of a run: a stopped one's is 130 (the process's), else {@link exitCodeOf}.
 *
 * @since 0.1.0
 */
export const runExitCode = (tally: Tally, status: "done" | "interrupted"): number =>
  status === "interrupted" ? Outcome.ExitCode.interrupted : exitCodeOf(tally)

const summaryObject = (
  tally: Tally,
  status: "done" | "interrupted",
  extra: { readonly file: string; readonly journal: string; readonly invalidRows: ReadonlyArray<BadRow> }
) => ({
  status,
  file: extra.file,
  journal: extra.journal,
  rows: tally.rows,
  processed: tally.done,
  accepted: tally.accepted + tally.acceptedEarlier,
  acceptedEarlier: tally.acceptedEarlier,
  deduplicated: tally.deduplicated,
  rejected: tally.rejected,
  failed: tally.failed,
  invalid: tally.invalid,
  inFlight: tally.inFlight,
  notRetried: tally.notRetried,
  invalidRows: extra.invalidRows,
  exitCode: runExitCode(tally, status)
})

const summaryJson = (...args: Parameters<typeof summaryObject>) => JSON.stringify(summaryObject(...args))

/** Said when a stop came before the sending pass: in the checks, before any row was sent. */
const NOTHING_SENT = "interrupted before anything was sent (while checking the rows): nothing was sent; " +
  "run the same command again to start"

/** A row on its way to the client: the message fields, its line, and what the journal knows. */
interface Item extends ZaloMessage.Input {
  readonly line: number
  readonly fingerprint: string
  readonly sentBefore: boolean
  /** Why a JSON line is not a row at all ("is not valid JSON"). */
  readonly problem: string | undefined
}

type ReportLine = Record<string, unknown>

/**
 * Seconds until the rows left are done, at the rate of this run's sends so far (rows skipped because an
 * earlier run settled them are not a rate: a resume that skipped 400 rows in its first second is not
 * 400 rows per second). Undefined before the first send.
 *
 * @since 0.1.0
 */
export const etaSeconds = (tally: Tally, elapsedMillis: number): number | undefined => {
  const rate = tally.sentThisRun / Math.max(0.001, elapsedMillis / 1000)
  return rate > 0 ? Math.round((tally.rows - tally.done) / rate) : undefined
}

// Progress: a bar on a terminal, a plain line every few seconds otherwise (logs, CI, pipes).
const progress = (tally: Tally, json: boolean) =>
  Effect.gen(function*() {
    const started = Date.now()
    const rateNow = () => tally.sentThisRun / Math.max(0.001, (Date.now() - started) / 1000)
    const eta = () => etaSeconds(tally, Date.now() - started)
    if (process.stdout.isTTY && process.stderr.isTTY && !json) {
      const bar = new SingleBar({
        format: "{bar} {value}/{total} rows | accepted {accepted} | rejected {rejected} | failed {failed} | " +
          "{rate}/s | ETA {eta}",
        hideCursor: true,
        clearOnComplete: true,
        etaBuffer: 200
      })
      const payload = () => ({
        accepted: tally.accepted + tally.acceptedEarlier + tally.deduplicated,
        rejected: total(tally.rejected),
        failed: total(tally.failed),
        rate: rateNow().toFixed(1),
        eta: Option.match(Option.fromNullable(eta()), { onNone: () => "-", onSome: (s) => `${s}s` })
      })
      bar.start(tally.rows, tally.done, payload())
      const update = Effect.sync(() => bar.update(tally.done, payload()))
      let stopped = false
      return {
        tick: update,
        stop: Effect.sync(() => {
          if (!stopped) bar.stop()
          stopped = true
        })
      }
    }
    const line = Effect.suspend(() => {
      const left = eta()
      return Console.error(
        `progress: ${tally.done}/${plural(tally.rows, "row")}, accepted ${
          tally.accepted + tally.acceptedEarlier + tally.deduplicated
        }` +
          `, rejected ${total(tally.rejected)}, failed ${total(tally.failed)}, ${rateNow().toFixed(1)}/s` +
          (left === undefined ? "" : `, ETA ${left}s`)
      )
    })
    const fiber = yield* Effect.forkDaemon(Effect.repeat(Effect.delay(line, "2 seconds"), Schedule.forever))
    return { tick: Effect.void, stop: Fiber.interrupt(fiber) }
  })

interface Settings {
  readonly file: string
  readonly defaults: BatchFile.Defaults
  readonly journalFile: string
  readonly concurrency: number
  readonly rate: number
  readonly retryFailed: boolean
  /** The `--report` file, already open. */
  readonly report: Option.Option<number>
  readonly json: boolean
  /** The checking pass's photo answers, reused by the sends; undefined with --no-check-image. */
  readonly images: BatchImages.Photos["checker"]
  /** The journal was used before this run: a row it has no record of may have been sent (a lost commit). */
  readonly resumed: boolean
}

// The second pass: each row decided by the journal, sent, and its outcome journaled and reported.
const send = (
  settings: Settings,
  checked: Checked,
  client: EsmsClient.Service,
  journal: Journal.Service
) =>
  Effect.gen(function*() {
    const tally = newTally(checked.rows)
    const reportStream = Option.map(settings.report, (fd) => Fs.createWriteStream("", { fd, encoding: "utf8" }))
    const write = (line: ReportLine) =>
      Option.match(reportStream, {
        onNone: () => Effect.void,
        onSome: (out) => Effect.sync(() => void out.write(JSON.stringify(line) + "\n"))
      })
    const closeReport = Option.match(reportStream, {
      onNone: () => Effect.void,
      onSome: (out) => Effect.async<void>((resume) => void out.end(() => resume(Effect.void)))
    })
    const display = yield* progress(tally, settings.json)
    // Set by Ctrl-C: no row is taken after it, and no row waiting for the pacer starts its send.
    let stopping = false
    // The rows whose send started (journaled in_flight) and whose outcome is not recorded yet.
    const started = new Set<number>()

    const skipped = (entry: Journal.Entry) =>
      Effect.suspend(() => {
        tally.done++
        switch (entry.state) {
          case "accepted":
          case "deduplicated":
            tally.acceptedEarlier++
            return write({
              line: entry.line,
              status: "accepted",
              requestId: entry.requestId,
              smsId: entry.smsId ?? null,
              earlier: true
            })
          case "rejected":
            bump(tally.rejected, entry.tag ?? "Rejected")
            tally.notRetried++
            return write({
              line: entry.line,
              status: "rejected",
              tag: entry.tag ?? null,
              code: entry.code ?? null,
              message: entry.detail ?? null,
              requestId: entry.requestId,
              earlier: true
            })
          default:
            bump(tally.failed, entry.tag ?? "Failed")
            tally.notRetried++
            return write({
              line: entry.line,
              status: "failed",
              tag: entry.tag ?? null,
              message: entry.detail ?? null,
              requestId: entry.requestId,
              earlier: true
            })
        }
      })

    // A row that is not sent at all: reported, and journaled as invalid.
    const recordInvalid = (line: number, fingerprint: string, errors: ReadonlyArray<Outcome.FieldProblem>) =>
      Effect.suspend(() => {
        tally.done++
        tally.invalid++
        return Effect.zipRight(
          journal.invalid(line, fingerprint, errors.map((e) => `${e.field} ${e.message}`).join("; ")),
          write({ line, status: "invalid", errors })
        )
      })

    // Rows, each with its journal decision; skipped and invalid ones are recorded here and go no further.
    const items = BatchFile.rows(settings.file, settings.defaults).pipe(
      Stream.rechunk(1),
      Stream.takeWhile(() => !stopping),
      Stream.mapEffect((row) =>
        Effect.gen(function*() {
          const input = BatchFile.toInput(row)
          const fingerprint = fingerprintOf(input)
          const repeated = checked.repeats.get(row.line)
          const result = validate(row)
          if (repeated !== undefined || Either.isLeft(result)) {
            const errors = repeated !== undefined ? [repeatProblem(repeated)] : Either.getLeft(result).pipe(
              Option.map((bad) => bad.errors),
              Option.getOrElse(() => [])
            )
            yield* recordInvalid(row.line, fingerprint, errors)
            return Option.none<Item>()
          }
          const entry = yield* journal.get(row.line)
          const decision = Journal.decide(
            entry,
            input.requestId ?? journal.requestIdFor(row.line),
            settings.retryFailed
          )
          if (decision._tag === "Skip") {
            yield* skipped(decision.entry)
            return Option.none<Item>()
          }
          return Option.some<Item>({
            ...input,
            requestId: decision.requestId,
            line: row.line,
            fingerprint,
            // A RequestId of this journal's own making that it has no record of: only this journal can
            // have sent it (a commit lost with a deleted -wal), so a 124 for it means eSMS has it.
            sentBefore: decision.sentBefore ||
              (settings.resumed && Option.isNone(entry) && input.requestId === undefined),
            problem: undefined
          })
        })
      ),
      Stream.filterMap((item) => item)
    )

    const record = (outcome: BatchOutcome.BatchOutcome<Item>, problem: string | undefined) =>
      Effect.suspend(() => {
        const item = outcome.message
        started.delete(item.line)
        tally.done++
        switch (outcome._tag) {
          case "Invalid": {
            tally.invalid++
            const errors = problem !== undefined
              ? [{ field: "row", message: problem }]
              : BatchImages.problemsOf(outcome.error)
            return Effect.zipRight(
              journal.invalid(item.line, item.fingerprint, errors.map((e) => `${e.field} ${e.message}`).join("; ")),
              write({ line: item.line, status: "invalid", errors })
            )
          }
          case "Accepted": {
            tally.sentThisRun++
            if (outcome.deduplicated) tally.deduplicated++
            else tally.accepted++
            return Effect.zipRight(
              journal.settle(
                item.line,
                outcome.deduplicated ? { state: "deduplicated" } : { state: "accepted", smsId: outcome.smsId }
              ),
              write({
                line: item.line,
                status: "accepted",
                requestId: outcome.requestId,
                smsId: outcome.smsId ?? null,
                deduplicated: outcome.deduplicated
              })
            )
          }
          case "Rejected": {
            tally.sentThisRun++
            // Sent before with this RequestId (a stop while in flight): 124 means eSMS has it.
            if (outcome.error._tag === "DuplicateRequestId" && item.sentBefore) {
              tally.deduplicated++
              return Effect.zipRight(
                journal.settle(item.line, { state: "deduplicated" }),
                write({
                  line: item.line,
                  status: "accepted",
                  requestId: outcome.requestId,
                  smsId: null,
                  deduplicated: true
                })
              )
            }
            bump(tally.rejected, outcome.error._tag)
            return Effect.zipRight(
              journal.settle(item.line, {
                state: "rejected",
                tag: outcome.error._tag,
                code: outcome.error.code,
                detail: outcome.error.message
              }),
              write({
                line: item.line,
                status: "rejected",
                tag: outcome.error._tag,
                code: outcome.error.code,
                message: outcome.error.message,
                requestId: outcome.requestId
              })
            )
          }
          case "Failed": {
            tally.sentThisRun++
            bump(tally.failed, outcome.error._tag)
            return Effect.zipRight(
              journal.settle(item.line, { state: "failed", tag: outcome.error._tag, detail: outcome.error.message }),
              write({
                line: item.line,
                status: "failed",
                tag: outcome.error._tag,
                message: outcome.error.message,
                requestId: outcome.requestId
              })
            )
          }
        }
      })

    const pipeline = client.sendMany(items, {
      concurrency: settings.concurrency,
      perSecond: settings.rate,
      checkImage: settings.images ?? false,
      // Right after the pacer: once Ctrl-C came, a row still waiting here never starts (it waits to be cut).
      beforeSend: (item, _, requestId) =>
        Effect.suspend(() => {
          if (stopping) return Effect.never
          started.add(item.line)
          return journal.inFlight(item.line, requestId, item.fingerprint)
        })
    }).pipe(
      Stream.runForEach((outcome) =>
        Effect.zipRight(
          record(outcome, outcome.message.problem),
          display.tick
        )
      )
    )

    const finish = (status: "done" | "interrupted") =>
      Effect.gen(function*() {
        yield* display.stop
        yield* closeReport
        yield* settings.json
          ? Console.log(
            summaryJson(tally, status, {
              file: settings.file,
              journal: settings.journalFile,
              invalidRows: checked.listed
            })
          )
          : Console.log(summaryTable(tally, status) + `\nJournal: ${settings.journalFile}`)
        yield* ExitStatus.set(runExitCode(tally, status))
      })

    // Ctrl-C: no new send starts; the sends in flight get STOP_GRACE to finish, then are cut (they stay
    // in_flight in the journal: the next run asks eSMS again with the same RequestId).
    const stop = (fiber: Fiber.RuntimeFiber<void, unknown>) =>
      Effect.gen(function*() {
        stopping = true
        yield* display.stop
        yield* Console.error(
          started.size === 0
            ? "Stopping…"
            : `Stopping… waiting for ${plural(started.size, "send")} in flight (at most ${
              Duration.format(STOP_GRACE)
            }); no new row is sent.`
        )
        const idle = Effect.sync(() => started.size === 0).pipe(
          Effect.repeat({ until: (done) => done, schedule: Schedule.spaced("20 millis") })
        )
        // Interruptible, so that the grace's timeout can end the wait (this runs as a finalizer).
        yield* Effect.interruptible(Effect.raceFirst(idle, Fiber.await(fiber))).pipe(
          Effect.timeout(STOP_GRACE),
          Effect.ignore
        )
        yield* Fiber.interrupt(fiber)
        tally.inFlight = started.size
        yield* finish("interrupted")
      })

    // A daemon, so that Ctrl-C (the interruption of this fiber) does not cut the sends in flight at once.
    const fiber = yield* Effect.forkDaemon(pipeline)
    yield* Effect.flatten(Fiber.await(fiber)).pipe(
      Effect.onInterrupt(() => Effect.orDie(stop(fiber)))
    )
    yield* finish("done")
  })

const SQLITE_HEADER = "SQLite format 3\u0000"

// A report overwrites its file: never a database (another run's journal, a store), whatever its name.
const isDatabase = (path: string): boolean => {
  let fd: number | undefined
  try {
    fd = Fs.openSync(path, "r")
    const head = Buffer.alloc(SQLITE_HEADER.length)
    return Fs.readSync(fd, head, 0, head.length, 0) === head.length && head.toString("latin1") === SQLITE_HEADER
  } catch {
    return false
  } finally {
    if (fd !== undefined) Fs.closeSync(fd)
  }
}

// The report holds recipients and results: readable by its owner only, even if it existed.
const openReport = (path: string): number => {
  if (isDatabase(path)) {
    throw new Error(`${path} is a SQLite database (a journal or a store?): a report would overwrite it; choose another`)
  }
  const fd = Fs.openSync(path, "w", 0o600)
  Fs.fchmodSync(fd, 0o600)
  return fd
}

const distinctFiles = (file: string, journal: string, report: Option.Option<string>) => {
  const clash = (field: string, path: string, other: string, what: string) =>
    SameFile.sameFile(path, other) ? [{ field, message: `${path} is the same file as ${what}; choose another` }] : []
  const problems = [
    ...clash("--journal", journal, file, `FILE (${file})`),
    ...Option.match(report, {
      onNone: () => [],
      onSome: (path) => [
        ...clash("--report", path, file, `FILE (${file}): it would be overwritten`),
        ...["", "-wal", "-shm", "-journal"].flatMap((suffix) =>
          clash(
            "--report",
            path,
            journal + suffix,
            `the journal${suffix === "" ? "" : `'s ${suffix} file`} (${journal + suffix})`
          )
        )
      ]
    })
  ]
  return problems.length > 0 ? Effect.fail(Outcome.invalid(problems.slice(0, 1))) : Effect.void
}

/** @since 0.1.0 */
export const command = Command.make(
  "send-batch",
  {
    file,
    concurrency,
    rate,
    journal,
    dryRun,
    retryFailed,
    report,
    callback,
    noCheckImage: BatchImages.noCheckImage,
    ...Overrides.options
  },
  (args): Effect.Effect<void, never, HttpClient.HttpClient | ExitStatus.ExitStatus> => {
    // Set when the sending pass begins: from then on a stop is its own (the summary of what was sent).
    let sending = false
    return Effect.gen(function*() {
      const problems = [
        ...(args.concurrency < 1 ? [{ field: "--concurrency", message: "must be at least 1" }] : []),
        ...(args.rate < 1 ? [{ field: "--rate", message: "must be at least 1" }] : [])
      ]
      if (problems.length > 0) return yield* Effect.fail(Outcome.invalid(problems))
      const journalFile = Option.getOrElse(args.journal, () => defaultJournal(args.file))

      // --callback: rows without a callback_url report delivery to the `esms callbacks serve` receiver.
      const defaults: BatchFile.Defaults = {
        callbackUrl: yield* CallbacksCommand.resolveCallbackUrl(args.callback, Option.none()).pipe(
          Effect.mapError((error) => Outcome.invalid(Outcome.configProblems(error)))
        )
      }
      const onBad = (bad: BadRow) => args.json ? Effect.void : Console.error(renderBad(bad))
      const unreadable = (error: BatchFile.FileUnreadable) =>
        Outcome.invalid([{ field: "FILE", message: error.message }])

      const photos = yield* BatchImages.make(!args.noCheckImage)

      if (args.dryRun) {
        // Every row first, nothing else: no journal, no credentials.
        const checked = yield* check(args.file, defaults, photos, onBad).pipe(Effect.mapError(unreadable))
        yield* args.json
          ? Console.log(JSON.stringify({
            status: "dry-run",
            rows: checked.rows,
            valid: checked.rows - checked.invalid,
            invalid: checked.invalid,
            invalidRows: checked.listed
          }))
          : Console.log(
            `${plural(checked.rows, "row")}: ${checked.rows - checked.invalid} valid, ${checked.invalid} invalid — ` +
              "nothing was sent."
          )
        return yield* ExitStatus.set(checked.invalid > 0 ? Outcome.ExitCode.invalid : Outcome.ExitCode.accepted)
      }

      // Before any file is opened: a --report or --journal on the input or on each other would destroy it.
      yield* distinctFiles(args.file, journalFile, args.report)
      // Every row first, before the journal is made: an unreadable file leaves nothing behind.
      const checked = yield* check(args.file, defaults, photos, onBad).pipe(Effect.mapError(unreadable))
      const client = yield* EsmsClient.config.pipe(
        Effect.flatMap(EsmsClient.make),
        Overrides.apply(args),
        Effect.mapError((error) => Outcome.fromError(error, Overrides.fieldName(args)))
      )
      yield* Effect.gen(function*() {
        const journal = yield* Journal.Journal
        const resumed = !journal.isNew
        // A re-run: a changed file is found before anything is sent.
        if (resumed) yield* checkUnchanged(args.file, defaults, journalFile, journal)
        // Opened once the journal is ours: a report that cannot be written is found before anything is sent.
        const reportFd = yield* Effect.try({
          try: () => Option.map(args.report, openReport),
          catch: (error) => Outcome.invalid([{ field: "--report", message: String((error as Error).message) }])
        })
        sending = true
        yield* send(
          {
            file: args.file,
            defaults,
            journalFile,
            concurrency: args.concurrency,
            rate: args.rate,
            retryFailed: args.retryFailed,
            report: reportFd,
            json: args.json,
            images: photos.checker,
            resumed
          },
          checked,
          client,
          journal
        )
      }).pipe(
        Effect.provide(Journal.layerSqlite(journalFile)),
        Effect.catchTags({
          SqlError: (error) =>
            Effect.fail(Outcome.invalid([{ field: "--journal", message: `${journalFile}: ${error.message}` }])),
          JournalUnusable: (error) => Effect.fail(Outcome.invalid([{ field: "--journal", message: error.message }])),
          FileUnreadable: (error) => Effect.fail(unreadable(error)),
          FileChanged: (error) => Effect.fail(Outcome.invalid([{ field: "FILE", message: error.message }]))
        }),
        Effect.catchTag("ConfigError", (error) => Effect.fail(Outcome.invalid(Outcome.configProblems(error))))
      )
    }).pipe(
      Effect.catchAll((outcome) =>
        Effect.zipRight(
          args.json ? Console.log(Outcome.toJson(outcome)) : Console.error(Outcome.render(outcome).text),
          ExitStatus.set(Outcome.exitCode(outcome))
        )
      ),
      // Ctrl-C or SIGTERM in the checks (photos of slow URLs, the journal, the configuration): no row was
      // sent. The runtime exits 130.
      Effect.onInterrupt(() =>
        sending ? Effect.void : Effect.zipRight(
          args.json
            ? Console.log(JSON.stringify({
              ...summaryObject(newTally(0), "interrupted", {
                file: args.file,
                journal: Option.getOrElse(args.journal, () => defaultJournal(args.file)),
                invalidRows: []
              }),
              // Not counted: the checks did not finish.
              rows: null,
              message: NOTHING_SENT
            }))
            : Console.error(NOTHING_SENT.charAt(0).toUpperCase() + NOTHING_SENT.slice(1) + "."),
          ExitStatus.set(Outcome.ExitCode.interrupted)
        )
      )
    )
  }
).pipe(
  Command.withDescription(
    "Send one Zalo photo message per row of a CSV or JSON Lines file, at --rate per second, with progress. " +
      "Every row is checked first. A SQLite journal (FILE.journal.sqlite) records each row's RequestId and " +
      "outcome: run the same command again to resume without sending twice. Exit codes: 0 every valid row " +
      "accepted; 2 the file cannot be read (nothing was sent); 3 some rows rejected by eSMS; 4 some rows not " +
      "delivered to eSMS; 130 interrupted."
  )
)
