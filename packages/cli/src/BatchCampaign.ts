/**
 * `esms zalo send-batch [FILE] --store postgres://… --campaign NAME`: a batch split across workers on
 * any number of machines. With FILE the rows are loaded into the campaign NAME (once: the same file
 * again is a no-op, another file an error); without it the worker joins the campaign. Each worker
 * claims small leases of rows ({@link campaignSource}), sends them with the RequestIds given at load,
 * and writes their results to the campaign; the `--rate` is the account's, shared by every worker
 * (`PgRateLimiter`). The summary, the progress and the exit code are those of the whole campaign.
 *
 * @since 0.2.0
 */
import type * as FileSystem from "@effect/platform/FileSystem"
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as SqlError from "@effect/sql/SqlError"
import type { ZaloMessage } from "@esms-effect/core"
import { EsmsClient } from "@esms-effect/http-client"
import type { Journal } from "@esms-effect/store"
import { Campaign, PgRateLimiter, PgStore } from "@esms-effect/store-pg"
import * as Chunk from "effect/Chunk"
import * as Config from "effect/Config"
import * as Console from "effect/Console"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { createHash, randomBytes } from "node:crypto"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as BatchCheck from "./BatchCheck.js"
import * as BatchFile from "./BatchFile.js"
import * as BatchImages from "./BatchImages.js"
import * as BatchProgress from "./BatchProgress.js"
import * as BatchReport from "./BatchReport.js"
import * as BatchRun from "./BatchRun.js"
import * as BatchStop from "./BatchStop.js"
import * as BatchTally from "./BatchTally.js"
import * as ExitStatus from "./ExitStatus.js"
import * as Coalesce from "./internal/coalesce.js"
import * as Outcome from "./Outcome.js"
import * as Overrides from "./Overrides.js"
import * as SameFile from "./SameFile.js"

/**
 * Rows a worker claims at a time: small, so that the rows of a worker that dies wait for at most one
 * lease, and the last rows of a campaign are spread over its workers.
 *
 * @since 0.2.0
 * @category constants
 */
export const CLAIM = 20

/** The connections a worker keeps to the store at most (see where the layer is built). */
const CONNECTIONS = 10

/**
 * What a campaign row holds in the store: the message as the file gave it, or why it is not sent.
 *
 * @since 0.2.0
 * @category models
 */
export interface RowData {
  readonly input: ZaloMessage.Input
  readonly errors?: ReadonlyArray<Outcome.FieldProblem> | undefined
}

/**
 * A campaign as a {@link BatchRun.RowSource}: leases of {@link CLAIM} rows claimed as the sends go;
 * when nothing is free but rows leased by other workers are outstanding, it waits (their lease may
 * expire: a dead worker's rows come back here, with the same RequestId); it ends when the campaign has
 * no unsettled row. The ledger writes to the campaign, as this worker: the in_flight and settle writes of
 * concurrent sends are combined into one statement each (a round trip per row would cost the worker
 * its CPU and the store its connections at the account's rate).
 *
 * @since 0.2.0
 * @category sources
 */
