/**
 * The counts of a `send-batch` run, built from its report lines, and the summary printed at its end.
 *
 * @since 0.1.0
 */
import type * as BatchReport from "./BatchReport.js"
import * as Outcome from "./Outcome.js"

/**
 * The counts of a run, including rows settled by earlier runs.
 *
 * @since 0.1.0
 * @category models
 */
export interface Tally {
  readonly rows: number
  readonly done: number
  readonly accepted: number
  readonly acceptedEarlier: number
  readonly deduplicated: number
  readonly rejected: Readonly<Record<string, number>>
  readonly failed: Readonly<Record<string, number>>
  readonly invalid: number
  readonly sentThisRun: number
  /** Sends cut after the stop grace: their outcome is unknown, the journal has them `in_flight`. */
  readonly inFlight: number
  /** Rows an earlier run left failed or rejected, skipped (not sent again) because no --retry-failed. */
  readonly notRetried: number
}

/**
 * A run's tally before any row.
 *
 * @since 0.1.0
 * @category constructors
 */
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

const bump = (counts: Readonly<Record<string, number>>, key: string) => ({ ...counts, [key]: (counts[key] ?? 0) + 1 })

/**
 * The tally after one more row: what its report line says happened to it.
 *
 * @since 0.1.0
 * @category combinators
 */
export const add = (tally: Tally, line: BatchReport.ReportLine): Tally => {
  const done = tally.done + 1
  const earlier = "earlier" in line && line.earlier === true
  const sentThisRun = earlier || line.status === "invalid" ? tally.sentThisRun : tally.sentThisRun + 1
  const notRetried = earlier && line.status !== "accepted" ? tally.notRetried + 1 : tally.notRetried
  switch (line.status) {
    case "invalid":
      return { ...tally, done, invalid: tally.invalid + 1 }
    case "accepted":
      return earlier
        ? { ...tally, done, acceptedEarlier: tally.acceptedEarlier + 1 }
        : line.deduplicated === true
        ? { ...tally, done, sentThisRun, deduplicated: tally.deduplicated + 1 }
        : { ...tally, done, sentThisRun, accepted: tally.accepted + 1 }
    case "rejected":
      return { ...tally, done, sentThisRun, notRetried, rejected: bump(tally.rejected, line.tag ?? "Rejected") }
    case "failed":
      return { ...tally, done, sentThisRun, notRetried, failed: bump(tally.failed, line.tag ?? "Failed") }
  }
}

/** `n row`, `n rows`. @since 0.1.0 @category formatting */
export const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`

/** @since 0.1.0 @category getters */
export const total = (counts: Readonly<Record<string, number>>): number =>
  Object.values(counts).reduce((a, b) => a + b, 0)

/**
 * Rows accepted by eSMS so far, this run's and earlier runs', de-duplicated ones included.
 *
 * @since 0.1.0
 * @category getters
 */
export const acceptedAll = (tally: Tally): number => tally.accepted + tally.acceptedEarlier + tally.deduplicated

/**
 * The exit code of a batch: 4 when some rows could not be delivered to eSMS, else 3 when some were
 * rejected, else 0 (every valid row accepted). Invalid rows are reported, not counted here.
 *
 * @since 0.1.0
 * @category exit codes
 */
export const exitCodeOf = (tally: Tally): number =>
  total(tally.failed) > 0
    ? Outcome.ExitCode.failed
    : total(tally.rejected) > 0
    ? Outcome.ExitCode.rejected
    : Outcome.ExitCode.accepted

/**
 * How a run ended: every row gone through, or stopped (Ctrl-C, SIGTERM).
 *
 * @since 0.1.0
 * @category models
 */
export type Status = "done" | "interrupted"

/**
 * The exit code of a run: a stopped one's is 130 (the process's), else {@link exitCodeOf}.
 *
 * @since 0.1.0
 * @category exit codes
 */
export const runExitCode = (tally: Tally, status: Status): number =>
  status === "interrupted" ? Outcome.ExitCode.interrupted : exitCodeOf(tally)

const breakdown = (counts: Readonly<Record<string, number>>) =>
  Object.entries(counts).sort(([, a], [, b]) => b - a).map(([tag, n]) => `${tag} ${n}`).join(", ")

/**
 * The final summary table.
 *
 * @since 0.1.0
 * @category formatting
 */
export const summaryTable = (tally: Tally, status: Status): string => {
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
 * The `--json` summary object of a run.
 *
 * @since 0.1.0
 * @category formatting
 */
export const summaryObject = (
  tally: Tally,
  status: Status,
  extra: { readonly file: string; readonly journal: string; readonly invalidRows: ReadonlyArray<unknown> }
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

/**
 * Seconds until the rows left are done, at the rate of this run's sends so far (rows skipped because an
 * earlier run settled them are not a rate: a resume that skipped 400 rows in its first second is not
 * 400 rows per second). Undefined before the first send.
 *
 * @since 0.1.0
 * @category getters
 */
export const etaSeconds = (tally: Tally, elapsedMillis: number): number | undefined => {
  const rate = tally.sentThisRun / Math.max(0.001, elapsedMillis / 1000)
  return rate > 0 ? Math.round((tally.rows - tally.done) / rate) : undefined
}

/**
 * Sends per second so far this run.
 *
 * @since 0.1.0
 * @category getters
 */
export const ratePerSecond = (tally: Tally, elapsedMillis: number): number =>
  tally.sentThisRun / Math.max(0.001, elapsedMillis / 1000)
