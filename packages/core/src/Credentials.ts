/**
 * The account a send is made with. The keys are `Redacted` from the moment they are read until the
 * wire encoder writes them, so they never print in a log, an error or a `console.log`.
 *
 * @since 0.1.0
 */
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"

const Key = Schema.String.pipe(
  Schema.filter((s) => s.trim().length > 0 || "must not be empty")
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

/**
 * Replaces every occurrence of the keys in `text` (a response excerpt, say) (raw or URL-encoded) with `<redacted>`.
 * A proxy that echoes the request body must not leak the keys through our error messages.
 *
 * @since 0.1.0
 */
export const scrub = (credentials: Credentials, text: string): string =>
  [credentials.apiKey, credentials.secretKey]
    .flatMap((key) => [Redacted.value(key), encodeURIComponent(Redacted.value(key))])
    .filter((value) => value.length > 0)
    // Longest first, so a key that contains the other is not left half replaced.
    .sort((a, b) => b.length - a.length)
    .reduce((acc, value) => acc.split(value).join("<redacted>"), text)
