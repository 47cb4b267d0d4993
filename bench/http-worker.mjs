/* global AbortController, clearTimeout, console, fetch, process, setTimeout */
/**
 * One HTTP benchmark scenario in a process of its own, so its CPU time and JIT state are its own:
 *
 *   node bench/http-worker.mjs <scenario> <concurrency> <warmupMs> <measureMs> <baseUrl>
 *
 * Runs `concurrency` send loops against the loopback server, discards the warm-up, and prints one
 * JSON line: messages per second and this process's CPU time (user + system) per message.
 */
import { register } from "node:module"

// Bare imports resolve as from packages/http-client (see hooks.mjs); they must come after this line.
register("./hooks.mjs", import.meta.url)

const [scenario, concurrencyArg, warmupArg, measureArg, baseUrl] = process.argv.slice(2)
const concurrency = Number(concurrencyArg)
const warmupMs = Number(warmupArg)
const measureMs = Number(measureArg)

const API_KEY = "bench-api-key"
const SECRET_KEY = "bench-secret-key"
const OAID = "4097311281936189049"
const PATH = "/SendZaloFollowerMessage_V5_post_json/"

let sent = 0
let failed = 0
let running = true

const message = (i) => ({
  userId: "5308693166941955879",
  text: "Xin chào! Ảnh sản phẩm mới của tháng này.",
  imageUrl: "https://cdn.example.vn/products/may-2026.png",
  requestId: `bench-${i}`
})

// The body EsmsClient writes for `message(i)`, built by hand.
const wireBody = (i) => {
  const m = message(i)
  return {
    ApiKey: API_KEY,
    SecretKey: SECRET_KEY,
    OAID,
    RequestId: m.requestId,
    Payload: {
      recipient: { user_id: m.userId },
      message: {
        text: m.text,
        attachment: {
          type: "template",
          payload: { template_type: "media", elements: [{ media_type: "image", url: m.imageUrl }] }
        }
      }
    }
  }
}

const HEADERS = { "content-type": "application/json; charset=utf-8", accept: "application/json" }
const isAccepted = (status, answer) => status === 200 && answer.CodeResult === "100"

/** Each scenario prepares itself, then answers `start`: it runs the loops until `running` turns false. */
const scenarios = {
  // (a) The floor: undici.request on its default dispatcher, JSON.stringify the body, parse the answer.
  async undici() {
    const { request } = await import("undici")
    const url = baseUrl + PATH
    const loop = async () => {
      while (running) {
        const response = await request(url, { method: "POST", headers: HEADERS, body: JSON.stringify(wireBody(sent)) })
        if (isAccepted(response.statusCode, await response.body.json())) sent++
        else failed++
      }
    }
    return () => Promise.all(Array.from({ length: concurrency }, loop))
  },

  // (b) EsmsClient.sendZaloImage on the production layer: validate, encode, send, read, decode, interpret.
  async esms() {
    const { NodeEsmsClient } = await import("@esms-effect/http-client")
    return esmsOn(NodeEsmsClient.layer)
  },

  // (b') The same client as a Promise API, as an Express handler would call it: one runPromise per send.
  async "esms-promise"() {
    const { Credentials } = await import("@esms-effect/core")
    const { EsmsClient, NodeEsmsClient } = await import("@esms-effect/http-client")
    const ManagedRuntime = await import("effect/ManagedRuntime")
    const runtime = ManagedRuntime.make(NodeEsmsClient.layer({
      credentials: Credentials.make({ apiKey: API_KEY, secretKey: SECRET_KEY, oaid: OAID }),
      baseUrl
    }))
    const client = await runtime.runPromise(EsmsClient.EsmsClient)
    const loop = async () => {
      while (running) {
        try {
          await runtime.runPromise(client.sendZaloImage(message(sent)))
          sent++
        } catch {
          failed++
        }
      }
    }
    return () => Promise.all(Array.from({ length: concurrency }, loop)).finally(() => runtime.dispose())
  },

  // (b) as another checkout built it (`--before DIR` of http.mjs): the same loop, for a same-run comparison.
  async "esms-before"() {
    const dir = process.env.ESMS_BENCH_BEFORE
    const { Credentials } = await import(`${dir}/packages/core/dist/index.js`)
    const { EsmsClient, NodeEsmsClient } = await import(`${dir}/packages/http-client/dist/index.js`)
    return esmsOn(NodeEsmsClient.layer, { Credentials, EsmsClient })
  },

  // (c) A peer SDK's way (Stainless: openai-node, telnyx): global fetch, an AbortController timeout per
  // request, the body JSON-stringified, the answer read with response.json().
  async fetch() {
    const url = baseUrl + PATH
    const headers = { ...HEADERS, "user-agent": "bench-fetch" }
    const post = async (body) => {
      const controller = new AbortController()
      const timer = setTimeout(() => controller.abort(), 15_000)
      try {
        const response = await fetch(url, {
          method: "POST",
          headers,
          body: JSON.stringify(body),
          signal: controller.signal
        })
        return isAccepted(response.status, await response.json())
      } finally {
        clearTimeout(timer)
      }
    }
    const loop = async () => {
      while (running) {
        if (await post(wireBody(sent))) sent++
        else failed++
      }
    }
    return () => Promise.all(Array.from({ length: concurrency }, loop))
  },

  // (d) A peer SDK's way (twilio-node, n8n's eSMS node): an axios instance with a keep-alive agent.
  async axios() {
    const { default: axios } = await import("axios")
    const { Agent } = await import("node:http")
    const instance = axios.create({
      baseURL: baseUrl,
      timeout: 15_000,
      headers: { ...HEADERS, "user-agent": "bench-axios" },
      httpAgent: new Agent({ keepAlive: true, maxSockets: Infinity }),
      validateStatus: () => true
    })
    const loop = async () => {
      while (running) {
        const response = await instance.post(PATH, wireBody(sent))
        if (isAccepted(response.status, response.data)) sent++
        else failed++
      }
    }
    return () => Promise.all(Array.from({ length: concurrency }, loop))
  },

  // The same loop as (a) inside an Effect program: what Effect itself costs.
  async "effect-undici"() {
    const { request } = await import("undici")
    const Layer = await import("effect/Layer")
    const url = baseUrl + PATH
    return withRuntime(Layer.empty, (Effect) => {
      const send = Effect.tryPromise(async () => {
        const response = await request(url, { method: "POST", headers: HEADERS, body: JSON.stringify(wireBody(sent)) })
        return isAccepted(response.statusCode, await response.body.json())
      })
      return effectLoops(Effect, Effect.void, () => send)
    })
  },

  // The HttpClient layers alone: POST the body, read the text, JSON.parse.
  async client() {
    const { UndiciHttpClient } = await import("@esms-effect/http-client")
    return httpClientOn(UndiciHttpClient.layer())
  },
  async "platform-client"() {
    const NodeHttpClient = await import("@effect/platform-node/NodeHttpClient")
    return httpClientOn(NodeHttpClient.layerUndici)
  },

  // (b) as it was before UndiciHttpClient: EsmsClient on @effect/platform-node's NodeHttpClient.layerUndici.
  async "esms-platform"() {
    const { EsmsClient } = await import("@esms-effect/http-client")
    const NodeHttpClient = await import("@effect/platform-node/NodeHttpClient")
    const Layer = await import("effect/Layer")
    return esmsOn((options) => EsmsClient.layer(options).pipe(Layer.provide(NodeHttpClient.layerUndici)))
  }
}