export const campaignSource = (
  handle: Campaign.Handle,
  options: { readonly worker: string; readonly lease: Duration.Duration; readonly claim?: number | undefined }
): Effect.Effect<BatchRun.RowSource<SqlError.SqlError, never>, never, Scope.Scope> =>
  Effect.gen(function*() {
    const { lease, worker } = options
    const toClaimed = (row: Campaign.Claimed): BatchRun.Claimed => {
      const data = row.data as RowData
      const fingerprint = BatchCheck.fingerprintOf(data.input)
      if (data.errors !== undefined && data.errors.length > 0) {
        return BatchRun.Claimed.Invalid({ line: row.line, fingerprint, errors: data.errors })
      }
      return BatchRun.Claimed.Send({
        item: {
          ...data.input,
          requestId: data.input.requestId ?? row.requestId,
          line: row.line,
          fingerprint,
          sentBefore: row.sentBefore
        }
      })
    }
    // One lease at a time; an empty claim with others' rows outstanding waits for them to settle or expire.
    const next: Effect.Effect<Chunk.Chunk<BatchRun.Claimed>, Option.Option<SqlError.SqlError>> = Effect.gen(
      function*() {
        for (;;) {
          const claimed = yield* handle.claim(worker, options.claim ?? CLAIM, lease)
          if (claimed.length > 0) return Chunk.fromIterable(claimed.map(toClaimed))
          const left = yield* handle.outstanding(worker)
          if (left.claimable > 0) continue
          if (left.leasedByOthers === 0) return yield* Effect.fail(Option.none())
          const expiry = Option.getOrElse(left.nextExpiry, () => Duration.seconds(1))
          yield* Effect.sleep(Duration.min(Duration.sum(expiry, Duration.millis(50)), Duration.seconds(1)))
        }
      }
    ).pipe(Effect.mapError((error) => Option.isOption(error) ? error : Option.some(error)))
    // A worker that lost its lease (stalled longer than it) still sends with the row's RequestId: eSMS
    // answers 124 to the second of two sends, and the store keeps the result of the row's holder.
    const inFlight = yield* Coalesce.make((lines: ReadonlyArray<number>) => handle.inFlightAll(worker, lines), CLAIM)
    const settle = yield* Coalesce.make(
      (settlements: ReadonlyArray<{ readonly line: number; readonly settlement: Journal.Settlement }>) =>
        handle.settleAll(worker, settlements),
      CLAIM
    )
    return {
      rows: Stream.repeatEffectChunkOption(next),
      ledger: {
        inFlight: (line) => inFlight(line),
        settle: (line, settlement) => settle({ line, settlement }),
        invalid: (line, _, detail) => Effect.asVoid(handle.invalid(worker, line, detail)),
        unstarted: (lines) => Effect.asVoid(handle.release(worker, lines))
      }
    }
  })

const byTag = (entries: ReadonlyArray<Campaign.Entry>, fallback: string) => {
  const counts: Record<string, number> = {}
  for (const entry of entries) counts[entry.tag ?? fallback] = (counts[entry.tag ?? fallback] ?? 0) + 1
  return counts
}

/**
 * The tally of the whole campaign, from the store. `sentThisRun` counts the rows settled since this
 * worker started (by any worker): the campaign's rate. With `breakdown`, rejected and failed rows by tag.
 *
 * @since 0.2.0
 * @category tally
 */
export const tallyOf = (
  handle: Campaign.Handle,
  settledAtStart: number,
  breakdown: boolean
): Effect.Effect<BatchTally.Tally, SqlError.SqlError> =>
  Effect.gen(function*() {
    const counts = yield* handle.counts
    const done = counts.accepted + counts.deduplicated + counts.rejected + counts.failed + counts.invalid
    const rejected = breakdown
      ? byTag(yield* handle.inState("rejected"), "Rejected")
      : counts.rejected > 0
      ? { Rejected: counts.rejected }
      : {}
    const failed = breakdown
      ? byTag(yield* handle.inState("failed"), "Failed")
      : counts.failed > 0
      ? { Failed: counts.failed }
      : {}
    return {
      ...BatchTally.newTally(handle.size),
      done,
      accepted: counts.accepted,
      deduplicated: counts.deduplicated,
      rejected,
      failed,
      invalid: counts.invalid,
      sentThisRun: Math.max(0, done - settledAtStart),
      inFlight: counts.leased + counts.in_flight
    }
  })

/** The rows of FILE for the campaign, each with the problems of the checking pass (not sent). */
const rowsOf = (
  file: string,
  defaults: BatchFile.Defaults,
  checked: BatchCheck.Checked,
  bad: ReadonlyMap<number, ReadonlyArray<Outcome.FieldProblem>>
) =>
  BatchFile.rows(file, defaults).pipe(
    Stream.map((row): Campaign.Input => {
      const repeated = checked.repeats.get(row.line)
      const errors = repeated !== undefined ? [BatchCheck.repeatProblem(repeated)] : bad.get(row.line)
      const data: RowData = errors === undefined
        ? { input: BatchFile.toInput(row) }
        : { input: BatchFile.toInput(row), errors }
      return { line: row.line, data }
    }),
    Stream.runCollect,
    Effect.map(Chunk.toReadonlyArray)
  )

/** The file's identity for a second load: a hash of its bytes and of the defaults its rows take. */
const fingerprintOfFile = (file: string, defaults: BatchFile.Defaults) =>
  Effect.sync(() =>
    "sha256:" + createHash("sha256").update(Fs.readFileSync(file)).update(JSON.stringify(defaults)).digest("hex")
  )

