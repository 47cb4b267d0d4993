import { assert, describe, it } from "@effect/vitest"
import { SentRequests } from "@esms-effect/store"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Redacted from "effect/Redacted"
import * as PgSentRequests from "../src/PgSentRequests.js"
import { freshUrl, store } from "./Db.js"

/** One machine's service: its own pool on the database. */
const machine = <A, E>(url: Redacted.Redacted<string>, use: (s: SentRequests.Service) => Effect.Effect<A, E>) =>
  Effect.flatMap(SentRequests.SentRequests, use).pipe(
    Effect.provide(PgSentRequests.layer.pipe(Layer.provide(store(url))))
  )

const fp = SentRequests.fingerprint(["oa", "u1", "Xin chào", "https://cdn.example.vn/p.png", undefined, undefined])
const other = SentRequests.fingerprint(["oa", "u2", "Xin chào", "https://cdn.example.vn/p.png", undefined, undefined])

describe("PgSentRequests", () => {
  it.live("the same SentRequests service: a retry from another machine knows its RequestId", () =>
    Effect.gen(function*() {
      const url = yield* freshUrl("sent")
      assert.deepStrictEqual(yield* machine(url, (s) => s.starting("rid-1", fp)), { _tag: "Unknown" })
      assert.deepStrictEqual(yield* machine(url, (s) => s.starting("rid-1", fp)), { _tag: "SameMessage" })
      const taken = yield* machine(url, (s) => s.starting("rid-1", other))
      assert.strictEqual(taken._tag, "OtherMessage")
      yield* machine(url, (s) => s.rejected("rid-2", fp))
      yield* machine(url, (s) => Effect.zipRight(s.starting("rid-3", fp), s.rejected("rid-3", fp)))
      assert.deepStrictEqual(yield* machine(url, (s) => s.starting("rid-3", fp)), { _tag: "Unknown" })
    }))

  it.live("two machines starting the same RequestId at once: one is first, the other knows it", () =>
    Effect.gen(function*() {
      const url = yield* freshUrl("sent")
      const answers = yield* Effect.all(
        [machine(url, (s) => s.starting("rid-x", fp)), machine(url, (s) => s.starting("rid-x", other))],
        { concurrency: "unbounded" }
      )
      assert.deepStrictEqual(answers.map((a) => a._tag).sort(), ["OtherMessage", "Unknown"])
    }))
})
