/**
 * A batch file, read as a stream of rows with their line numbers: CSV (header
 * `user_id,text,image_url[,callback_url,request_id]`, RFC 4180 quoting, UTF-8 with or without BOM) or
 * JSON Lines (`.jsonl`, `.ndjson`) with the same field names. Nothing is held in memory but the row
 * being read.
 *
 * @since 0.1.0
 */
import type { ZaloMessage } from "@esms-effect/core"
import { parse } from "csv-parse"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as Fs from "node:fs"
import * as Readline from "node:readline"

/** The columns, as in the file. @since 0.1.0 @category constants */
export const COLUMNS = ["user_id", "text", "image_url", "callback_url", "request_id"] as const

/** The columns a CSV header must have. @since 0.1.0 @category constants */
export const REQUIRED_COLUMNS = ["user_id", "text", "image_url"] as const

/**
 * One row: where it starts in the file, and its fields (absent when the row has no such column or the
 * cell is empty). `problem` says why a JSON line could not be read as an object.
 *
 * @since 0.1.0
 * @category models
 */
export interface Row {
  readonly line: number
  readonly fields: Readonly<Record<string, unknown>>
  readonly problem?: string | undefined
}

/**
 * The file cannot be read as a batch at all (missing, not CSV, no header with the required columns):
 * nothing was sent.
 *
 * @since 0.1.0
 * @category errors
 */
export class FileUnreadable extends Schema.TaggedError<FileUnreadable>("@esms-effect/cli/FileUnreadable")(
  "FileUnreadable",
  { file: Schema.String, detail: Schema.String }
) {
  override get message(): string {
    return `Cannot read ${this.file}: ${this.detail}`
  }
}

/** @since 0.1.0 @category models */
export type Format = "csv" | "jsonl"

/** JSON Lines for `.jsonl` / `.ndjson`, CSV otherwise. @since 0.1.0 @category parsing */
export const formatOf = (file: string): Format => /\.(jsonl|ndjson)$/i.test(file) ? "jsonl" : "csv"

// Node's "ENOENT: no such file or directory, open '/x'" as "no such file or directory (ENOENT)": the
// path is already in the message, and the code once.
const describe = (error: unknown): string => {
  if (!(error instanceof Error)) return String(error)
  const code = "code" in error && typeof error.code === "string" ? error.code : undefined
  if (code === undefined || !code.startsWith("E")) return error.message
  const text = error.message.replace(new RegExp(`^${code}: `), "").replace(/, \w+ '.*'$/, "")
  return `${text} (${code})`
}

const EMPTY = `is empty: a batch file starts with the header ${COLUMNS.join(",")} (CSV) or a JSON object per line`

// Line breaks inside a record's quoted fields, a CRLF counted once.
const lineBreaks = (record: Record<string, unknown>): { readonly all: number; readonly crlf: number } => {
  let all = 0
  let crlf = 0
  for (const value of Object.values(record)) {
    if (typeof value !== "string") continue
    all += value.match(/\r\n|\r|\n/g)?.length ?? 0
    crlf += value.match(/\r\n/g)?.length ?? 0
  }
  return { all, crlf }
}

const csvRows = (file: string): Stream.Stream<Row, FileUnreadable> =>
  Stream.suspend(() => {
    let header = false
    const parser = Fs.createReadStream(file).on("error", (error) => parser.destroy(error)).pipe(parse({
      bom: true,
      columns: (cells: Array<string>) => {
        header = true
        const names = cells.map((h) => h.trim().toLowerCase())
        const missing = REQUIRED_COLUMNS.filter((c) => !names.includes(c))
        if (missing.length > 0) {
          throw new Error(`the header (line 1) lacks ${missing.join(", ")}; expected ${COLUMNS.join(",")}`)
        }
        return names
      },
      skip_empty_lines: true,
      // A short row is one bad row (its missing fields are reported), not an unreadable file.
      relax_column_count: true,
      info: true
    }))
    return Stream.fromAsyncIterable(
      parser as AsyncIterable<{ readonly info: { readonly lines: number }; readonly record: Record<string, string> }>,
      (error) => new FileUnreadable({ file, detail: describe(error) })
    ).pipe(
      // info.lines is where the record ends, except that csv-parse counts a CRLF inside quotes twice (so
      // far in the file); a quoted line break moves the record's start up.
      Stream.mapAccum(0, (overcount, { info, record }) => {
        const breaks = lineBreaks(record)
        const seen = overcount + breaks.crlf
        return [seen, { line: info.lines - seen - breaks.all, fields: record } satisfies Row]
      }),
      Stream.concat(
        Stream.suspend(() => header ? Stream.empty : Stream.fail(new FileUnreadable({ file, detail: EMPTY })))
      )
    )
  })

