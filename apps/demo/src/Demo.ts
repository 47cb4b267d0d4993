/**
 * The product's story in a few seconds, all on this machine: a simulated eSMS, a callback receiver
 * standing in for the user's webhook, and the real `EsmsClient` talking HTTP between them. A photo
 * message is accepted and then delivered; a photo over 1 MB is refused before anything is sent; a
 * wrong key and a recipient who does not follow the OA are handled by their tags. The photos are real
 * images the simulator serves, and the client checks each before sending it (`checkImage`).
 *
 * Output goes through Effect's `Console`, so a test can capture it.
 *
 * @since 0.1.0
 */
import { Credentials, DeliveryReport } from "@esms-effect/core"
import { EsmsClient, NodeEsmsClient } from "@esms-effect/http-client"
import { CallbackCollector, Simulator } from "@esms-effect/simulator"
import * as Console from "effect/Console"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

/** The Official Account the demo sends from (registered with the simulator's test account). @since 0.1.0 */
export const OAID = "1000000000000000001"

/** A follower who receives the photo. @since 0.1.0 */
export const FOLLOWER = "5308693166941955879"

/** A Zalo user who does not follow the OA: the simulator fails delivery with -213. @since 0.1.0 */
export const NOT_A_FOLLOWER = "9000000000000000213"

/** The simulator's test account, as a user would configure it. @since 0.1.0 */
export const credentials = Credentials.make({
  apiKey: Simulator.defaultAccount.apiKey,
  secretKey: Simulator.defaultAccount.secretKey,
  oaid: OAID
})

/**
 * The demo could not tell its story (no callback arrived in time, say).
 *
 * @since 0.1.0
 */
export class DemoError extends Data.TaggedError("DemoError")<{ readonly reason: string }> {
  override get message(): string {
    return this.reason
  }
}

const CALLBACK_WAIT = "5 seconds"

/** The next callback for this SMSID (others are skipped), or a DemoError after a few seconds. */
const awaitCallback = (smsId: string) =>
  Effect.gen(function*() {
    const receiver = yield* CallbackCollector.CallbackCollector
    while (true) {
      const received = yield* receiver.take
      if (received.report?.smsId === smsId) return { ...received, report: received.report }
    }
  }).pipe(
    Effect.timeoutFail({
      duration: CALLBACK_WAIT,
      onTimeout: () => new DemoError({ reason: `no delivery callback for ${smsId} within ${CALLBACK_WAIT}` })
    })
  )

const isDelivered = (report: DeliveryReport.DeliveryReport) =>
  DeliveryReport.Fate.$is("Delivered")(DeliveryReport.fate(report))

const step = (n: number, text: string) => Console.log(`${n}. ${text}`)
const detail = (text: string) => Console.log(`   ${text}`)

const describeCallback = (received: CallbackCollector.Received) => {
  const q = received.query
  return `<- GET ${new URL(received.url, "http://x").pathname}  SMSID=${q.SMSID} SendStatus=${q.SendStatus} ` +
    `SendSuccess=${q.SendSuccess} SendFailed=${q.SendFailed}`
}

/**
 * The story. Needs the simulator, the receiver and an `EsmsClient` pointed at the simulator
 * (see {@link layer}).
 *
 * @since 0.1.0
 */
