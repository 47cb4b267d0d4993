/**
 * `esms zalo send-image`: one Zalo follower message with a photo, credentials from the environment.
 *
 * @since 0.1.0
 */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import type * as HttpClient from "@effect/platform/HttpClient"
import { ZaloMessage } from "@esms-effect/core"
import { EsmsClient } from "@esms-effect/http-client"
import { DeliveryReports, SentRequests } from "@esms-effect/store"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as CallbacksCommand from "./CallbacksCommand.js"
import * as ExitStatus from "./ExitStatus.js"
import * as Outcome from "./Outcome.js"
import * as Overrides from "./Overrides.js"
import * as StoreChoice from "./StoreChoice.js"

const userId = Options.text("user-id").pipe(
  Options.withDescription("The recipient's Zalo user id (for this OA).")
)
const text = Options.text("text").pipe(
  Options.withDescription("The message text, 1 to 2000 characters. A \\r\\n makes a line break.")
)
const imageUrl = Options.text("image-url").pipe(
  Options.withDescription(
    "The photo: an http(s) URL of a jpg/jpeg or png image of at most 1 MB (any URL: with or without an " +
      "extension, with a query). It is fetched and checked before sending, unless --no-check-image."
  )
)
const noCheckImage = Options.boolean("no-check-image").pipe(
  Options.withDescription(
    "Do not fetch the photo before sending (by default esms checks that it is a JPEG or PNG of at most 1 MB)."
  )
)
const callbackUrl = Options.text("callback-url").pipe(
  Options.withDescription("Where eSMS reports delivery (HTTP GET). Optional."),
  Options.optional
)
const callback = Options.boolean("callback").pipe(
  Options.withDescription(
    "Report delivery to the receiver of `esms callbacks serve`: the URL it printed, from ESMS_CALLBACK_URL."
  )
)
const requestId = Options.text("request-id").pipe(
  Options.withDescription("Your id for this send, at most 50 characters; eSMS rejects a repeat within 24 h (124)."),
  Options.optional
)
const sendDate = Options.text("send-date").pipe(
  Options.withDescription("Schedule the send: \"yyyy-mm-dd hh:MM:ss\" in Vietnam time (UTC+7). Optional."),
  Options.optional
)

/** Maps a message field to the option the operator typed. @since 0.1.0 */
export const optionName = (field: string): string =>
  ({
    userId: "--user-id",
    text: "--text",
    imageUrl: "--image-url",
    callbackUrl: "--callback-url",
    requestId: "--request-id",
    sendDate: "--send-date"
  })[field] ?? field

/**
 * Prints an outcome (a human line, or one JSON object with `--json`) and sets the exit code.
 *
 * @since 0.1.0
 */
export const report = (outcome: Outcome.Outcome, json: boolean): Effect.Effect<void, never, ExitStatus.ExitStatus> =>
  Effect.zipRight(
    json
      ? Console.log(Outcome.toJson(outcome))
      : Effect.suspend(() => {
        const { stderr, text } = Outcome.render(outcome)
        return stderr ? Console.error(text) : Console.log(text)
      }),
    ExitStatus.set(Outcome.exitCode(outcome))
  )

/** @since 0.1.0 */
export const command = Command.make(
  "send-image",
  { userId, text, imageUrl, noCheckImage, callbackUrl, callback, requestId, sendDate, ...Overrides.options },
  (args): Effect.Effect<void, never, HttpClient.HttpClient | ExitStatus.ExitStatus> =>
    Effect.suspend(() => {
      // Our RequestId when none is given, so every outcome can name it: a failed send is then safe to
      // retry with it (eSMS de-duplicates).
      const requestId = Option.getOrElse(args.requestId, EsmsClient.generateRequestId)
      const fieldName = (field: string) => Overrides.fieldName(args)(optionName(field))
      // Set once the request may have left for eSMS; `reported` once the outcome is printed.
      let sending = false
      let reported = false
      return Effect.gen(function*() {
        // The message first: what the operator typed is checked before the environment is read.
        const message = yield* ZaloMessage.validate({
          userId: args.userId,
          text: args.text,
          imageUrl: args.imageUrl,
          callbackUrl: yield* CallbacksCommand.resolveCallbackUrl(args.callback, args.callbackUrl),
          requestId,
          sendDate: Option.getOrUndefined(args.sendDate)
        })
        const options = yield* EsmsClient.config
        // The photo is checked by the client, after the message and the configuration, before the send.
        const client = yield* EsmsClient.make({ ...options, checkImage: !args.noCheckImage })
        const storeFile = yield* DeliveryReports.fileConfig
        const fingerprint = SentRequests.fingerprint([
          options.credentials.oaid,
          message.userId,
          message.text,
          message.imageUrl,
          message.callbackUrl,
          message.sendDate
        ])
        return yield* Effect.gen(function*() {
          const sentRequests = yield* SentRequests.SentRequests
          // Recorded before the send: a retry of this RequestId can then tell eSMS's 124 for it apart.
          const earlier = yield* sentRequests.starting(requestId, fingerprint)
          sending = true
          const result = yield* Effect.either(client.sendZaloImage(message))
          if (Either.isRight(result)) return Outcome.accepted(result.right)
          const outcome = Outcome.fromError(result.left, fieldName, requestId)
          if (outcome.status !== "rejected") return outcome
          if (result.left._tag !== "DuplicateRequestId") {
            // eSMS refused it: it holds nothing under this RequestId from this send.
            yield* Effect.ignore(sentRequests.rejected(requestId, fingerprint))
            return outcome
          }
          return earlier._tag === "SameMessage"
            ? { status: "accepted", smsId: null, requestId, deduplicated: true } satisfies Outcome.Outcome
            : earlier._tag === "OtherMessage"
            ? {
              ...outcome,
              message:
                `${outcome.message} (this RequestId carried another message, first sent ${earlier.since.toISOString()})`
            }
            : outcome
        }).pipe(
          Effect.provide(StoreChoice.sentRequests(StoreChoice.choose(storeFile))),
          // Before the send: the store could not be opened or written, so nothing was sent.
          Effect.catchTags({
            SqlError: (error) =>
              Effect.succeed(Outcome.invalid([{
                field: "ESMS_STORE",
                message: `${StoreChoice.describe(StoreChoice.choose(storeFile))} cannot be used (${error.message}): ` +
                  "it records what each RequestId carried, so that a retry is safe; set ESMS_STORE to a writable file"
              }])),
            StoreUnavailable: (error) =>
              Effect.succeed(Outcome.invalid([{ field: "ESMS_STORE", message: `${error.url}: ${error.detail}` }]))
          })
        )
      }).pipe(
        Overrides.apply(args),
        Effect.catchAll((error) => Effect.succeed(Outcome.fromError(error, fieldName, requestId))),
        Effect.flatMap((outcome) => Effect.zipRight(Effect.sync(() => (reported = true)), report(outcome, args.json))),
        // Ctrl-C or SIGTERM (the runtime interrupts this fiber; it exits 130): say whether eSMS may
        // have the message, and the RequestId a retry is safe with.
        Effect.onInterrupt(() => reported ? Effect.void : report(Outcome.interrupted(requestId, sending), args.json))
      )
    })
).pipe(
  Command.withDescription(
    "Send one Zalo message with an attached photo to a follower of your OA. Credentials come from " +
      "ESMS_API_KEY, ESMS_SECRET_KEY and ESMS_OAID (never from options). " + Outcome.EXIT_CODES_HELP
  )
)