/**
 * What a campaign run needs from the command line.
 *
 * @since 0.2.0
 * @category models
 */
export interface Settings extends Overrides.Values {
  readonly url: Redacted.Redacted<string>
  readonly name: string
  readonly file: Option.Option<string>
  readonly defaults: BatchFile.Defaults
  readonly concurrency: number
  readonly rate: number
  readonly lease: Duration.Duration
  readonly retryFailed: boolean
  readonly report: Option.Option<string>
  readonly checkImage: boolean
  readonly json: boolean
  /** Set when the sending pass begins: from then on a stop is the pass's own (with a summary). */
  readonly sending: Ref.Ref<boolean>
}

/**
 * The worker's name in the store: host, process and a random part (two runs on one host never share one).
 *
 * @since 0.2.0
 * @category constructors
 */
export const workerName = (): string => `${Os.hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`

/**
 * Loads (with FILE) or joins the campaign and works on it until it has no unsettled row.
 *
 * @since 0.2.0
 * @category running
 */
export const run = (
  settings: Settings
): Effect.Effect<void, Outcome.Outcome, HttpClient.HttpClient | FileSystem.FileSystem | ExitStatus.ExitStatus> =>
  Effect.gen(function*() {
    const { url } = settings
    const storeProblem = (message: string) =>
      Outcome.invalid([{ field: "--store", message: PgStore.scrub(url, message) }])
    const unreadable = (error: BatchFile.FileUnreadable) => Outcome.invalid([{ field: "FILE", message: error.message }])

    // Before any file is opened: a --report on the input would destroy it.
    if (Option.isSome(settings.file) && Option.isSome(settings.report)) {
      const [input, report] = [settings.file.value, settings.report.value]
      if (SameFile.sameFile(report, input)) {
        return yield* Effect.fail(Outcome.invalid([{
          field: "--report",
          message: `${report} is the same file as FILE (${input}): it would be overwritten; choose another`
        }]))
      }
    }
    // With FILE: every row checked first, as without a campaign.
    const loaded = yield* Option.match(settings.file, {
      onNone: () => Effect.succeed(Option.none()),
      onSome: (file) =>
        Effect.gen(function*() {
          const photos = yield* BatchImages.make(settings.checkImage)
          const bad = new Map<number, ReadonlyArray<Outcome.FieldProblem>>()
          const checked = yield* BatchCheck.check(file, settings.defaults, photos, (row) => {
            bad.set(row.line, row.errors)
            return settings.json ? Effect.void : Console.error(BatchCheck.renderBad(row))
          })
          const rows = yield* rowsOf(file, settings.defaults, checked, bad)
          const fingerprint = yield* fingerprintOfFile(file, settings.defaults)
          return Option.some({ file, checked, rows, fingerprint })
        }).pipe(Effect.mapError(unreadable))
    })
    const client = yield* EsmsClient.config.pipe(
      Effect.flatMap(EsmsClient.make),
      Overrides.apply(settings),
      Effect.mapError((error) => Outcome.fromError(error, Overrides.fieldName(settings)))
    )
    const apiKey = yield* Config.redacted("ESMS_API_KEY").pipe(
      Effect.mapError((error) => Outcome.invalid(Outcome.configProblems(error)))
    )

    yield* Effect.gen(function*() {
      const campaigns = yield* Campaign.Campaign
      const handle = yield* Option.match(loaded, {
        onNone: () => campaigns.join(settings.name),
        onSome: (file) => campaigns.load(settings.name, file.fingerprint, file.rows)
      })
      if (settings.retryFailed) yield* handle.retryFailed
      const report = yield* BatchReport.openOption(settings.report).pipe(
        Effect.mapError((message) => Outcome.invalid([{ field: "--report", message }]))
      )
      const worker = workerName()
      const where = `campaign ${handle.name} (${handle.size} rows) in ${PgStore.masked(url)}, worker ${worker}`
      if (!settings.json) {
        yield* Console.error(
          Option.isSome(loaded) && handle.loaded ? `Loaded ${where}` : `Joined ${where}`
        )
      }
      // Renewed while this worker lives: only a dead (or stalled) worker's rows go to the others.
      yield* handle.extend(worker, settings.lease).pipe(
        Effect.ignore,
        Effect.repeat(Schedule.spaced(Duration.times(settings.lease, 1 / 3))),
        Effect.delay(Duration.times(settings.lease, 1 / 3)),
        Effect.forkScoped
      )
      const settledAtStart = (yield* tallyOf(handle, 0, false)).done
      const tally = yield* Ref.make(yield* tallyOf(handle, settledAtStart, false))
      // The progress of the whole campaign: read from the store.
      yield* tallyOf(handle, settledAtStart, false).pipe(
        Effect.flatMap((t) => Ref.set(tally, t)),
        Effect.ignore,
        Effect.repeat(Schedule.spaced("1 second")),
        Effect.forkScoped
      )
      const display = yield* BatchProgress.make(tally, settings.json)
      const stop = yield* BatchStop.make
      const source = yield* campaignSource(handle, { worker, lease: settings.lease })
      const pass = BatchRun.sendPass(source, client, {
        concurrency: settings.concurrency,
        rate: settings.rate,
        // Checked once, by the run that loaded the rows.
        images: undefined
      }, stop).pipe(Stream.runForEach((line) => Effect.zipRight(report.write(line), display.tick)))

      const finish = (status: BatchTally.Status) =>
        Effect.gen(function*() {
          yield* display.stop
          const counts = yield* tallyOf(handle, settledAtStart, true)
          const final = status === "done" ? { ...counts, inFlight: 0 } : counts
          yield* settings.json
            ? Console.log(JSON.stringify({
              ...BatchTally.summaryObject(final, status, {
                file: Option.getOrElse(settings.file, () => ""),
                journal: "",
                invalidRows: Option.match(loaded, { onNone: () => [], onSome: (l) => l.checked.listed })
              }),
              file: Option.getOrNull(settings.file),
              journal: null,
              campaign: handle.name,
              store: PgStore.masked(url),
              worker
            }))
            : Console.log(
              BatchTally.summaryTable(final, status) + `\nCampaign: ${handle.name} in ${PgStore.masked(url)}`
            )
          yield* ExitStatus.set(BatchTally.runExitCode(final, status))
        })
      yield* Ref.set(settings.sending, true)
      yield* BatchStop.run(pass, stop, {
        onStopping: display.stop,
        // Rows claimed and not sent go back at once (a SIGKILL leaves them to expire instead).
        onStopped: (_, unstarted) =>
          handle.release(worker, unstarted).pipe(Effect.ignore, Effect.zipRight(Effect.orDie(finish("interrupted"))))
      })
      yield* finish("done")
    }).pipe(
      Effect.scoped,
      Effect.provide(
        Layer.mergeAll(
          Campaign.layer,
          PgRateLimiter.layer({ account: PgRateLimiter.accountKey(apiKey), perSecond: settings.rate })
          // Whatever the concurrency, a worker has few statements on the way at once: one in_flight and one
          // settle write (each combining the rows ready), up to 4 bookings of the rate, a claim, the
          // progress, the lease's renewal. Each connection is a server process on the database.
        ).pipe(Layer.provideMerge(PgStore.layer(url, { maxConnections: CONNECTIONS })))
      ),
      Effect.catchTags({
        StoreUnavailable: (error) => Effect.fail(storeProblem(error.message)),
        // Before the sends: nothing was sent (exit 2). During them: this worker stops (exit 4); its rows in
        // flight go out again, with their RequestIds, from the next worker to claim them.
        SqlError: (error) =>
          Effect.flatMap(Ref.get(settings.sending), (sending) =>
            Effect.fail(
              sending
                ? {
                  status: "failed" as const,
                  tag: "StoreUnavailable",
                  message: PgStore.scrub(
                    url,
                    `the store ${PgStore.masked(url)} stopped answering (${error.message}): this worker stopped; ` +
                      "run it again when the store is back (rows it had in flight go out again with their RequestIds)"
                  ),
                  requestId: null
                }
                : storeProblem(`${PgStore.masked(url)}: ${error.message}`)
            )),
        CampaignFileMismatch: (error) =>
          Effect.fail(Outcome.invalid([{ field: "--campaign", message: error.message }])),
        CampaignNotFound: (error) => Effect.fail(Outcome.invalid([{ field: "--campaign", message: error.message }]))
      })
    )
  })
