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
import type * as FileSystem from "@effect/platform/FileSystem"
import type * as HttpClient from "@effect/platform/HttpClient"
import { EsmsClient } from "@esms-effect/http-client"
import { Journal } from "@esms-effect/store"
import * as Config from "effect/Config"
import * as Console from "effect/Console"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as Stream from "effect/Stream"
import type * as BatchCampaign from "./BatchCampaign.js"
import * as BatchCheck from "./BatchCheck.js"
import type * as BatchFile from "./BatchFile.js"
import * as BatchImages from "./BatchImages.js"
import * as BatchProgress from "./BatchProgress.js"
import * as BatchReport from "./BatchReport.js"
import * as BatchRun from "./BatchRun.js"
import * as BatchStop from "./BatchStop.js"
import * as BatchTally from "./BatchTally.js"
import * as CallbacksCommand from "./CallbacksCommand.js"
import * as ExitStatus from "./ExitStatus.js"
import { wholeNumber } from "./internal/wholeNumberOption.js"
import * as Outcome from "./Outcome.js"
import * as Overrides from "./Overrides.js"
import * as SameFile from "./SameFile.js"
import * as StoreChoice from "./StoreChoice.js"

/**
 * The default lease of a campaign worker, in seconds: a worker killed with SIGKILL leaves its rows to
 * the others this long after its last renewal (a live worker renews every third of it).
 *
 * @since 0.2.0
 * @category constants
 */
export const DEFAULT_LEASE_SECONDS = 15

// The store setting: --store, else ESMS_STORE; none when neither is set.
const storeSettingOf = (flag: Option.Option<Redacted.Redacted<string>>) =>
  Option.match(flag, {
    onSome: (value) => Effect.succeed(Option.some(value)),
    onNone: () =>
      Config.option(Config.redacted("ESMS_STORE")).pipe(
        Effect.map(Option.filter((value) => Redacted.value(value).trim() !== "")),
        Effect.mapError((error) => Outcome.invalid(Outcome.configProblems(error)))
      )
  })

