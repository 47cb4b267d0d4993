/**
 * The real `esms` program against the simulator over loopback HTTP: no test double between them.
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { describe, expect, layer } from "@effect/vitest"
import { Fault, Simulator } from "@esms-effect/simulator"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Http from "node:http"
import type * as Net from "node:net"
import { run } from "./CliRunner.js"

const account = Simulator.defaultAccount
const plain = (value: string | Redacted.Redacted<string>) => Redacted.isRedacted(value) ? Redacted.value(value) : value
const apiKey = plain(account.apiKey)
const secretKey = plain(account.secretKey)

const envFor = (simulator: Simulator.Service, extra: Record<string, string> = {}) => ({
  ESMS_API_KEY: apiKey,
  ESMS_SECRET_KEY: secretKey,
  ESMS_OAID: account.oaids[0].oaid,
  ESMS_BASE_URL: simulator.baseUrl,
  ...extra
})

const send = ["zalo", "send-image", "--user-id", "5308693166941955879", "--text", "Xin chào 👋", "--image-url"]
// Stands for the simulator's real JPEG (the photo is checked before each send, over loopback).
const photo = "<simulator photo>"

/** Runs esms against the simulator with the real HTTP client. */
const esms = (args: ReadonlyArray<string>, extra: Record<string, string> = {}) =>
  Effect.flatMap(
    Simulator.Simulator,
    (simulator) =>
      run(args.map((arg) => arg === photo ? simulator.imageUrl("jpeg") : arg), {
        env: envFor(simulator, extra),
        http: NodeHttpClient.layerUndici
      })
  )

const noKeys = (result: { stdout: Array<string>; stderr: Array<string> }) => {
  const all = [...result.stdout, ...result.stderr].join("\n")
  expect(all).not.toContain(apiKey)
  expect(all).not.toContain(secretKey)
}

