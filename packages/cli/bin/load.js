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
import { setTimeout } from "node:timers"
import { fileURLToPath, URL } from "node:url"
import { setFlagsFromString } from "node:v8"
import { Script } from "node:vm"

// V8 flags for a short run, set before compiling so that the code cache is made and checked under
// the same ones. Optimizing JavaScript with TurboFan competed with start-up for the CPU (`esms --help`
// took ~30 % longer with it); `run` turns it back on after half a second, for long commands such as
// send-batch or serve. undici parses HTTP with a WebAssembly module that V8 also optimized in the
// background, and the process waited ~150 ms at exit for that: it stays on V8's baseline compiler.
setFlagsFromString("--no-opt --liftoff-only")
const OPTIMIZE_AFTER_MS = 500

const BUNDLE = fileURLToPath(new URL("../dist/esms.cjs", import.meta.url))
const CACHE = `${BUNDLE}.cache`

/** Compiles the bundle (from the cache when it fits), then runs it as a CommonJS module. */
export const run = () => {
  const script = compile(readCache())
  setTimeout(() => setFlagsFromString("--opt"), OPTIMIZE_AFTER_MS).unref()
  execute(script)
}

/**
 * Runs the bundle and writes its code cache as the process exits, with what the run compiled (and
 * under the flags set above: this run never turns TurboFan back on).
 */
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
