/**
 * The README's walkthrough with `esms simulator`, as a newcomer runs it: the balance it states is the
 * simulator's, and `--balance` shows the promised `InsufficientBalance`. Needs the build first.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fs from "node:fs"
import { fileURLToPath } from "node:url"
import * as SimulatorCommand from "../src/SimulatorCommand.js"
import { campaign, run, spawn, tempDir } from "./EsmsProcess.js"

const README = fileURLToPath(new URL("../../../README.md", import.meta.url))

describe("the simulator walkthrough", () => {
  it("the README states the simulator's real starting balance", () => {
    const readme = Fs.readFileSync(README, "utf8")
    const batch = readme.slice(readme.indexOf("## Batch sends"))
    assert.include(batch, `balance of ${SimulatorCommand.DEFAULT_BALANCE.toLocaleString("en-US")}`)
    assert.notInclude(readme, "balance 100,000")
  })

  it.scoped("--balance 6000: 100 messages accepted, then 103 InsufficientBalance, exit 3", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const simulator = spawn(["simulator", "--port", "0", "--balance", "6000"], {}, dir)
      yield* Effect.addFinalizer(() => Effect.sync(() => simulator.process.kill("SIGINT")))
      const banner = yield* Effect.promise(() =>
        new Promise<string>((resolve) => {
          let out = ""
          simulator.process.stdout!.on("data", (chunk: string) => {
            out += chunk
            if (out.includes("Press Ctrl-C")) resolve(out)
          })
        })
      )
      const env = Object.fromEntries([...banner.matchAll(/export (\w+)=(\S+)/g)].map((m) => [m[1], m[2]]))
      assert.include(banner, "Balance 6,000")
      const file = campaign(dir, 102)
      const result = yield* run(["zalo", "send-batch", "--no-check-image", file, "--rate", "200", "--json"], env, dir)
      assert.strictEqual(result.code, 3)
      assert.deepInclude(JSON.parse(result.stdout), { accepted: 100, rejected: { InsufficientBalance: 2 } })
    }))
})
