/**
 * What a server or a callback wrote, made safe to print: eSMS's `ErrorMessage`, a 500 page's excerpt,
 * a stored callback's `error_info` can carry escape sequences that clear the screen, set the title or
 * paint a fake green "Accepted". Human lines print them without control characters; `--json` keeps
 * the data, with every control character escaped.
 *
 * @since 0.1.0
 */
import { stripVTControlCharacters } from "node:util"

// C0 and C1 controls (line breaks and tabs included: a foreign text must not start a line of its
// own), DEL, and the bidirectional marks and overrides that reorder what a terminal shows.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g

// What JSON.stringify leaves as it is but a terminal may act on (C0 it escapes already).

const UNESCAPED_BY_JSON = /[\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2028\u2029\u2066-\u2069]/g

/**
 * Foreign text as one line a terminal shows as text: escape sequences removed whole, any other
 * control character dropped (a line break or a tab becomes a space).
 *
 * @since 0.1.0
 * @category escaping
 */
export const line = (text: string): string =>
  stripVTControlCharacters(text).replace(CONTROL, (c) => c === "\n" || c === "\t" || c === "\r" ? " " : "")

/**
 * `JSON.stringify`, with the control characters it leaves raw (DEL, C1, bidirectional marks, the
 * line and paragraph separators) escaped too: the data is all there, and nothing acts on a terminal.
 *
 * @since 0.1.0
 * @category escaping
 */
export const json = (value: unknown): string =>
  JSON.stringify(value).replace(UNESCAPED_BY_JSON, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)