/** `concurrency` fibers, each running `send` (which answers whether eSMS accepted) while `running`. */
function effectLoops(Effect, environment, send) {
  const loop = Effect.flatMap(environment, (env) =>
    Effect.whileLoop({
      while: () => running,
      body: () => send(env),
      step: (accepted) => accepted ? sent++ : failed++
    }))
  return Effect.forEach(Array.from({ length: concurrency }), () => loop, { concurrency: "unbounded", discard: true })
}

async function withRuntime(layer, program) {
  const Effect = await import("effect/Effect")
  const ManagedRuntime = await import("effect/ManagedRuntime")
  const runtime = ManagedRuntime.make(layer)
  await runtime.runPromise(Effect.void) // build the layer before the clock starts
  const effect = program(Effect)
  return () => runtime.runPromise(effect).finally(() => runtime.dispose())
}

async function esmsOn(makeLayer, modules) {
  const { Credentials } = modules ?? await import("@esms-effect/core")
  const { EsmsClient } = modules ?? await import("@esms-effect/http-client")
  const layer = makeLayer({
    credentials: Credentials.make({ apiKey: API_KEY, secretKey: SECRET_KEY, oaid: OAID }),
    baseUrl
  })
  return withRuntime(
    layer,
    (Effect) =>
      effectLoops(Effect, EsmsClient.EsmsClient, (client) =>
        Effect.match(client.sendZaloImage(message(sent)), {
          onFailure: () => false,
          onSuccess: () => true
        }))
  )
}

async function httpClientOn(layer) {
  const HttpClient = await import("@effect/platform/HttpClient")
  const HttpClientRequest = await import("@effect/platform/HttpClientRequest")
  const url = baseUrl + PATH
  return withRuntime(layer, (Effect) =>
    effectLoops(Effect, HttpClient.HttpClient, (client) =>
      client.execute(
        HttpClientRequest.post(url).pipe(
          HttpClientRequest.setHeaders({ accept: HEADERS.accept }),
          HttpClientRequest.bodyText(JSON.stringify(wireBody(sent)), HEADERS["content-type"])
        )
      ).pipe(
        Effect.flatMap((response) => Effect.map(response.text, (text) => isAccepted(response.status, JSON.parse(text))))
      )))
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

const prepared = scenarios[scenario]
if (prepared === undefined) {
  console.error(`unknown scenario ${scenario}; one of ${Object.keys(scenarios).join(", ")}`)
  process.exit(2)
}
const start = await prepared()
const done = start()
await sleep(warmupMs)
const [sent0, failed0] = [sent, failed]
const cpu0 = process.cpuUsage()
const t0 = process.hrtime.bigint()
await sleep(measureMs)
const cpu = process.cpuUsage(cpu0)
const elapsedMs = Number(process.hrtime.bigint() - t0) / 1e6
const [measured, measuredFailed] = [sent - sent0, failed - failed0]
running = false
await done
console.log(JSON.stringify({
  scenario,
  concurrency,
  messages: measured,
  failed: measuredFailed,
  elapsedMs,
  perSecond: measured / (elapsedMs / 1000),
  cpuMicrosPerMessage: (cpu.user + cpu.system) / Math.max(1, measured)
}))
