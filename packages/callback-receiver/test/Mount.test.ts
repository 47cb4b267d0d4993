/**
 * The receiver as an app mounted in someone else's Effect HTTP server, beside their own routes.
 */
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as HttpRouter from "@effect/platform/HttpRouter"
import type * as HttpServer from "@effect/platform/HttpServer"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { assert, describe, it } from "@effect/vitest"
import { DeliveryReports } from "@esms-effect/store"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Http from "node:http"
import { CallbackReceiver } from "../src/index.js"
import { callbackPath, request, tempStoreFile, TOKEN } from "./Fixtures.js"

describe("CallbackReceiver.httpApp", () => {
  it.scopedLive("mounted on a router beside other routes: callbacks stored, the host's routes untouched", () =>
    Effect.gen(function*() {
      const file = yield* tempStoreFile
      const store = Context.get(yield* Layer.build(DeliveryReports.layerSqlite(file)), DeliveryReports.DeliveryReports)
      const server = yield* NodeHttpServer.make(() => Http.createServer(), { host: "127.0.0.1", port: 0 })
      const router = HttpRouter.empty.pipe(
        HttpRouter.get("/health", HttpServerResponse.text("up")),
        HttpRouter.get("/esms/callback/*", CallbackReceiver.httpApp({ token: TOKEN }))
      )
      yield* server.serve(router).pipe(Effect.provideService(DeliveryReports.DeliveryReports, store))
      const port = (server.address as HttpServer.TcpAddress).port
      assert.deepStrictEqual(yield* request(port, "/health"), { status: 200, body: "up" })
      assert.strictEqual((yield* request(port, callbackPath("SMSID=m1&SendStatus=5&SendSuccess=1"))).status, 200)
      assert.strictEqual(
        (yield* request(port, callbackPath("SMSID=m1&SendStatus=5", "nope-nope-nope-nope"))).status,
        403
      )
      assert.strictEqual(yield* store.count, 1)
    }))
})
