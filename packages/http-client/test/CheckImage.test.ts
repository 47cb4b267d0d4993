/**
 * `EsmsClient`'s `checkImage` option against the simulator over loopback: off unless asked; when on,
 * a photo eSMS would not take is refused before anything is sent, and `sendMany` fetches each
 * distinct photo once.
 */
import { assert, layer } from "@effect/vitest"
import { Credentials } from "@esms-effect/core"
import { Simulator } from "@esms-effect/simulator"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import * as EsmsClient from "../src/EsmsClient.js"
import * as ImageCheck from "../src/ImageCheck.js"
import * as NodeEsmsClient from "../src/NodeEsmsClient.js"
import * as UndiciHttpClient from "../src/UndiciHttpClient.js"

const account = Simulator.defaultAccount
const credentials = Credentials.make({
  apiKey: account.apiKey,
  secretKey: account.secretKey,
  oaid: account.oaids[0].oaid
})

const message = (i: number, imageUrl: string) => ({
  userId: `53086931669419${String(i).padStart(5, "0")}`,
  text: `Xin chào khách hàng số ${i}`,
  imageUrl
})

const client = (options: Partial<EsmsClient.Options> = {}) =>
  Effect.flatMap(
    Simulator.Simulator,
    (simulator) =>
      EsmsClient.make({ credentials, baseUrl: simulator.baseUrl, maxAttempts: 1, ...options }).pipe(
        Effect.provide(UndiciHttpClient.layer())
      )
  )

const sends = Effect.map(
  Effect.flatMap(Simulator.Simulator, (s) => s.attempts),
  (attempts) => attempts.filter((a) => a.endpoint === "SendZaloFollowerMessage").length
)

layer(Simulator.layer({ tps: 1000, callbackDelay: "1 hour" }), { timeout: "30 seconds", excludeTestServices: true })(
  "EsmsClient checkImage",
  (it) => {
    it.effect("is off by default: the photo is not fetched, the message is sent", () =>
      Effect.gen(function*() {
        const simulator = yield* Simulator.Simulator
        yield* simulator.reset
        const esms = yield* client()
        const accepted = yield* esms.sendZaloImage(message(1, simulator.imageUrl("missing")))
        assert.isString(accepted.smsId)
        assert.lengthOf(yield* simulator.imageRequests, 0)
        assert.strictEqual(yield* sends, 1)
      }))

    it.effect("when on, a photo eSMS would not take fails its typed error and nothing is sent", () =>
      Effect.gen(function*() {
        const simulator = yield* Simulator.Simulator
        yield* simulator.reset
        const esms = yield* client({ checkImage: true })
        const tooLarge = yield* Effect.flip(esms.sendZaloImage(message(1, simulator.imageUrl("large"))))
        assert.strictEqual(tooLarge._tag, "ImageTooLarge")
        assert.include(tooLarge.message, simulator.imageUrl("large"))
        const html = yield* Effect.flip(esms.sendZaloImage(message(2, simulator.imageUrl("html"))))
        assert.strictEqual(html._tag, "ImageNotJpgOrPng")
        const slow = yield* Effect.flip(
          Effect.flatMap(
            client({ checkImage: { timeout: "200 millis" } }),
            (c) => c.sendZaloImage(message(3, simulator.imageUrl("slow")))
          )
        )
        assert.strictEqual(slow._tag, "ImageUnreachable")
        assert.strictEqual(yield* sends, 0)
        const accepted = yield* esms.sendZaloImage(message(4, simulator.imageUrl("extensionless")))
        assert.isString(accepted.smsId)
        assert.strictEqual(yield* sends, 1)
      }))

    it.effect("sendMany fetches each distinct photo once: 300 messages, 3 photos, 3 image requests", () =>
      Effect.gen(function*() {
        const simulator = yield* Simulator.Simulator
        yield* simulator.reset
        const photos = [simulator.imageUrl("png"), simulator.imageUrl("jpeg"), simulator.imageUrl("disguised")]
        const messages = Array.from({ length: 300 }, (_, i) => message(i, photos[i % 3]))
        const outcomes = yield* EsmsClient.sendMany(Stream.fromIterable(messages), { concurrency: 16 }).pipe(
          Stream.runCollect,
          Effect.map(Chunk.toReadonlyArray),
          Effect.provide(
            NodeEsmsClient.layer({ credentials, baseUrl: simulator.baseUrl, maxAttempts: 1, checkImage: true })
          )
        )
        const invalid = outcomes.filter((o) => o._tag === "Invalid")
        assert.strictEqual(invalid.length, 100)
        assert.isTrue(invalid.every((o) => o.error._tag === "ImageNotJpgOrPng" && o.message.imageUrl === photos[2]))
        assert.strictEqual(outcomes.filter((o) => o._tag === "Accepted").length, 200)
        assert.lengthOf(yield* simulator.imageRequests, 3)
        assert.strictEqual(yield* sends, 200)
      }))

    it.effect("sendMany reuses a checker that already checked the campaign: no second fetch", () =>
      Effect.gen(function*() {
        const simulator = yield* Simulator.Simulator
        yield* simulator.reset
        const photo = simulator.imageUrl("jpeg")
        yield* Effect.gen(function*() {
          const checker = yield* ImageCheck.cached()
          const image = yield* checker(photo)
          assert.strictEqual(image.format, "jpeg")
          const esms = yield* EsmsClient.EsmsClient
          const outcomes = yield* esms.sendMany(
            Stream.fromIterable([message(1, photo), message(2, photo)]),
            { checkImage: checker }
          ).pipe(Stream.runCollect)
          assert.isTrue(Chunk.every(outcomes, (o) => o._tag === "Accepted"))
        }).pipe(
          Effect.provide(EsmsClient.layer({ credentials, baseUrl: simulator.baseUrl, maxAttempts: 1 })),
          Effect.provide(UndiciHttpClient.layer())
        )
        assert.lengthOf(yield* simulator.imageRequests, 1)
        assert.strictEqual(yield* sends, 2)
      }))
  }
)