const fileArg = Args.text({ name: "FILE" }).pipe(
  Args.withDescription(
    "CSV (header user_id,text,image_url[,callback_url,request_id]) or JSON Lines (.jsonl). " +
      "Without FILE, --campaign joins a campaign loaded before."
  ),
  Args.optional
)
const store = Options.redacted("store").pipe(
  Options.withDescription(
    "The store (default: ESMS_STORE): a postgres:// URL runs the batch as --campaign, shared by workers on any " +
      "machine; a file path (SQLite) keeps the journal next to FILE, as without it. The URL's password is never printed."
  ),
  Options.optional
)
const campaign = Options.text("campaign").pipe(
  Options.withDescription(
    "With a postgres:// store: FILE is loaded into the campaign NAME (once), and this worker sends its rows with " +
      "the others; without FILE, join it."
  ),
  Options.optional
)
const lease = wholeNumber("lease").pipe(
  Options.withDescription(
    `Seconds a campaign worker holds the rows it claims (default ${DEFAULT_LEASE_SECONDS}): the rows ` +
      "of a killed worker go to the others this long after."
  ),
  Options.withDefault(DEFAULT_LEASE_SECONDS)
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

/**
 * The journal next to a batch file.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultJournal = (file: string): string => `${file}.journal.sqlite`

/** Said when a stop came before the sending pass: in the checks, before any row was sent. */
const NOTHING_SENT = "interrupted before anything was sent (while checking the rows): nothing was sent; " +
  "run the same command again to start"

interface Settings {
  readonly file: string
  readonly journalFile: string
  readonly json: boolean
  readonly send: BatchRun.SendOptions
}

// The second pass, from any row source: each result reported and counted, progress shown, Ctrl-C
// handled; the summary at the end.
const send = <E, R>(
  settings: Settings,
  checked: BatchCheck.Checked,
  source: BatchRun.RowSource<E, R>,
  client: EsmsClient.Service,
  report: BatchReport.Writer
): Effect.Effect<void, E | BatchRun.LedgerError, R | ExitStatus.ExitStatus> =>
  Effect.gen(function*() {
    const tally = yield* Ref.make(BatchTally.newTally(checked.rows))
    const display = yield* BatchProgress.make(tally, settings.json)
    const stop = yield* BatchStop.make
    const pass = BatchRun.sendPass(source, client, settings.send, stop).pipe(
      Stream.runForEach((line) =>
        report.write(line).pipe(
          Effect.zipRight(Ref.update(tally, (t) => BatchTally.add(t, line))),
          Effect.zipRight(display.tick)
        )
      )
    )
    const finish = (status: BatchTally.Status) =>
      Effect.gen(function*() {
        yield* display.stop
        const counts = yield* Ref.get(tally)
        yield* settings.json
          ? Console.log(JSON.stringify(BatchTally.summaryObject(counts, status, {
            file: settings.file,
            journal: settings.journalFile,
            invalidRows: checked.listed
          })))
          : Console.log(BatchTally.summaryTable(counts, status) + `\nJournal: ${settings.journalFile}`)
        yield* ExitStatus.set(BatchTally.runExitCode(counts, status))
      })
    yield* BatchStop.run(pass, stop, {
      onStopping: display.stop,
      onStopped: (cut) => Effect.zipRight(Ref.update(tally, (t) => ({ ...t, inFlight: cut })), finish("interrupted"))
    })
    yield* finish("done")
  })

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

/** @since 0.1.0 @category commands */
export const command = Command.make(
  "send-batch",
  {
    file: fileArg,
    store,
    campaign,
    lease,
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
  (args): Effect.Effect<void, never, HttpClient.HttpClient | FileSystem.FileSystem | ExitStatus.ExitStatus> =>
    // Set when the sending pass begins: from then on a stop is its own (the summary of what was sent).
    Effect.flatMap(Ref.make(false), (sending) =>
      Effect.gen(function*() {
        const problems = [
          ...(args.concurrency < 1 ? [{ field: "--concurrency", message: "must be at least 1" }] : []),
          ...(args.rate < 1 ? [{ field: "--rate", message: "must be at least 1" }] : []),
          ...(args.lease < 1 ? [{ field: "--lease", message: "must be at least 1 (seconds)" }] : [])
        ]
        if (problems.length > 0) return yield* Effect.fail(Outcome.invalid(problems))
        const storeSetting = yield* storeSettingOf(args.store)
        const url = Option.filter(storeSetting, (value) => StoreChoice.isUrl(Redacted.value(value)))
        const storeField = Option.isSome(args.store) ? "--store" : "ESMS_STORE"
        // A campaign lives in PostgreSQL; a PostgreSQL store runs batches only as campaigns.
        if (Option.isSome(args.campaign) && Option.isNone(url)) {
          return yield* Effect.fail(Outcome.invalid([{
            field: "--campaign",
            message: "needs a PostgreSQL store: --store postgres://user:password@host:port/database (or ESMS_STORE)"
          }]))
        }
        if (Option.isSome(url) && Option.isNone(args.campaign) && !args.dryRun) {
          return yield* Effect.fail(Outcome.invalid([{
            field: "--campaign",
            message: `is required with a PostgreSQL store (${storeField}): name the campaign, ` +
              "or give --store a SQLite file path to run FILE alone"
          }]))
        }
        if (Option.isSome(url) && Option.isSome(args.campaign) && Option.isSome(args.journal)) {
          return yield* Effect.fail(Outcome.invalid([{
            field: "--journal",
            message: "is not used with --campaign: the campaign's rows and results are in the store"
          }]))
        }
        if (Option.isSome(args.campaign) && args.campaign.value.trim() === "") {
          return yield* Effect.fail(Outcome.invalid([{ field: "--campaign", message: "must not be empty" }]))
        }
        if (Option.isNone(args.file) && (Option.isNone(args.campaign) || args.dryRun)) {
          return yield* Effect.fail(Outcome.invalid([{
            field: "FILE",
            message: "is required (only --campaign NAME with a PostgreSQL store joins a campaign without it)"
          }]))
        }

        // --callback: rows without a callback_url report delivery to the `esms callbacks serve` receiver.
        const defaults: BatchFile.Defaults = {
          callbackUrl: yield* CallbacksCommand.resolveCallbackUrl(args.callback, Option.none()).pipe(
            Effect.mapError((error) => Outcome.invalid(Outcome.configProblems(error)))
          )
        }
        const onBad = (bad: BatchCheck.BadRow) => args.json ? Effect.void : Console.error(BatchCheck.renderBad(bad))
        const unreadable = (error: BatchFile.FileUnreadable) =>
          Outcome.invalid([{ field: "FILE", message: error.message }])

        if (Option.isSome(url) && Option.isSome(args.campaign) && !args.dryRun) {
          // store-pg (and the pg driver) load only for a campaign: a SQLite run's start-up does not pay for them.
          const { run } = yield* Effect.promise((): Promise<typeof BatchCampaign> => import("./BatchCampaign.js"))
          return yield* run({
            ...args,
            url: url.value,
            name: args.campaign.value.trim(),
            defaults,
            lease: Duration.seconds(args.lease),
            checkImage: !args.noCheckImage,
            sending
          })
        }
        const file = Option.getOrElse(args.file, () => "")
        const journalFile = Option.getOrElse(args.journal, () => defaultJournal(file))
        const photos = yield* BatchImages.make(!args.noCheckImage)

        if (args.dryRun) {
          // Every row first, nothing else: no journal, no credentials.
          const checked = yield* BatchCheck.check(file, defaults, photos, onBad).pipe(Effect.mapError(unreadable))
          yield* args.json
            ? Console.log(JSON.stringify({
              status: "dry-run",
              rows: checked.rows,
              valid: checked.rows - checked.invalid,
              invalid: checked.invalid,
              invalidRows: checked.listed
            }))
            : Console.log(
              `${BatchTally.plural(checked.rows, "row")}: ${
                checked.rows - checked.invalid
              } valid, ${checked.invalid} invalid — ` +
                "nothing was sent."
            )
          return yield* ExitStatus.set(checked.invalid > 0 ? Outcome.ExitCode.invalid : Outcome.ExitCode.accepted)
        }

        // Before any file is opened: a --report or --journal on the input or on each other would destroy it.
        yield* distinctFiles(file, journalFile, args.report)
        // Every row first, before the journal is made: an unreadable file leaves nothing behind.
        const checked = yield* BatchCheck.check(file, defaults, photos, onBad).pipe(Effect.mapError(unreadable))
        const client = yield* EsmsClient.config.pipe(
          Effect.flatMap(EsmsClient.make),
          Overrides.apply(args),
          Effect.mapError((error) => Outcome.fromError(error, Overrides.fieldName(args)))
        )
        yield* Effect.gen(function*() {
          const journal = yield* Journal.Journal
          const resumed = !journal.isNew
          // A re-run: a changed file is found before anything is sent.
          if (resumed) yield* BatchCheck.checkUnchanged(file, defaults, journalFile, journal)
          // Opened once the journal is ours: a report that cannot be written is found before anything is sent.
          const report = yield* BatchReport.openOption(args.report).pipe(
            Effect.mapError((message) => Outcome.invalid([{ field: "--report", message }]))
          )
          yield* Ref.set(sending, true)
          const source = BatchRun.fileSource(
            { file, defaults, retryFailed: args.retryFailed, resumed },
            checked,
            journal
          )
          yield* send(
            {
              file,
              journalFile,
              json: args.json,
              send: { concurrency: args.concurrency, rate: args.rate, images: photos.checker }
            },
            checked,
            source,
            client,
            report
          )
        }).pipe(
          Effect.scoped,
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
        Effect.catchAll((outcome) => Outcome.print(outcome, args.json)),
        // Ctrl-C or SIGTERM in the checks (photos of slow URLs, the journal, the configuration): no row was
        // sent. The runtime exits 130.
        Effect.onInterrupt(() =>
          Effect.flatMap(Ref.get(sending), (sending) =>
            sending ? Effect.void : Effect.zipRight(
              args.json
                ? Console.log(JSON.stringify({
                  ...BatchTally.summaryObject(BatchTally.newTally(0), "interrupted", {
                    file: Option.getOrElse(args.file, () => ""),
                    journal: Option.getOrElse(
                      args.journal,
                      () => defaultJournal(Option.getOrElse(args.file, () => ""))
                    ),
                    invalidRows: []
                  }),
                  // Not counted: the checks did not finish.
                  rows: null,
                  message: NOTHING_SENT
                }))
                : Console.error(NOTHING_SENT.charAt(0).toUpperCase() + NOTHING_SENT.slice(1) + "."),
              ExitStatus.set(Outcome.ExitCode.interrupted)
            ))
        )
      ))
).pipe(
  Command.withDescription(
    "Send one Zalo photo message per row of a CSV or JSON Lines file, at --rate per second, with progress. " +
      "Every row is checked first. A SQLite journal (FILE.journal.sqlite) records each row's RequestId and " +
      "outcome: run the same command again to resume without sending twice. Exit codes: 0 every valid row " +
      "accepted; 2 the file cannot be read (nothing was sent); 3 some rows rejected by eSMS; 4 some rows not " +
      "delivered to eSMS; 130 interrupted. With --store postgres://… --campaign NAME the rows live in " +
      "PostgreSQL and any number of workers, on any machine, send them together (the exit code and summary are " +
      "the whole campaign's; --rate is the account's total)."
  )
)
