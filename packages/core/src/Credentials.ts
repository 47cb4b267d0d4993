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
 * @category validation
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
 * @category models
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
 * @category constructors
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
  const unicode = Array.from({ length: char.length }, (_, i) => `\\\\{1,15}u${hex(char.charCodeAt(i), 4)}`).join("")
  const bytes = [...new TextEncoder().encode(char)]
  const literal = char.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")
  const forms = [
    // `"`, `\` and `/` may come with backslashes before them, as many as the echo nested the JSON.
    /["\\/]/.test(char) ? `\\\\{0,15}${literal}` : literal,
    unicode,
    bytes.map((b) => `%(?:25)?${hex(b, 2)}`).join(""),
    `&#0*${codePoint};`,
    `&#x0*${hex(codePoint, 1)};`
  ]
  const entity = ({ "\"": "quot", "&": "amp", "<": "lt", ">": "gt", "'": "apos" } as Record<string, string>)[char]
  if (entity !== undefined) forms.push(`&${entity};`)
  return forms
}

// What an echo may put between two letters of a key: white space and line breaks, raw or escaped
// (`\n`, `\r\n` in a JSON string, nested or not; `\u000A`; `%0A`; `&#10;`; `<br>`; `+` for a space).
const GAP =
  "(?:\\s|\\\\{1,15}(?:[nrtfb]|u00(?:0[9aAbBcCdD]|20))|%(?:25)?(?:0[9aAdD]|20)|&#(?:0*(?:9|1[0-3]|32)|x0*(?:[9aAbBcCdD]|20));|<br\\s{0,3}\\/?>|\\+)*"

// For the keys themselves, every spelling of every letter. For their hex or base64 (`encoded`), the
// letters and digits only as they are (no encoder escapes those), a-f in either case for hex:
// much smaller patterns (a 1 MiB body of backslashes: 1.7 s before, 0.3 s).
const keyPattern = (key: string, encoded?: "hex" | "base64"): string =>
  [...key].map((char) => {
    if (encoded !== undefined && /[A-Za-z0-9]/.test(char)) {
      return encoded === "hex" && /[a-f]/i.test(char) ? `[${char.toLowerCase()}${char.toUpperCase()}]` : char
    }
    return `(?:${spellings(char).join("|")})`
  }).join(GAP)

// One base64 letter of either alphabet, as an echo may spell it, and its padding.
const BASE64_LETTER = "(?:[A-Za-z0-9_-]|\\\\{0,15}[+/]|%(?:25)?2[bBfF]|\\\\{1,15}u002[bBfF])"
const BASE64_PADDING = "(?:=|%(?:25)?3[dD]|\\\\{1,15}u003[dD])*"

