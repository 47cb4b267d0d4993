/**
 * The account a send is made with. The keys are `Redacted` from the moment they are read until the
 * wire encoder writes them, so they never print in a log, an error or a `console.log`.
 *
 * @since 0.1.0
 */
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"

// Spaces, control and invisible format characters, lone surrogates.
const SPACE_OR_CONTROL = /[\s\p{Cc}\p{Cf}\p{Cs}]/u

/**
 * What is wrong with a key or an OAID as typed, if anything. They are single tokens: a space or a
 * control character in one is a copy-paste accident (the `\r` a Windows `.env` file leaves, a
 * trailing space), never part of the value — and a server could echo it back trimmed, a spelling no
 * scrubber would know. The text never quotes the value.
 *
 * @since 0.1.0
 */
export const problem = (value: string): string | undefined =>
  value.length === 0
    ? "must not be empty"
    : SPACE_OR_CONTROL.test(value)
    ? "must not contain spaces, line breaks or other control characters (a \\r left by a Windows .env file?)"
    : undefined

const Key = Schema.String.pipe(
  Schema.filter((s) => problem(s) ?? true)
)

/**
 * ApiKey and SecretKey from eSMS, and the Zalo Official Account id (OAID) registered with eSMS.
 *
 * @since 0.1.0
 */
export class Credentials extends Schema.Class<Credentials>("@esms-effect/core/Credentials")({
  apiKey: Schema.Redacted(Key),
  secretKey: Schema.Redacted(Key),
  oaid: Key
}) {}

/**
 * Builds credentials from plain strings, wrapping the keys at once.
 *
 * @since 0.1.0
 */
export const make = (input: {
  readonly apiKey: string | Redacted.Redacted<string>
  readonly secretKey: string | Redacted.Redacted<string>
  readonly oaid: string
}): Credentials =>
  new Credentials({
    apiKey: Redacted.isRedacted(input.apiKey) ? input.apiKey : Redacted.make(input.apiKey),
    secretKey: Redacted.isRedacted(input.secretKey) ? input.secretKey : Redacted.make(input.secretKey),
    oaid: input.oaid
  })

// Every spelling of one character that an echo can carry: as is; JSON-escaped (`\"`, `\/`, `\uXXXX`
// with hex digits in either case, escaped again when JSON is nested in JSON); percent-encoded UTF-8
// (either case, or twice); HTML entities. A key is matched character by character, so a spelling that
// mixes them (a .NET serializer escapes `+` and `'` but not letters) is matched too.
const spellings = (char: string): Array<string> => {
  const codePoint = char.codePointAt(0)!
  // Hex digits in either case; the key's own letters only as they are.
  const hex = (n: number, width: number) =>
    n.toString(16).padStart(width, "0").replace(/[a-f]/g, (d) => `[${d}${d.toUpperCase()}]`)
  const unicode = Array.from({ length: char.length }, (_, i) => `\\\\+u${hex(char.charCodeAt(i), 4)}`).join("")
  const bytes = [...new TextEncoder().encode(char)]
  const literal = char.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")
  const forms = [
    // `"`, `\` and `/` may come with backslashes before them, as many as the echo nested the JSON.
    /["\\/]/.test(char) ? `\\\\*${literal}` : literal,
    unicode,
    bytes.map((b) => `%(?:25)?${hex(b, 2)}`).join(""),
    `&#0*${codePoint};`,
    `&#x0*${hex(codePoint, 1)};`
  ]
  const entity = ({ "\"": "quot", "&": "amp", "<": "lt", ">": "gt", "'": "apos" } as Record<string, string>)[char]
  if (entity !== undefined) forms.push(`&${entity};`)
  return forms
}

const keyPattern = (key: string): string => [...key].map((char) => `(?:${spellings(char).join("|")})`).join("")

// The keys alone are enough to scrub (a `Credentials` is one).
type Keys = Pick<Credentials, "apiKey" | "secretKey">

const patterns = new WeakMap<Keys, RegExp | null>()

const patternOf = (credentials: Keys): RegExp | null => {
  let pattern = patterns.get(credentials)
  if (pattern === undefined) {
    const keys = [Redacted.value(credentials.apiKey), Redacted.value(credentials.secretKey)]
      .filter((key) => key.length > 0)
      // Longest first, so a key that contains the other is not left half replaced.
      .sort((a, b) => b.length - a.length)
    pattern = keys.length === 0 ? null : new RegExp(keys.map(keyPattern).join("|"), "gu")
    patterns.set(credentials, pattern)
  }
  return pattern
}

/**
 * Replaces every occurrence of the keys in `text` (a response excerpt, say) with `<redacted>`, in
 * whatever spelling an echo gives them: raw, JSON-escaped (`\"`, `\/`, letter by letter `\uXXXX`),
 * URL- or form-encoded (`%21`, `%2B`, lower or upper case, even encoded twice), HTML entities, or a
 * mix of these. A proxy that echoes the request must not leak the keys through our errors.
 *
 * @since 0.1.0
 */
export const scrub = (credentials: Pick<Credentials, "apiKey" | "secretKey">, text: string): string => {
  const pattern = patternOf(credentials)
  return pattern === null ? text : text.replace(pattern, "<redacted>")
}
