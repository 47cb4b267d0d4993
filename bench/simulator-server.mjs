/* global process, URL */
/**
 * The simulator under bench/simulator.mjs and bench/campaign.mjs: `Simulator.serve` from the build of the
 * checkout given as argv[2], TPS argv[3], an unlimited balance, callbacks an hour away. Run as a child
 * process, so its CPU is its own. Over IPC: tells its parent the base URL; on "start" zeroes its CPU time
 * and its event-loop delay histogram; on "stop" answers both, and what it answered (its own record of the
 * attempts); on "record", the messages and send attempts (the fields the campaign bench counts) and its
 * event-loop delay so far.
 */
import { monitorEventLoopDelay } from "node:perf_hooks"
import { pathToFileURL } from "node:url"
import { busiest } from "./windows.mjs"

// "floor": bench/simulator-floor.mjs, the platform alone, on this checkout's dependencies.
const floor = process.argv[2] === "floor"
const root = floor ? new URL("..", import.meta.url) : pathToFileURL(`${process.argv[2]}/`)
const tps = Number(process.argv[3])
// effect as the simulator resolves it: one copy in the process.
const effectModule = (name) => import(new URL(`packages/simulator/node_modules/effect/dist/esm/${name}.js`, root).href)
const [Effect, Scope] = await Promise.all(["Effect", "Scope"].map(effectModule))
const { Simulator } = await import(
  floor ? new URL("simulator-floor.mjs", import.meta.url).href : new URL("packages/simulator/dist/index.js", root).href
)

const scope = await Effect.runPromise(Scope.make())
const simulator = await Effect.runPromise(Scope.extend(
  Simulator.serve({
    accounts: [{ ...Simulator.defaultAccount, balance: Number.MAX_SAFE_INTEGER }],
    tps,
    callbackDelay: "1 hour"
  }),
  scope
))

// 10 ms, the default: a finer timer would add its own wake-ups to the CPU measured. Each sample is
// the time between two ticks: the delay is what exceeds the tick.
const RESOLUTION = 10
const delay = monitorEventLoopDelay({ resolution: RESOLUTION })
const lateBy = (nanos) => Math.max(0, nanos / 1e6 - RESOLUTION)
let cpuAtStart = process.cpuUsage()

process.on("message", async (command) => {
  if (command === "start") {
    delay.reset()
    delay.enable()
    cpuAtStart = process.cpuUsage()
  } else if (command === "stop") {
    const cpu = process.cpuUsage(cpuAtStart)
    delay.disable()
    const attempts = await Effect.runPromise(simulator.attempts)
    const codes = {}
    for (const attempt of attempts) codes[attempt.codeResult] = (codes[attempt.codeResult] ?? 0) + 1
    process.send({
      cpuMicros: cpu.user + cpu.system,
      delayMillis: {
        p50: lateBy(delay.percentile(50)),
        p99: lateBy(delay.percentile(99)),
        max: lateBy(delay.max)
      },
      codes,
      busiestSecond: busiest(attempts.map((a) => a.at).sort((a, b) => a - b))
    })
  } else if (command === "record") {
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
