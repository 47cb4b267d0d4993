/* global URL */
/**
 * The floor of bench/simulator.mjs (`--floor`): what @effect/platform-node alone costs per request, as
 * the simulator resolves it. One route at the send path reads the body, parses it and answers eSMS's
 * "accepted" JSON; nothing is checked or kept. It has the shape of `Simulator` that
 * bench/simulator-server.mjs uses (`serve`, `baseUrl`, `attempts`).
 */
const module = (path) => import(new URL(`../packages/simulator/node_modules/${path}`, import.meta.url).href)
const [Effect, NodeHttpServer, HttpRouter, HttpServerRequest, HttpServerResponse] = await Promise.all([
  "effect/dist/esm/Effect.js",
  "@effect/platform-node/dist/esm/NodeHttpServer.js",
  "@effect/platform/dist/esm/HttpRouter.js",
  "@effect/platform/dist/esm/HttpServerRequest.js",
  "@effect/platform/dist/esm/HttpServerResponse.js"
].map(module))
const { createServer } = await import("node:http")

const ANSWER = { CodeResult: "100", CountRegenerate: 0, SMSID: "d8e0f1f0702544b2acb456ca9ccfd111" }
const PREFIX = "/MainService.svc/json"

export const Simulator = {
  defaultAccount: {},
  serve: () =>
    Effect.gen(function*() {
      const server = yield* NodeHttpServer.make(() => createServer(), { host: "127.0.0.1", port: 0 })
      yield* server.serve(HttpRouter.empty.pipe(HttpRouter.post(
        `${PREFIX}/SendZaloFollowerMessage_V5_post_json`,
        Effect.gen(function*() {
          const request = yield* HttpServerRequest.HttpServerRequest
          JSON.parse(yield* Effect.orElseSucceed(request.text, () => "{}"))
          return HttpServerResponse.unsafeJson(ANSWER)
        })
      )))
      return { baseUrl: `http://127.0.0.1:${server.address.port}${PREFIX}`, attempts: Effect.succeed([]) }
    })
}