export const program = Effect.gen(function*() {
  const simulator = yield* Simulator.Simulator
  const receiver = yield* CallbackCollector.CallbackCollector
  const client = yield* EsmsClient.EsmsClient
  const photo = simulator.imageUrl("jpeg")

  yield* Console.log("eSMS x Zalo: send a photo message, then learn whether it arrived.")
  yield* Console.log("Everything runs on this machine: a simulated eSMS and your webhook, over real HTTP.")
  yield* Console.log("")

  yield* step(1, `eSMS simulator listening    ${simulator.baseUrl}`)
  yield* step(2, `Your callback receiver      ${receiver.url}`)

  yield* step(3, `Send a photo to Zalo user ${FOLLOWER}`)
  const accepted = yield* client.sendZaloImage({
    userId: FOLLOWER,
    text: "Đơn hàng #1042 đã được giao. Cảm ơn bạn!",
    imageUrl: photo,
    callbackUrl: receiver.url
  })
  const smsId = accepted.smsId ?? ""
  yield* detail(`-> accepted by eSMS: SMSID ${smsId}`)
  yield* detail("   (accepted means queued; eSMS reports delivery later, to your CallbackUrl)")

  yield* step(4, "Wait for the delivery callback")
  const delivered = yield* awaitCallback(smsId)
  yield* detail(describeCallback(delivered))
  if (!isDelivered(delivered.report)) {
    return yield* new DemoError({ reason: `message ${smsId} was not delivered` })
  }
  yield* detail(`-> delivered ✓  (Zalo message id ${delivered.report.zaloMessageId ?? "?"})`)

  yield* step(5, "Send a product photo of 1.5 MB (eSMS takes jpg and png up to 1 MB)")
  yield* client.sendZaloImage({
    userId: FOLLOWER,
    text: "Bộ sưu tập mới đã có mặt!",
    imageUrl: simulator.imageUrl("large"),
    callbackUrl: receiver.url
  }).pipe(
    Effect.zipRight(detail("-> unexpectedly accepted")),
    Effect.catchTag(
      "ImageTooLarge",
      (error) => detail(`-> refused before sending, Effect.catchTag("ImageTooLarge"): ${error.reason}`)
    )
  )

  yield* step(6, "Send with a wrong secret key")
  const wrongKey = NodeEsmsClient.layer({
    credentials: Credentials.make({ apiKey: credentials.apiKey, secretKey: "WRONG-SECRET-KEY", oaid: OAID }),
    baseUrl: simulator.baseUrl
  })
  yield* Effect.flatMap(
    EsmsClient.EsmsClient,
    (wrong) => wrong.sendZaloImage({ userId: FOLLOWER, text: "Hello again", imageUrl: photo })
  ).pipe(
    Effect.zipRight(detail("-> unexpectedly accepted")),
    Effect.catchTag(
      "AuthorizeFailed",
      (error) => detail(`-> Effect.catchTag("AuthorizeFailed") caught: ${error.message}`)
    ),
    Effect.provide(wrongKey)
  )

  yield* step(7, `Send to a user who does not follow the OA (${NOT_A_FOLLOWER})`)
  const unfollowed = yield* client.sendZaloImage({
    userId: NOT_A_FOLLOWER,
    text: "Đơn hàng #1043 đã được giao.",
    imageUrl: photo,
    callbackUrl: receiver.url
  })
  const failedId = unfollowed.smsId ?? ""
  yield* detail(`-> accepted by eSMS: SMSID ${failedId}`)
  const failed = yield* awaitCallback(failedId)
  yield* detail(describeCallback(failed))
  const zalo = failed.report.zalo
  yield* detail(
    isDelivered(failed.report)
      ? "-> unexpectedly delivered"
      : `-> not delivered ✗  Zalo error ${zalo?.error ?? "?"}: "${zalo?.message ?? "unknown"}"`
  )

  yield* Console.log("")
  yield* Console.log(
    "Done: one photo delivered, one refused before sending (too large), one typed error caught, " +
      "one failed delivery reported."
  )
})

/**
 * The simulator and the receiver on free loopback ports, and the real `EsmsClient` (Node transport)
 * pointed at the simulator, checking each photo before it sends it.
 *
 * @since 0.1.0
 */
export const layer = Layer.unwrapEffect(
  Effect.map(
    Simulator.Simulator,
    (simulator) => NodeEsmsClient.layer({ credentials, baseUrl: simulator.baseUrl, checkImage: true })
  )
).pipe(Layer.provideMerge(Layer.merge(Simulator.layer(), CallbackCollector.layer())))

/**
 * The whole demo: on failure, one readable line on stderr (no stack trace), then the failure.
 *
 * @since 0.1.0
 */
export const main = program.pipe(
  Effect.provide(layer),
  Effect.tapError((error) => Console.error(`The demo stopped: ${error.message}`))
)