const utf8 = (text: string) => new TextEncoder().encode(text)
const base64 = (bytes: Uint8Array) => btoa(Array.from(bytes, (b) => String.fromCharCode(b)).join("")).replace(/=+$/, "")
const urlSafe = (encoded: string) => encoded.replace(/\+/g, "-").replace(/\//g, "_")

// A shorter run of base64 would also turn up in text that has nothing to do with the keys.
const MIN_BASE64_CORE = 8

/**
 * The base64 letters that encode only `key`, whatever bytes come before and after it: for each of the
 * three alignments, without the letters shared with the neighbouring bytes. The match takes one
 * base64 letter on either side too (each holds a few bits of the key) and the padding.
 */
const base64Cores = (key: Uint8Array): Array<string> =>
  [0, 1, 2].flatMap((offset) => {
    const encoded = base64(new Uint8Array([...new Uint8Array(offset), ...key]))
    const core = encoded.slice([0, 2, 3][offset], (offset + key.length) % 3 === 0 ? undefined : -1)
    return core.length < MIN_BASE64_CORE ? [] : [core]
  })

interface Matcher {
  readonly regex: RegExp
  /** A base64 core: the base64 letter just before the match goes too. */
  readonly widen: boolean
}

/** Every pattern that matches one of the keys, for `scrub`: longest first. */
const matchersOf = (apiKey: string, secretKey: string): Array<Matcher> => {
  const keys = [apiKey, secretKey].filter((key) => key.length > 0)
  const found = new Map<string, { readonly text: string; readonly widen: boolean }>()
  const add = (text: string, source: string, widen = false) => {
    if (text.length > 0 && !found.has(source)) found.set(source, { text, widen })
  }
  for (const key of keys) {
    add(key, keyPattern(key))
    const hex = Array.from(utf8(key), (b) => b.toString(16).padStart(2, "0")).join("")
    add(hex, keyPattern(hex, "hex"))
  }
  // The whole base64 of each key and of `apiKey:secretKey` (HTTP Basic), both alphabets, any padding;
  // then each key inside a longer base64 text.
  const whole = keys.length === 2 ? [...keys, `${apiKey}:${secretKey}`] : keys
  for (const plain of whole) {
    const encoded = base64(utf8(plain))
    for (const spelt of [encoded, urlSafe(encoded)]) add(spelt, `${keyPattern(spelt, "base64")}${BASE64_PADDING}`)
  }
  for (const key of keys) {
    for (const core of base64Cores(utf8(key))) {
      for (const spelt of [core, urlSafe(core)]) {
        add(spelt, `${keyPattern(spelt, "base64")}${BASE64_LETTER}?${BASE64_PADDING}`, true)
      }
    }
  }
  // Longest first, so a key that contains the other is not left half replaced. One regex each: a
  // single alternation of them all is some 100 times slower (no quick first-letter check).
  return [...found].sort(([, a], [, b]) => b.text.length - a.text.length)
    .map(([source, { widen }]) => ({ regex: new RegExp(source, "gu"), widen }))
}

// The keys alone are enough to scrub (a `Credentials` is one).
type Keys = Pick<Credentials, "apiKey" | "secretKey">

const matchers = new WeakMap<Keys, ReadonlyArray<Matcher>>()

const matchersFor = (credentials: Keys): ReadonlyArray<Matcher> => {
  let found = matchers.get(credentials)
  if (found === undefined) {
    found = matchersOf(Redacted.value(credentials.apiKey), Redacted.value(credentials.secretKey))
    matchers.set(credentials, found)
  }
  return found
}

const PLAIN_BASE64_LETTER = /[A-Za-z0-9+/_-]/

const replaceAll = (text: string, { regex, widen }: Matcher): string => {
  let out = ""
  let last = 0
  for (const match of text.matchAll(regex)) {
    const start = widen && match.index > last && PLAIN_BASE64_LETTER.test(text[match.index - 1])
      ? match.index - 1
      : match.index
    out += `${text.slice(last, start)}<redacted>`
    last = match.index + match[0].length
  }
  return last === 0 ? text : out + text.slice(last)
}

/**
 * Replaces every occurrence of the keys in `text` (a response excerpt, say) with `<redacted>`, in
 * whatever spelling an echo gives them: raw, JSON-escaped (`\"`, `\/`, letter by letter `\uXXXX`),
 * URL- or form-encoded (`%21`, `%2B`, lower or upper case, even encoded twice), HTML entities, or a
 * mix of these; with white space or line breaks (raw or JSON-escaped) between the letters; as base64
 * (either alphabet, padded or not, alone, as the HTTP Basic `apiKey:secretKey` or inside a longer
 * base64 text) or as hex in either case. A proxy that echoes the request must not leak the keys
 * through our errors. Not recognised: a key reversed, or transformed in other ways.
 *
 * @since 0.1.0
 * @category utils
 */
export const scrub = (credentials: Keys, text: string): string => {
  let scrubbed = text
  for (const matcher of matchersFor(credentials)) scrubbed = replaceAll(scrubbed, matcher)
  return scrubbed
}