layer(Simulator.layer({ tps: 1000, callbackDelay: "1 hour" }), { excludeTestServices: true })(
  "esms ↔ simulator",
  (it) => {
    const fresh = Effect.flatMap(Simulator.Simulator, (s) => s.reset)

    it.effect("accepted: exit 0, the SMSID the simulator issued, one message", () =>
      Effect.gen(function*() {
        yield* fresh
        const simulator = yield* Simulator.Simulator
        const result = yield* esms([...send, photo, "--request-id", "e2e-1", "--json"])
        expect(result.exitCode).toBe(0)
        const [message] = yield* simulator.messages
        expect(JSON.parse(result.stdout[0])).toEqual({
          status: "accepted",
          smsId: message.smsId,
          requestId: "e2e-1",
          deduplicated: false
        })
        expect(yield* simulator.acceptedCount("e2e-1")).toBe(1)
      }))

    it.effect("human output names the SMSID and the RequestId", () =>
      Effect.gen(function*() {
        yield* fresh
        const result = yield* esms([...send, photo, "--request-id", "e2e-h"])
        expect(result.exitCode).toBe(0)
        expect(result.stdout[0]).toMatch(/^Accepted — SMSID [0-9a-f]{32} \(RequestId e2e-h\)$/)
      }))

    it.effect("wrong key: exit 3, AuthorizeFailed, keys nowhere in the output", () =>
      Effect.gen(function*() {
        yield* fresh
        const result = yield* esms([...send, photo, "--json"], { ESMS_SECRET_KEY: "not-the-secret" })
        expect(result.exitCode).toBe(3)
        expect(JSON.parse(result.stdout[0])).toMatchObject({ status: "rejected", tag: "AuthorizeFailed", code: "101" })
        noKeys(result)
      }))

    it.effect("inactive OA via --oaid: exit 3, OaidInactive (799)", () =>
      Effect.gen(function*() {
        yield* fresh
        const result = yield* esms([...send, photo, "--oaid", account.oaids[1].oaid, "--json"])
        expect(result.exitCode).toBe(3)
        expect(JSON.parse(result.stdout[0])).toMatchObject({ tag: "OaidInactive", code: "799" })
      }))

    it.effect("the same --request-id twice: the second is exit 3 DuplicateRequestId, one message", () =>
      Effect.gen(function*() {
        yield* fresh
        const simulator = yield* Simulator.Simulator
        expect((yield* esms([...send, photo, "--request-id", "twice"])).exitCode).toBe(0)
        const again = yield* esms([...send, photo, "--request-id", "twice", "--json"])
        expect(again.exitCode).toBe(3)
        expect(JSON.parse(again.stdout[0])).toMatchObject({ tag: "DuplicateRequestId", code: "124" })
        expect(yield* simulator.acceptedCount("twice")).toBe(1)
      }))

    it.effect("an HTML page from a proxy: exit 4, BodyNotJson", () =>
      Effect.gen(function*() {
        yield* fresh
        const simulator = yield* Simulator.Simulator
        yield* simulator.injectFault(Fault.html({ status: 200 }))
        const result = yield* esms([...send, photo, "--json"])
        expect(result.exitCode).toBe(4)
        expect(JSON.parse(result.stdout[0])).toMatchObject({ status: "failed", tag: "BodyNotJson" })
      }))

    it.effect("the answer lost after eSMS took the message: exit 0, de-duplicated, one message", () =>
      Effect.gen(function*() {
        yield* fresh
        const simulator = yield* Simulator.Simulator
        yield* simulator.injectFault(Fault.drop({ processed: true }))
        const json = yield* esms([...send, photo, "--request-id", "lost-1", "--json"])
        expect(json.exitCode).toBe(0)
        expect(JSON.parse(json.stdout[0])).toEqual({
          status: "accepted",
          smsId: null,
          requestId: "lost-1",
          deduplicated: true
        })
        yield* simulator.injectFault(Fault.drop({ processed: true }))
        const human = yield* esms([...send, photo, "--request-id", "lost-2"])
        expect(human.exitCode).toBe(0)
        expect(human.stdout[0]).toContain("already sent earlier, eSMS de-duplicated this retry")
        expect(yield* simulator.acceptedCount("lost-1")).toBe(1)
        expect(yield* simulator.acceptedCount("lost-2")).toBe(1)
        expect((yield* simulator.messages).length).toBe(2)
      }))

    it.effect(
      "every path at --log-level debug: the keys appear nowhere, --json stays one object on stdout",
      () =>
        Effect.gen(function*() {
          yield* fresh
          const simulator = yield* Simulator.Simulator
          const runs = [
            yield* esms(["--log-level", "debug", ...send, photo, "--json"]),
            yield* esms(["--log-level", "debug", ...send, photo, "--json"], { ESMS_API_KEY: "AK-WRONG-1234" })
          ]
          yield* simulator.injectFault(Fault.httpError({ status: 503, body: `echo ${apiKey} ${secretKey}` }), 5)
          runs.push(yield* esms(["--log-level", "debug", ...send, photo, "--json"]))
          yield* simulator.injectFault(Fault.drop({ processed: true }))
          runs.push(yield* esms(["--log-level", "debug", ...send, photo, "--json"]))
          yield* simulator.injectFault(Fault.html({ status: 200 }))
          runs.push(yield* esms(["--log-level", "debug", ...send, photo]))
          expect(runs.map((r) => r.exitCode)).toEqual([0, 3, 4, 0, 4])
          for (const r of runs) noKeys(r)
          for (const r of runs.slice(0, 4)) {
            expect(r.stdout).toHaveLength(1)
            JSON.parse(r.stdout[0])
          }
          // The debug lines are there, on stderr.
          expect(runs[2].stderr.join("\n")).toContain("attempt 5 failed: HttpStatusError")
        }),
      { timeout: 20_000 }
    )
  }
)

describe("no server", () => {
  layer(Simulator.layer(), { excludeTestServices: true })((it) => {
    it.effect("a closed port: exit 4 within the deadline, with the RequestId to retry with", () =>
      Effect.gen(function*() {
        const port = yield* Effect.async<number>((resume) => {
          const server = Http.createServer()
          server.listen(0, "127.0.0.1", () => {
            const p = (server.address() as Net.AddressInfo).port
            server.close(() => resume(Effect.succeed(p)))
          })
        })
        const started = Date.now()
        const result = yield* esms([
          ...send,
          photo,
          "--base-url",
          `http://127.0.0.1:${port}/MainService.svc/json`,
          "--deadline",
          "1",
          "--request-id",
          "closed-1"
        ])
        expect(result.exitCode).toBe(4)
        expect(Date.now() - started).toBeLessThan(3000)
        const stderr = result.stderr.join("\n")
        expect(stderr).toMatch(/Not delivered to eSMS — (No answer from eSMS within the deadline|Could not connect)/)
        expect(stderr).toContain("Safe to retry with --request-id closed-1")
      }))
  })
})
