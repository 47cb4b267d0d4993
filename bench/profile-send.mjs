/* global console, process */
/**
 * Where a send's CPU goes, without a network: EsmsClient on UndiciHttpClient over an undici MockAgent
 * (in memory, the production client's own request and answer code), one Effect program sending in a
 * loop. Run under the profiler:
 *
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof bench/profile-send.mjs [sends] [concurrency]
 *
 * and it prints the µs of CPU per send (the mock's own cost included).
 */
import { register } from "node:module"

register("./hooks.mjs", import.meta.url)

const sends = Number(process.argv[2] ?? "50000")
const concurrency = Number(process.argv[3] ?? "1")
const { MockAgent } = await import("undici")
const { Credentials } = await import("@esms-effect/core")
const { EsmsClient, UndiciHttpClient } = await import("@esms-effect/http-client")
const Effect = await import("effect/Effect")
const Layer = await import("effect/Layer")

const agent = new MockAgent({ connections: 1 })
agent.disableNetConnect()
const ANSWER = JSON.stringify({ CodeResult: "100", CountRegenerate: 0, SMSID: "d8e0f1f0702544b2acb456ca9ccfd111" })
agent.get("http://127.0.0.1:9").intercept({ path: /.*/, method: "POST" }).reply(200, ANSWER, {
  headers: { "content-type": "application/json; charset=utf-8", "content-length": String(ANSWER.length) }
}).persist()

const layer = EsmsClient.layer({
  credentials: Credentials.make({
    apiKey: "bench-api-key",
    secretKey: "bench-secret-key",
    oaid: "4097311281936189049"
  }),
  baseUrl: "http://127.0.0.1:9"
}).pipe(
  Layer.provide(Layer.succeed((await import("@effect/platform/HttpClient")).HttpClient, UndiciHttpClient.make(agent)))
)

let i = 0
const message = () => ({
  userId: "5308693166941955879",
  text: "Xin chào! Ảnh sản phẩm mới của tháng này.",
  imageUrl: "https://cdn.example.vn/products/may-2026.png",
  requestId: `bench-${i++}`
})
const program = Effect.gen(function*() {
  const client = yield* EsmsClient.EsmsClient
  const loop = (n) => Effect.repeatN(Effect.suspend(() => client.sendZaloImage(message())), n - 1)
  yield* loop(2000) // warm-up
  const cpu0 = process.cpuUsage()
  yield* Effect.forEach(Array.from({ length: concurrency }), () => loop(Math.ceil(sends / concurrency)), {
    concurrency: "unbounded",
    discard: true
  })
  const cpu = process.cpuUsage(cpu0)
  console.log(
    `${((cpu.user + cpu.system) / sends).toFixed(1)} µs CPU per send (${sends} sends, concurrency ${concurrency})`
  )
})
await Effect.runPromise(Effect.provide(program, layer))