const jsonRows = (file: string): Stream.Stream<Row, FileUnreadable> =>
  Stream.suspend(() => {
    const input = Fs.createReadStream(file, { encoding: "utf8" })
    const lines = Readline.createInterface({ input, crlfDelay: Infinity })
    input.on("error", (error) => lines.emit("error", error))
    let line = 0
    let rows = 0
    return Stream.fromAsyncIterable(lines, (error) => new FileUnreadable({ file, detail: describe(error) })).pipe(
      Stream.map((text) => {
        line++
        return { text: line === 1 ? text.replace(/^\uFEFF/, "") : text, line }
      }),
      Stream.filter(({ text }) => text.trim() !== ""),
      Stream.map(({ line, text }): Row => {
        rows++
        try {
          const value: unknown = JSON.parse(text)
          return typeof value === "object" && value !== null && !Array.isArray(value)
            ? { line, fields: value as Record<string, unknown> }
            : { line, fields: {}, problem: "is not a JSON object" }
        } catch {
          return { line, fields: {}, problem: "is not valid JSON" }
        }
      }),
      Stream.concat(
        Stream.suspend(() => rows > 0 ? Stream.empty : Stream.fail(new FileUnreadable({ file, detail: EMPTY })))
      )
    )
  })

/**
 * The rows of a batch file, in file order.
 *
 * @since 0.1.0
 * @category parsing
 */
export const rows = (file: string, defaults: Defaults = {}): Stream.Stream<Row, FileUnreadable> =>
  withDefaults(readRows(file), defaults)

/**
 * Values for rows that leave a column empty (`--callback` gives every row the receiver's URL).
 *
 * @since 0.1.0
 * @category models
 */
export interface Defaults {
  readonly callbackUrl?: string | undefined
}

const withDefaults = <E>(stream: Stream.Stream<Row, E>, defaults: Defaults): Stream.Stream<Row, E> => {
  const callbackUrl = defaults.callbackUrl
  return callbackUrl === undefined ? stream : Stream.map(stream, (row) =>
    text(row.fields.callback_url) === undefined
      ? { ...row, fields: { ...row.fields, callback_url: callbackUrl } }
      : row)
}

const readRows = (file: string): Stream.Stream<Row, FileUnreadable> =>
  Stream.unwrap(Effect.try({
    // Open errors (missing file, a directory) are found here, before any row.
    try: () => {
      const stat = Fs.statSync(file)
      if (!stat.isFile()) throw new Error("not a file")
      Fs.accessSync(file, Fs.constants.R_OK)
      return formatOf(file) === "jsonl" ? jsonRows(file) : csvRows(file)
    },
    catch: (error) => new FileUnreadable({ file, detail: describe(error) })
  }))

const text = (value: unknown): string | undefined =>
  value === undefined || value === null || value === "" ? undefined : typeof value === "string" ? value : undefined

/**
 * The message a row asks for. A value that is not a string (a JSON number, say) is kept as is, so
 * validation names it ("must be a string") rather than it going silently missing.
 *
 * @since 0.1.0
 * @category parsing
 */
export const toInput = (row: Row): ZaloMessage.Input => {
  const raw = (name: string) => {
    const value = row.fields[name]
    return typeof value === "string" || value === undefined || value === null ? text(value) : value as string
  }
  return {
    userId: raw("user_id") as string,
    text: raw("text") as string,
    imageUrl: raw("image_url") as string,
    callbackUrl: raw("callback_url"),
    requestId: raw("request_id")
  }
}

/** The column a message field comes from. @since 0.1.0 @category parsing */
export const columnName = (field: string): string =>
  ({
    userId: "user_id",
    text: "text",
    imageUrl: "image_url",
    callbackUrl: "callback_url",
    requestId: "request_id",
    message: "row"
  })[field] ?? field
