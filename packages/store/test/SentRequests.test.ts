import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { SentRequests } from "../src/index.js"

const tempFile = Effect.acquireRelease(
  Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "esms-sent-"))),
  (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
).pipe(Effect.map((dir) => Path.join(dir, "esms.sqlite")))

/** One command run: the store opened, used, closed. */
const run = <A, E>(file: string, use: (sent: SentRequests.Service) => Effect.Effect<A, E>) =>
  Effect.flatMap(SentRequests.SentRequests, use).pipe(Effect.provide(SentRequests.layerSqlite(file)))

describe("SentRequests", () => {
  it.scoped("a RequestId retried with the same message is known; with another message it is someone else's", () =>
    Effect.gen(function*() {
      const file = yield* tempFile
      assert.deepStrictEqual(yield* run(file, (s) => s.starting("order-42", "fp-a")), { _tag: "Unknown" })
      // Another run (the operator's retry), the same message.
      assert.deepStrictEqual(yield* run(file, (s) => s.starting("order-42", "fp-a")), { _tag: "SameMessage" })
      const other = yield* run(file, (s) => s.starting("order-42", "fp-b"))
      assert.strictEqual(other._tag, "OtherMessage")
      // The first message keeps the RequestId.
      const kept = yield* run(file, (s) => s.get("order-42"))
      assert.strictEqual(kept._tag === "Some" ? kept.value.fingerprint : undefined, "fp-a")
    }))

  it.scoped("a send eSMS refused holds nothing there: a 124 after it is not taken as de-duplication", () =>
    Effect.gen(function*() {
      const file = yield* tempFile
      yield* run(file, (s) => Effect.zipRight(s.starting("r-1", "fp"), s.rejected("r-1", "fp")))
      assert.deepStrictEqual(yield* run(file, (s) => s.starting("r-1", "fp")), { _tag: "Unknown" })
      // Sent again (the refusal fixed): the next retry of it is known again.
      assert.deepStrictEqual(yield* run(file, (s) => s.starting("r-1", "fp")), { _tag: "SameMessage" })
    }))
})
