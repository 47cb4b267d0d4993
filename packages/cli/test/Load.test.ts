/**
 * bin/load.js: the V8 flags of a short run (`--no-opt`, for start-up) are not those of the commands
 * that run for minutes, and each has its own code cache, so neither makes V8 reject the other's.
 */
import { assert, describe, it } from "@effect/vitest"
import { execFileSync } from "node:child_process"
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
// @ts-expect-error: plain JavaScript, no declarations
import { isShortRun } from "../bin/load.js"

const BIN = join(import.meta.dirname, "..", "bin", "esms.js")

describe("bin/load.js", () => {
  it("send-batch and serve run without the start-up flags; help, send-image, status with them", () => {
    const run = (...args: Array<string>) => isShortRun(["node", "esms", ...args])
    assert.isFalse(run("zalo", "send-batch", "file.csv"))
    assert.isFalse(run("callbacks", "serve", "--port", "0"))
    assert.isFalse(run("simulator", "serve"))
    assert.isTrue(run("--help"))
    assert.isTrue(run("zalo", "send-image", "--user-id", "1"))
    assert.isTrue(run("status", "order-42"))
  })

  it("a long command's code cache is its own file: the short runs' cache stays accepted", () => {
    const cache = mkdtempSync(join(tmpdir(), "esms-load-"))
    try {
      // Where the bundle's directory is not writable the cache goes to XDG_CACHE_HOME; here it is, so
      // the first of each kind lands next to the bundle, under its own name.
      execFileSync(process.execPath, [BIN, "zalo", "send-batch", "--help"], {
        env: { ...process.env, XDG_CACHE_HOME: cache },
        stdio: "ignore"
      })
      const dist = join(import.meta.dirname, "..", "dist")
      assert.isTrue(existsSync(join(dist, "esms.cjs.long.cache")), readdirSync(dist).join(" "))
      const accepted = execFileSync(process.execPath, [
        "--input-type=module",
        "-e",
        `import { cacheAccepted } from ${JSON.stringify(join(import.meta.dirname, "..", "bin", "load.js"))}
         console.log(cacheAccepted())`
      ]).toString().trim()
      assert.strictEqual(accepted, "true", "the short runs' cache is still accepted")
    } finally {
      rmSync(cache, { recursive: true, force: true })
    }
  })
})
