/**
 * Runs the bundled CLI, dist/esms.cjs, from V8's code cache for it (dist/esms.cjs.cache, made by
 * bundle.mjs at build time). Compiling the 1 MB bundle was a third of the start-up, and Node 20 keeps
 * compiled code only for scripts run this way (not for ES modules, not through require). A missing
 * or stale cache (another Node version, other V8 flags) only means a normal compile.
 */
import { readFileSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { dirname } from "node:path"
import process from "node:process"
import { fileURLToPath, URL } from "node:url"
import { setFlagsFromString } from "node:v8"
import { Script } from "node:vm"

// undici parses HTTP with a WebAssembly module; V8 optimizes it on background threads, and the
// process waited ~150 ms at exit for that to finish: pointless for a CLI that sends one message.
// Set before compiling, so that the code cache is made and checked under the same V8 flags.
setFlagsFromString("--liftoff-only")

const BUNDLE = fileURLToPath(new URL("../dist/esms.cjs", import.meta.url))
const CACHE = `${BUNDLE}.cache`

/** Compiles the bundle (from the cache when it fits), then runs it as a CommonJS module. */
export const run = () => execute(compile(readCache()))

/** Runs the bundle and writes its code cache as the process exits, with what the run compiled. */
export const runAndSaveCache = () => {
  const script = compile(undefined)
  process.once("exit", () => writeFileSync(CACHE, script.createCachedData()))
  execute(script)
}

/** Whether the cache on disk is accepted by this Node. */
export const cacheAccepted = () => {
  const cachedData = readCache()
  return cachedData !== undefined && !compile(cachedData).cachedDataRejected
}

const readCache = () => {
  try {
    return readFileSync(CACHE)
  } catch {
    return undefined
  }
}

const compile = (cachedData) =>
  new Script(
    `(function (exports, require, module, __filename, __dirname) {${readFileSync(BUNDLE, "utf8")}\n})`,
    { filename: BUNDLE, cachedData }
  )

const execute = (script) => {
  const module = { exports: {} }
  script.runInThisContext()(module.exports, createRequire(BUNDLE), module, BUNDLE, dirname(BUNDLE))
}
