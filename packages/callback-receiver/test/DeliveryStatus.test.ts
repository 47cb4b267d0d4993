/**
 * The simulator's real callbacks land in the receiver, and DeliveryStatus answers from the store,
 * else from GetSendStatus.
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { assert, describe, it } from "@effect/vitest"
import { Credentials, DeliveryReport } from "@esms-effect/core"
import { EsmsClient, SendStatus, TransportError } from "@esms-effect/http-client"
import { Simulator } from "@esms-effect/simulator"
import { DeliveryReports } from "@esms-effect/store"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import { CallbackReceiver, DeliveryStatus } from "../src/index.js"
import { layer, tempStoreFile } from "./Fixtures.js"

const account = Simulator.defaultAccount
const plain = (value: string | Redacted.Redacted<string>) => Redacted.isRedacted(value) ? Redacted.value(value) : value
const credentials = Credentials.make({
  apiKey: plain(account.apiKey),
  secretKey: plain(account.secretKey),
  oaid: account.oaids[0].oaid
})

const photo = { text: "Xin chào", imageUrl: "https://cdn.example.vn/p.png" }

const setup = (style: "encodedTwiceWithTime" | "encodedOnce") =>
  Effect.gen(function*() {
    const file = yield* tempStoreFile
    const context = yield* Layer.build(
      Layer.mergeAll(layer(file), Simulator.layer({ callbackDelay: "20 millis", errorInfoStyle: style }))
    )
    const simulator = Context.get(context, Simulator.Simulator)
    const options = { credentials, baseUrl: simulator.baseUrl, maxAttempts: 1 }
    const client = yield* Layer.build(NodeHttpClient.layerUndici)
    const esms = yield* Effect.provide(EsmsClient.make(options), client)
    const status = yield* Effect.provide(SendStatus.make(options), client)
    const lookup = (id: string) => DeliveryStatus.lookupWith(id, Effect.succeed(status)).pipe(Effect.provide(context))
    return {
      simulator,
      esms,
      lookup,
      url: Redacted.value(Context.get(context, CallbackReceiver.CallbackReceiver).url),
      store: Context.get(context, DeliveryReports.DeliveryReports)
    }
  })

describe("DeliveryStatus", () => {
  for (const style of ["encodedTwiceWithTime", "encodedOnce"] as const) {
    it.scopedLive(`the simulator's callbacks (${style}) are stored; status answers from them`, () =>
      Effect.gen(function*() {
        const { esms, lookup, simulator, store, url } = yield* setup(style)
        const ok = yield* esms.sendZaloImage({ ...photo, userId: "5308693166941955879", callbackUrl: url })
        const ko = yield* esms.sendZaloImage({
          ...photo,
          userId: "9000000000000000213",
          callbackUrl: url,
          requestId: "ko-1"
        })
        const callbacks = yield* simulator.awaitCallbacks(2)
        assert.deepStrictEqual(callbacks.map((c) => c.outcome), [
          { _tag: "Answered", status: 200 },
          { _tag: "Answered", status: 200 }
        ])
        assert.strictEqual(yield* store.count, 2)
        const delivered = yield* lookup(ok.smsId!)
        assert.strictEqual(DeliveryStatus.describe(delivered), "delivered")
        assert.strictEqual(delivered.source, "callback")
        const failed = yield* lookup("ko-1")
        assert.strictEqual(DeliveryStatus.describe(failed), "failed: user has not followed the OA (-213)")
        assert.strictEqual(failed.smsId, ko.smsId)
        assert.strictEqual(failed.zalo?.error, -213)
      }))
  }

  it.scopedLive("without a stored report it asks GetSendStatus; an unknown id fails with SmsIdNotFound", () =>
    Effect.gen(function*() {
      const { esms, lookup, simulator } = yield* setup("encodedOnce")
      const sent = yield* esms.sendZaloImage({ ...photo, userId: "5308693166941955879" })
      yield* simulator.waitUntil((s) => s.messages.every((m) => m.status !== "Pending"))
      const answer = yield* lookup(sent.smsId!)
      assert.strictEqual(answer.source, "GetSendStatus")
      assert.strictEqual(DeliveryStatus.describe(answer), "delivered")
      const missing = yield* Effect.flip(lookup("no-such-message"))
      assert.strictEqual(missing._tag, "SmsIdNotFound")
    }))

  it.scopedLive("a final stored report needs no call to eSMS", () =>
    Effect.gen(function*() {
      const { esms, simulator, store, url } = yield* setup("encodedOnce")
      const sent = yield* esms.sendZaloImage({ ...photo, userId: "5308693166941955879", callbackUrl: url })
      yield* simulator.awaitCallbacks(1)
      const answer = yield* DeliveryStatus.lookupWith(sent.smsId!, Effect.die("eSMS must not be asked")).pipe(
        Effect.provideService(DeliveryReports.DeliveryReports, store)
      )
      assert.strictEqual(DeliveryStatus.describe(answer), "delivered")
    }))

  it.scopedLive("a stored report still waiting: eSMS's final answer wins; eSMS unreachable, the stored one answers", () =>
    Effect.gen(function*() {
      const file = yield* tempStoreFile
      const store = Context.get(yield* Layer.build(DeliveryReports.layerSqlite(file)), DeliveryReports.DeliveryReports)
      yield* store.record(Either.getOrThrow(DeliveryReport.fromQueryString("SMSID=s7&SendStatus=7&RequestId=r7")))
      const asked: Array<string> = []
      const finished = SendStatus.SendStatus.of({
        get: (smsId) => {
          asked.push(smsId)
          return Effect.succeed(
            new SendStatus.SendStatusReport({
              smsId,
              sendStatus: "Finished",
              sendStatusCode: 5,
              sendSuccess: 1,
              sendFailed: 0,
              totalPrice: 60,
              totalReceiver: 1,
              totalSent: 1
            })
          )
        }
      })
      const lookup = (remote: SendStatus.Service) =>
        DeliveryStatus.lookupWith("r7", Effect.succeed(remote)).pipe(
          Effect.provideService(DeliveryReports.DeliveryReports, store)
        )
      const fromEsms = yield* lookup(finished)
      assert.deepStrictEqual(asked, ["s7"]) // by the stored report's SMSID, not the RequestId
      assert.strictEqual(DeliveryStatus.describe(fromEsms), "delivered")
      assert.strictEqual(fromEsms.requestId, "r7")
      const unreachable = SendStatus.SendStatus.of({
        get: () => Effect.fail(new TransportError.ConnectionFailed({ detail: "ECONNREFUSED" }))
      })
      const fromStore = yield* lookup(unreachable)
      assert.strictEqual(fromStore.source, "callback")
      assert.strictEqual(DeliveryStatus.describe(fromStore), "sent, waiting for the report")
    }))
})
