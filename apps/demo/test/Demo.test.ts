import { assert, describe, it } from "@effect/vitest"
import { Simulator } from "@esms-effect/simulator"
import type * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { Demo } from "../src/index.js"

/** A Console that keeps what is printed, one string per call. */
const capturing = Effect.map(Effect.console, (base) => {
  const lines: Array<string> = []
  const keep = (...args: ReadonlyArray<unknown>) => Effect.sync(() => void lines.push(args.map(String).join(" ")))
  const console: Console.Console = { ...base, log: keep, info: keep, warn: keep, error: keep }
  return { console, lines }
})

describe("pnpm demo", () => {
  it.live("tells the story: accepted, delivered, too large refused, AuthorizeFailed caught, -213 reported", () =>
    Effect.gen(function*() {
      const { console, lines } = yield* capturing
      const simulator = yield* Simulator.Simulator
      yield* Demo.program.pipe(Effect.withConsole(console))
      const output = lines.join("\n")

      assert.match(output, /^1\. eSMS simulator listening +http:\/\/127\.0\.0\.1:\d+\/MainService\.svc\/json$/m)
      assert.match(output, /^2\. Your callback receiver +http:\/\/127\.0\.0\.1:\d+\/esms\/callback$/m)
      const accepted = [...output.matchAll(/-> accepted by eSMS: SMSID ([0-9a-f]{32})$/gm)].map((m) => m[1])
      assert.lengthOf(accepted, 2)
      assert.match(output, /SendStatus=5 SendSuccess=1 SendFailed=0\n +-> delivered ✓/)
      assert.include(
        output,
        "5. Send a product photo of 1.5 MB (eSMS takes jpg and png up to 1 MB)\n" +
          "   -> refused before sending, Effect.catchTag(\"ImageTooLarge\"): is too large: eSMS takes at most 1 MB " +
          "(1,048,576 bytes), it has 1,573,509 bytes"
      )
      assert.include(output, "-> Effect.catchTag(\"AuthorizeFailed\") caught: eSMS answered 101")
      assert.match(
        output,
        /SendSuccess=0 SendFailed=1\n +-> not delivered ✗ +Zalo error -213: "User has not followed the OA"/
      )
      assert.match(lines[lines.length - 1], /^Done:/)
      for (const secret of [Simulator.defaultAccount.secretKey as string, "WRONG-SECRET-KEY"]) {
        assert.notInclude(output, secret)
      }

      // What the simulator saw: the story happened over HTTP, not in print only. The photos it served
      // were checked before each accepted send (the wrong-key client does not check); the large one
      // was fetched and never sent.
      const images = yield* simulator.imageRequests
      assert.deepStrictEqual(images.map((r) => new URL(r.path, "http://x").pathname), [
        "/images/photo.jpg",
        "/images/large.jpg",
        "/images/photo.jpg"
      ])
      const state = yield* simulator.snapshot
      assert.deepStrictEqual(state.attempts.map((a) => a.codeResult), ["100", "101", "100"])
      assert.deepStrictEqual(state.messages.map((m) => [m.smsId, m.status]), [
        [accepted[0], "Delivered"],
        [accepted[1], "Failed"]
      ])
      // The simulator records a callback once the receiver has answered it: wait for both.
      const callbacks = yield* simulator.awaitCallbacks(2)
      assert.deepStrictEqual(callbacks.map((c) => c.outcome), [
        { _tag: "Answered", status: 200 },
        { _tag: "Answered", status: 200 }
      ])
    }).pipe(Effect.provide(Demo.layer)))
})
