/* global process, URL */
/**
 * The simulator under bench/campaign.mjs, in a process of its own, as eSMS is: the harness's own work
 * (spawning the workers, polling, reading their output) never holds the event loop that stamps the
 * requests' arrivals, which the TPS limit judges. argv: the TPS. Over IPC: tells its parent the base
 * URL; answers "record" with what the bench counts (the messages and the send attempts, the fields the
 * bench reads) and its event-loop delay.
 */
import { monitorEventLoopDelay } from "node:perf_hooks"

const effectModule = (name) =>
  import(new URL(`../packages/simulator/node_modules/effect/dist/esm/${name}.js`, import.meta.url).href)
const [Effect, Scope] = await Promise.all(["Effect", "Scope"].map(effectModule))
const { Simulator } = await import(new URL("../packages/simulator/dist/index.js", import.meta.url).href)

const scope = await Effect.runPromise(Scope.make())
const simulator = await Effect.runPromise(Scope.extend(
  Simulator.serve({
    accounts: [{ ...Simulator.defaultAccount, balance: Number.MAX_SAFE_INTEGER }],
    tps: Number(process.argv[2]),
    callbackDelay: "1 hour"
  }),
  scope
))

const RESOLUTION = 10
const delay = monitorEventLoopDelay({ resolution: RESOLUTION })
delay.enable()
const lateBy = (nanos) => Math.max(0, nanos / 1e6 - RESOLUTION)

process.on("message", async (command) => {
  if (command === "record") {
    const [messages, attempts] = await Promise.all([
      Effect.runPromise(simulator.messages),
      Effect.runPromise(simulator.attempts)
    ])
    process.send({
      messages: messages.map((m) => ({ requestId: m.requestId, userId: m.userId, acceptedAt: m.acceptedAt })),
      attempts: attempts.map((a) => ({
        endpoint: a.endpoint,
        at: a.at,
        codeResult: a.codeResult,
        requestId: a.requestId
      })),
      delayMillis: { p99: lateBy(delay.percentile(99)), max: lateBy(delay.max) }
    })
  }
})
process.on("disconnect", () => process.exit(0))
process.send({ baseUrl: simulator.baseUrl })
