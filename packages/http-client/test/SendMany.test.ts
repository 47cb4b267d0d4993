/**
 * `EsmsClient.sendMany` against the simulator over loopback: one tagged outcome per message, a
 * failure never stops the others, and the rate is what the simulator counts.
 */
import { assert, layer } from "@effect/vitest"
import { Credentials } from "@esms-effect/core"
import { Fault, Simulator } from "@esms-effect/simulator"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import * as EsmsClient from "../src/EsmsClient.js"
import * as NodeEsmsClient from "../src/NodeEsmsClient.js"
import * as RateLimiter from "../src/RateLimiter.js"

const account = Simulator.defaultAccount
const credentials = Credentials.make({
  apiKey: account.apiKey,
  secretKey: account.secretKey,
  oaid: account.oaids[0].oaid
})

const message = (i: number, requestId?: string) => ({
  userId: `53086931669419${String(i).padStart(5, "0")}`,
  text: `Xin chào khách hàng số ${i}`,
  imageUrl: "https://cdn.example.vn/p/photo.png",
  ...(requestId === undefined ? {} : { requestId })
})

const sendAll = <A extends ReturnType<typeof message>>(
  messages: ReadonlyArray<A>,
  options: EsmsClient.SendManyOptions<A> = {},
  maxAttempts = 5
) =>
  Effect.gen(function*() {
    const simulator = yield* Simulator.Simulator
    return yield* EsmsClient.sendMany(Stream.fromIterable(messages), options).pipe(
      Stream.runCollect,
      Effect.map(Chunk.toReadonlyArray),
      Effect.provide(
        NodeEsmsClient.layer({ credentials, baseUrl: simulator.baseUrl, timeout: "2 seconds", maxAttempts })
      )
    )
  })

const sendAttempts = Effect.map(
  Effect.flatMap(Simulator.Simulator, (s) => s.attempts),
  (attempts) => attempts.filter((a) => a.endpoint === "SendZaloFollowerMessage")
)

