/**
 * The secret in a callback URL. eSMS signs nothing (API.md §3), so the receiver gives out a URL that
 * carries a random token and refuses every request without it. The token is `Redacted` from the
 * moment it is made or read, and compared in constant time.
 *
 * @since 0.1.0
 */
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Crypto from "node:crypto"

/** Shortest token accepted from `ESMS_CALLBACK_TOKEN`. @since 0.1.0 @category constants */
export const MIN_LENGTH = 16

/** Longest token accepted. @since 0.1.0 @category constants */
export const MAX_LENGTH = 256

const URL_SAFE = /^[A-Za-z0-9._~-]+$/

/**
 * A fresh token: 32 random bytes, base64url (43 characters).
 *
 * @since 0.1.0
 * @category constructors
 */
export const generate = (): Redacted.Redacted<string> => Redacted.make(Crypto.randomBytes(32).toString("base64url"))

/**
 * Why a token cannot be used, if it cannot.
 *
 * @since 0.1.0
 * @category validation
 */
export const problem = (token: string): string | undefined =>
  token.length < MIN_LENGTH
    ? `must be at least ${MIN_LENGTH} characters`
    : token.length > MAX_LENGTH
    ? `must be at most ${MAX_LENGTH} characters`
    : !URL_SAFE.test(token)
    ? "must use only letters, digits and . _ ~ - (it goes into a URL path)"
    : undefined

/**
 * `ESMS_CALLBACK_TOKEN` when set and not empty (checked with {@link problem}), else a generated token. Setting it
 * keeps the callback URL stable across restarts, which messages sent earlier still point to.
 *
 * @since 0.1.0
 * @category config
 */
export const config: Config.Config<Redacted.Redacted<string>> = Config.option(
  Config.redacted("ESMS_CALLBACK_TOKEN")
).pipe(
  Config.mapOrFail((given) => {
    // Unset or empty (`export ESMS_CALLBACK_TOKEN=`): a fresh token.
    if (Option.isNone(given) || Redacted.value(given.value) === "") return Either.right(generate())
    const why = problem(Redacted.value(given.value))
    return why === undefined
      ? Either.right(given.value)
      : Either.left(ConfigError.InvalidData(["ESMS_CALLBACK_TOKEN"], why))
  })
)

const digest = (value: string) => Crypto.createHash("sha256").update(value, "utf8").digest()

/**
 * Whether `candidate` is the token, in time that does not depend on where they differ (both sides
 * are hashed first, so their lengths do not leak either).
 *
 * @since 0.1.0
 * @category utils
 */
export const matches = (token: Redacted.Redacted<string>, candidate: string): boolean =>
  Crypto.timingSafeEqual(digest(Redacted.value(token)), digest(candidate))
