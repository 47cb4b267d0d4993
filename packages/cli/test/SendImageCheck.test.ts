/**
 * `esms zalo send-image` checks the photo before sending (on by default), against the simulator's
 * images over loopback: a bad photo is exit 2 with the field and the reason, and nothing is sent.
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { describe, expect, layer } from "@effect/vitest"
import type { Images } from "@esms-effect/simulator"
import { Simulator } from "@esms-effect/simulator"
import * as Effect from "effect/Effect"
import { run } from "./CliRunner.js"
import * as EsmsProcess from "./EsmsProcess.js"

const sendImage = (name: Images.Name, extra: ReadonlyArray<string> = []) =>
  Effect.flatMap(
    Simulator.Simulator,
    (simulator) =>
      run([...EsmsProcess.sendImage(simulator.imageUrl(name)), ...extra], {
        env: EsmsProcess.envFor(simulator.baseUrl),
        http: NodeHttpClient.layerUndici
      })
  )

const counts = Effect.gen(function*() {
  const simulator = yield* Simulator.Simulator
  const attempts = yield* simulator.attempts
  return {
    sends: attempts.filter((a) => a.endpoint === "SendZaloFollowerMessage").length,
    images: (yield* simulator.imageRequests).length
  }
})

const fresh = Effect.flatMap(Simulator.Simulator, (s) => s.reset)

layer(Simulator.layer({ tps: 1000, callbackDelay: "1 hour", slowImageDelay: "30 seconds" }), {
  excludeTestServices: true,
  timeout: "30 seconds"
})("esms zalo send-image checks the photo", (it) => {
  it.effect("a good photo (even without an extension) is fetched once, then sent: exit 0", () =>
    Effect.gen(function*() {
      yield* fresh
      const result = yield* sendImage("extensionless", ["--json"])
      expect(result.exitCode).toBe(0)
      expect(JSON.parse(result.stdout[0]).status).toBe("accepted")
      expect(yield* counts).toEqual({ sends: 1, images: 1 })
    }))

  it.effect("too large: exit 2, the field and the reason on stderr, nothing sent", () =>
    Effect.gen(function*() {
      yield* fresh
      const result = yield* sendImage("large")
      expect(result.exitCode).toBe(2)
      expect(result.stdout).toEqual([])
      expect(result.stderr.join("\n")).toBe(
        "Invalid input — nothing was sent:\n" +
          "  --image-url is too large: eSMS takes at most 1 MB (1,048,576 bytes), it has 1,573,509 bytes"
      )
      expect(yield* counts).toEqual({ sends: 0, images: 1 })
    }))

  describe("--json: one invalid object naming --image-url", () => {
    it.effect("an HTML page named .png, a GIF served as image/png, a 404", () =>
      Effect.gen(function*() {
        yield* fresh
        const messages: Array<string> = []
        for (const name of ["html", "disguised", "missing"] as const) {
          const result = yield* sendImage(name, ["--json"])
          expect(result.exitCode).toBe(2)
          expect(result.stdout).toHaveLength(1)
          const out = JSON.parse(result.stdout[0])
          expect(out.status).toBe("invalid")
          expect(out.errors).toHaveLength(1)
          expect(out.errors[0].field).toBe("--image-url")
          messages.push(out.errors[0].message)
        }
        expect(messages).toEqual([
          "is not a JPEG or PNG image: it is an HTML page (served as text/html; charset=utf-8)",
          "is not a JPEG or PNG image: it is a GIF image (served as image/png)",
          "could not be fetched: HTTP 404"
        ])
        expect((yield* counts).sends).toBe(0)
      }))
  })

  it.effect("--no-check-image: the photo is not fetched, the message is sent as is", () =>
    Effect.gen(function*() {
      yield* fresh
      const result = yield* sendImage("missing", ["--no-check-image", "--json"])
      expect(result.exitCode).toBe(0)
      expect(yield* counts).toEqual({ sends: 1, images: 0 })
    }))
})
