/**
 * Receivers that scale out: two `esms callbacks serve --store postgres://…` processes (the built
 * binary) with one token, behind one URL, both given the same callbacks (as eSMS's retries through a
 * load balancer): each report is stored once, and `esms status` answers from either machine. Against
 * a real PostgreSQL server the test starts (@esms-effect/pg-test).
 */
import { assert, describe, it } from "@effect/vitest"
import * as PgServer from "@esms-effect/pg-test"
import { Simulator } from "@esms-effect/simulator"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import { afterAll, beforeAll } from "vitest"
import * as EsmsProcess from "./EsmsProcess.js"

let server: PgServer.PgServer
beforeAll(async () => {
  server = await PgServer.start()
}, 30_000)
afterAll(() => server?.stop())

const TOKEN = "pg-test-token-0123456789abcdefghijklmnopqrstuv"

const serve = (store: string) =>
  Effect.acquireRelease(
    Effect.sync(() =>
      EsmsProcess.spawn(["callbacks", "serve", "--port", "0", "--store", store], {
        ESMS_CALLBACK_TOKEN: TOKEN
      })
    ),
    (child) => Effect.promise(() => (child.process.kill("SIGINT"), child.exited))
  ).pipe(
    Effect.flatMap((child) =>
      Effect.suspend(() => {
        const listening = child.stderr().match(/listening on (http:\/\/127\.0\.0\.1:\d+)/)
        return listening === null ? Effect.fail("not yet") : Effect.succeed({ child, base: listening[1] })
      }).pipe(Effect.retry(Schedule.spaced("50 millis").pipe(Schedule.upTo("15 seconds"))), Effect.orDie)
    )
  )

const callback = (base: string, query: string) =>
  Effect.promise(() => fetch(`${base}/esms/callback/${TOKEN}?${query}`).then((r) => r.status))

describe("esms callbacks serve --store postgres://…", () => {
  it.scopedLive(
    "two receivers, the same callbacks to both: each report stored once; status from either",
    () =>
      Effect.gen(function*() {
        const store = yield* Effect.promise(() => PgServer.createDatabase(server.url, "callbacks"))
        const [a, b] = yield* Effect.all([serve(store), serve(store)], { concurrency: "unbounded" })
        const queries = Array.from(
          { length: 20 },
          (_, i) => `SMSID=sms-${i}&SendStatus=5&SendSuccess=1&SendFailed=0&RequestId=req-${i}&TypeId=26`
        )
        // Every callback to both receivers at once, twice: eSMS's retries landing on either machine.
        const statuses = yield* Effect.forEach(
          [...queries, ...queries].flatMap((q) => [callback(a.base, q), callback(b.base, q)]),
          (call) => call,
          { concurrency: 8 }
        )
        assert.isTrue(statuses.every((s) => s === 200), `answers: ${statuses}`)
        const stored = (text: string) => (text.match(/callback received: /g) ?? []).length
        assert.strictEqual(stored(a.child.stderr()) + stored(b.child.stderr()), 20, "each report stored once")
        // The password is a secret: masked in the banner, and nowhere else.
        assert.match(
          a.child.stderr(),
          /reports are stored in postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/callbacks_/
        )
        for (const child of [a.child, b.child]) assert.notInclude(child.stderr(), server.password)

        // `esms status` from any machine: both receivers' reports, in the shared store.
        for (const id of ["sms-3", "req-17"]) {
          const status = yield* EsmsProcess.run(["status", id, "--store", store, "--json"], {})
          assert.strictEqual(status.code, 0, status.stderr)
          assert.include(status.stdout, "\"delivered\"")
          assert.notInclude(status.stdout + status.stderr, server.password)
        }
        const viaEnv = yield* EsmsProcess.run(["status", "sms-0"], { ESMS_STORE: store })
        assert.strictEqual(viaEnv.code, 0, viaEnv.stderr)
      }),
    { timeout: 60_000 }
  )

  it.scopedLive(
    "a wrong password: exit 2, one line naming --store, the password masked",
    () =>
      Effect.gen(function*() {
        const store = yield* Effect.promise(() => PgServer.createDatabase(server.url, "callbacks"))
        const wrong = store.replace(`:${server.password}@`, ":Wr0ng-s3cret@")
        const status = yield* EsmsProcess.run(["status", "sms-1", "--store", wrong], {})
        assert.strictEqual(status.code, 2)
        assert.match(status.stderr, /--store.*postgres:\/\/postgres:\*\*\*@.*password authentication failed/)
        assert.notInclude(status.stdout + status.stderr, "Wr0ng-s3cret")
        const serveWrong = yield* EsmsProcess.run(["callbacks", "serve", "--port", "0", "--store", wrong], {
          ESMS_CALLBACK_TOKEN: TOKEN
        })
        assert.strictEqual(serveWrong.code, 2)
        assert.match(serveWrong.stderr, /Could not open the store postgres:\/\/postgres:\*\*\*@/)
        assert.notInclude(serveWrong.stdout + serveWrong.stderr, "Wr0ng-s3cret")
      }),
    { timeout: 60_000 }
  )

  it.scopedLive(
    "send-image with ESMS_STORE=postgres://…: its RequestId recorded there, the password never printed",
    () =>
      Effect.gen(function*() {
        const simulator = yield* Simulator.Simulator
        const store = yield* Effect.promise(() => PgServer.createDatabase(server.url, "sendimage"))
        const env = { ...EsmsProcess.envFor(simulator.baseUrl), ESMS_STORE: store }
        const send = [...EsmsProcess.sendImage(simulator.imageUrl("png")), "--request-id", "pg-order-1", "--json"]
        const first = yield* EsmsProcess.run(send, env)
        assert.strictEqual(first.code, 0, first.stderr)
        // The same send again: eSMS answers 124, and the record in the shared store says it is this message.
        const again = yield* EsmsProcess.run(send, env)
        assert.strictEqual(again.code, 0, again.stderr)
        assert.include(again.stdout, "\"deduplicated\":true")
        for (const out of [first, again]) assert.notInclude(out.stdout + out.stderr, server.password)
        const wrong = yield* EsmsProcess.run(send, {
          ...env,
          ESMS_STORE: store.replace(`:${server.password}@`, ":Wr0ng-s3cret@")
        })
        assert.strictEqual(wrong.code, 2)
        assert.match(wrong.stdout, /"field":"ESMS_STORE".*password authentication failed/)
        assert.notInclude(wrong.stdout + wrong.stderr, "Wr0ng-s3cret")
      }).pipe(Effect.provide(Simulator.layer({ tps: 1000, callbackDelay: "1 hour" }))),
    { timeout: 60_000 }
  )
})