layer(Simulator.layer({ tps: 1000, callbackDelay: "1 hour" }), { timeout: "30 seconds", excludeTestServices: true })(
  "sendMany",
  (it) => {
    const fresh = Effect.flatMap(Simulator.Simulator, (s) => s.reset)

    it.effect("one outcome per message, by tag: accepted, invalid, rejected (a reused RequestId)", () =>
      Effect.gen(function*() {
        yield* fresh
        yield* sendAll([message(0, "taken")])
        const outcomes = yield* sendAll([
          message(1),
          { ...message(2), imageUrl: "https://cdn.example.vn/p/photo.gif" },
          message(3, "taken"),
          message(4, "batch-4")
        ])
        const byIndex = [...outcomes].sort((a, b) => a.index - b.index)
        assert.deepStrictEqual(byIndex.map((o) => o._tag), ["Accepted", "Invalid", "Rejected", "Accepted"])
        const [first, invalid, rejected, fourth] = byIndex
        assert(first._tag === "Accepted" && first.requestId.startsWith("esms-") && first.smsId !== undefined)
        assert(
          invalid._tag === "Invalid" && invalid.error._tag === "InvalidMessage" &&
            invalid.error.errors[0].field === "imageUrl"
        )
        assert(rejected._tag === "Rejected" && rejected.error._tag === "DuplicateRequestId")
        assert(fourth._tag === "Accepted" && fourth.requestId === "batch-4")
        const simulator = yield* Simulator.Simulator
        assert.strictEqual((yield* simulator.messages).length, 3)
        assert.strictEqual(yield* simulator.acceptedCount(first.requestId), 1)
      }))

    it.effect("a message eSMS never answers fails alone; the others are accepted", () =>
      Effect.gen(function*() {
        yield* fresh
        const simulator = yield* Simulator.Simulator
        yield* simulator.injectFault(Fault.drop({ processed: false }))
        const outcomes = yield* sendAll(Array.from({ length: 6 }, (_, i) => message(i)), { concurrency: 1 }, 1)
        const tags = [...outcomes].sort((a, b) => a.index - b.index).map((o) => o._tag)
        assert.deepStrictEqual(tags, ["Failed", "Accepted", "Accepted", "Accepted", "Accepted", "Accepted"])
        const failed = outcomes.find((o) => o._tag === "Failed")
        assert(failed?._tag === "Failed" && failed.error._tag === "ConnectionLost")
      }))

    it.effect("beforeSend sees each valid message with the RequestId it goes out with, before it goes", () =>
      Effect.gen(function*() {
        yield* fresh
        const simulator = yield* Simulator.Simulator
        const seen: Array<{ index: number; requestId: string; sentBefore: number }> = []
        const counted = Effect.map(simulator.attempts, (a) => a.filter((x) => x.endpoint === "SendZaloFollowerMessage"))
        const outcomes = yield* sendAll([message(0), { ...message(1), text: " " }, message(2, "mine-2")], {
          concurrency: 1,
          beforeSend: (_, index, requestId) =>
            Effect.map(counted, (attempts) => {
              seen.push({ index, requestId, sentBefore: attempts.length })
            })
        })
        assert.deepStrictEqual(seen.map((s) => [s.index, s.sentBefore]), [[0, 0], [2, 1]])
        assert.strictEqual(seen[1].requestId, "mine-2")
        const first = outcomes.find((o) => o.index === 0)
        assert(first?._tag === "Accepted" && first.requestId === seen[0].requestId)
        assert.strictEqual(yield* simulator.acceptedCount(seen[0].requestId), 1)
      }))

    it.effect("beforePermit runs before the message waits for its permit, beforeSend right after it", () =>
      Effect.gen(function*() {
        yield* fresh
        const events: Array<string> = []
        const limiter = RateLimiter.RateLimiter.of({ take: Effect.sync(() => void events.push("permit")) })
        const outcomes = yield* sendAll([message(0), { ...message(1), text: " " }, message(2)], {
          concurrency: 1,
          beforePermit: (_, index) => Effect.sync(() => void events.push(`beforePermit ${index}`)),
          beforeSend: (_, index) => Effect.sync(() => void events.push(`beforeSend ${index}`))
        }).pipe(Effect.provideService(RateLimiter.RateLimiter, limiter))
        assert.strictEqual(outcomes.filter((o) => o._tag === "Accepted").length, 2)
        // The invalid message (index 1) takes no permit and runs no hook.
        assert.deepStrictEqual(events, [
          "beforePermit 0",
          "permit",
          "beforeSend 0",
          "beforePermit 2",
          "permit",
          "beforeSend 2"
        ])
      }))

    it.effect("the hooks are called when their turn comes, not when the send is set up", () =>
      Effect.gen(function*() {
        yield* fresh
        // A hook that does its work in its own body, not in the Effect it returns: still in order.
        const events: Array<string> = []
        const limiter = RateLimiter.RateLimiter.of({ take: Effect.sync(() => void events.push("permit")) })
        yield* sendAll([message(0)], {
          beforePermit: () => {
            events.push("beforePermit")
            return Effect.void
          },
          beforeSend: () => {
            events.push("beforeSend")
            return Effect.void
          }
        }).pipe(Effect.provideService(RateLimiter.RateLimiter, limiter))
        assert.deepStrictEqual(events, ["beforePermit", "permit", "beforeSend"])
      }))

    it.effect("perSecond: sends start evenly spaced; the simulator counts no burst above the rate", () =>
      Effect.gen(function*() {
        yield* fresh
        const perSecond = 10
        const start = Date.now()
        const starts: Array<number> = []
        const outcomes = yield* sendAll(Array.from({ length: 16 }, (_, i) => message(i)), {
          concurrency: 8,
          perSecond,
          beforeSend: () => Effect.sync(() => void starts.push(Date.now()))
        })
        const elapsed = Date.now() - start
        assert.strictEqual(outcomes.filter((o) => o._tag === "Accepted").length, 16)
        // 16 starts spaced 100 ms apart take at least 1.5 s.
        assert.isAtLeast(elapsed, 1400)
        // The pacer never lets a send start before its slot (the i-th at i × 100 ms, a few ms of timer
        // slack allowed). A busy machine may wake a sleeping send late, so the gap between two measured
        // starts is not the pacer's to keep; a start ahead of its slot would be.
        starts.forEach((at, i) => assert.isAtLeast(at - start, i * (1000 / perSecond) - 15, `start ${i}`))
        // Arrivals at the simulator may bunch by a connection set-up's jitter on a loaded machine; a
        // burst well above the rate would still show.
        const at = (yield* sendAttempts).map((a) => a.at).sort((a, b) => a - b)
        const busiest = Math.max(...at.map((t) => at.filter((u) => u >= t && u < t + 1000).length))
        assert.isAtMost(busiest, perSecond + 2)
      }))

    it.effect("a retry takes a permit too: the budget counts every request, not every message", () =>
      Effect.gen(function*() {
        yield* fresh
        const simulator = yield* Simulator.Simulator
        // The first two requests are answered 160 (over the TPS limit): each is retried.
        yield* simulator.injectFault(Fault.resultCode("160", "TPS limit"), 2)
        let permits = 0
        const counting = RateLimiter.RateLimiter.of({ take: Effect.sync(() => void permits++) })
        const outcomes = yield* sendAll(Array.from({ length: 3 }, (_, i) => message(i)), { concurrency: 1 }).pipe(
          Effect.provideService(RateLimiter.RateLimiter, counting)
        )
        assert.strictEqual(outcomes.filter((o) => o._tag === "Accepted").length, 3)
        const requests = (yield* sendAttempts).length
        assert.strictEqual(requests, 5)
        assert.strictEqual(permits, requests)
      }))

    it.effect("perSecond paces the retries as well: 4 requests at 5/s take at least 600 ms", () =>
      Effect.gen(function*() {
        yield* fresh
        const simulator = yield* Simulator.Simulator
        yield* simulator.injectFault(Fault.resultCode("160", "TPS limit"), 2)
        const start = Date.now()
        // Both first requests are answered 160 and retried after the backoff (~250 ms): at 5/s every
        // request, retries included, waits its slot, so request i arrives no sooner than i × 200 ms after
        // the start. (Not the gap between two arrivals: on a loaded machine a late stamp of one shortened
        // the next gap, 184 ms once, with the requests sent on time.) A pacer that let the retries go at
        // once would send requests 1 and 3 within a few ms of 0 and 2.
        const outcomes = yield* sendAll([message(0), message(1)], { concurrency: 2, perSecond: 5 })
        assert.strictEqual(outcomes.filter((o) => o._tag === "Accepted").length, 2)
        const at = (yield* sendAttempts).map((a) => a.at).sort((a, b) => a - b)
        assert.strictEqual(at.length, 4)
        at.forEach((t, i) => assert.isAtLeast(t - start, i * 200 - 15, `request ${i} at ${t - start} ms`))
        assert.isAtLeast(Date.now() - start, 600 - 15)
      }))

    it.effect("a RateLimiter in context paces the sends instead of perSecond: every start takes a permit", () =>
      Effect.gen(function*() {
        yield* fresh
        let permits = 0
        const counting = RateLimiter.RateLimiter.of({ take: Effect.sync(() => void permits++) })
        const start = Date.now()
        const outcomes = yield* sendAll(Array.from({ length: 12 }, (_, i) => message(i)), {
          concurrency: 4,
          perSecond: 2 // would take 5.5 s on its own: the limiter in context replaces it
        }).pipe(Effect.provideService(RateLimiter.RateLimiter, counting))
        assert.strictEqual(outcomes.filter((o) => o._tag === "Accepted").length, 12)
        assert.strictEqual(permits, 12)
        assert.isBelow(Date.now() - start, 4000)
      }))
  }
)
