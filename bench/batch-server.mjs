/* global console, process, URL */
/**
 * The eSMS simulator for bench/batch.mjs, in its own process so that the batch's memory is measured
 * alone: an account with a balance for any run, no TPS limit, and the default loopback port 0.
 *
 * The simulator keeps every request for tests, copy-on-write (each request copies what it holds), so
 * its cost per request grows with what it holds; this server forgets every BENCH_RESET_EVERY accepted
 * messages (every RequestId in a bench run is distinct: nothing to de-duplicate across a reset).
 */
import { Simulator } from "../packages/simulator/dist/index.js"

// effect as the simulator resolves it (the root has no effect of its own): one copy in the process.
const Effect = await import(
  new URL("../packages/simulator/node_modules/effect/dist/esm/Effect.js", import.meta.url).href
)

const RESET_EVERY = Number(process.env.BENCH_RESET_EVERY ?? 2000)

const program = Effect.gen(function*() {
  const simulator = yield* Simulator.serve({
    accounts: [{ ...Simulator.defaultAccount, balance: Number.MAX_SAFE_INTEGER }],
    tps: 1_000_000_000,
    callbackDelay: "1 millis"
  })
  console.log(JSON.stringify({ baseUrl: simulator.baseUrl }))
  let accepted = 0
  for (;;) {
    yield* Effect.sleep("200 millis")
    const held = (yield* simulator.messages).length
    if (held >= RESET_EVERY) {
      accepted += held
      yield* simulator.reset
      console.log(JSON.stringify({ accepted }))
    }
  }
}).pipe(Effect.scoped)

Effect.runFork(program)
