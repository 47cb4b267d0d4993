/**
 * Runs the bundled CLI, dist/esms.cjs, from V8's code cache for it. Compiling the 1 MB bundle was a
 * third of the start-up, and Node 20 keeps compiled code only for scripts run this way (not for ES
 * modules, not through require).
 *
 * The cache is made on the machine that runs esms, never shipped: V8's cache holds the path of the
 * script it was made for, and is valid only for the Node version and V8 flags that made it. The first
 * run compiles the bundle and writes the cache as it exits, next to the bundle when that directory is
 * writable (a checkout, a user's own global install), else in the user's cache directory
 * ($XDG_CACHE_HOME/esms-effect, ~/.cache/esms-effect, %LOCALAPPDATA%\esms-effect), for a read-only or
 * root-owned install. Where neither can be written, every run compiles the bundle: slower, nothing else.
 * A stale or damaged cache is rejected by V8 (it checks the source, the version and the flags) and
 * replaced.
 */
import { mkdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { homedir } from "node:os"
import { dirname, join } from "node:path"
import process from "node:process"
import { setTimeout } from "node:timers"
import { fileURLToPath, URL } from "node:url"
import { setFlagsFromString } from "node:v8"
import { Script } from "node:vm"

// V8 flags for a short run, set before compiling so that the code cache is made and checked under
// the same ones. Optimizing JavaScript with TurboFan competed with start-up for the CPU (`esms --help`
// took ~30 % longer with it); `run` turns it back on after half a second. undici parses HTTP with a
// WebAssembly module that V8 also optimized in the background, and the process waited ~150 ms at exit
// for that: it stays on V8's baseline compiler. Node calls flags set after start-up unpredictable; kept
// because `esms --help` is over 3× `node -e 0` without them (issue 14; 2 cores under load, medians of
// 15-21 runs, code cache warm): 2.8-3.6× wall (4 series of 5 over 3×) and 3.5× CPU without, 2.3-3.0×
// wall and 3.0× CPU with them.
//
// Not for the commands that run for minutes (a batch, a server): turned back on late, TurboFan took some
// 20 s to catch up, and a campaign worker spent up to 3× the CPU per send meanwhile (issue 15's bench:
// 3 workers reached 130/s with the flags, 157/s without, in the same hour). Their cache is a separate
// file, made under no flags.
const LONG_COMMANDS = new Set(["send-batch", "serve"])

/** Whether this run is a short command (help, one send, a status): the flags above are for it. */
export const isShortRun = (argv) => !argv.slice(2).some((arg) => LONG_COMMANDS.has(arg))

const SHORT = isShortRun(process.argv)
if (SHORT) setFlagsFromString("--no-opt --liftoff-only")
const OPTIMIZE_AFTER_MS = 500

const BUNDLE = fileURLToPath(new URL("../dist/esms.cjs", import.meta.url))

/** Where a cache for this bundle, on this Node, may be: next to it, then in the user's cache directory. */
const cachePaths = () => {
  const mode = SHORT ? "" : ".long"
  const paths = [`${BUNDLE}${mode}.cache`]
  const base = process.env.XDG_CACHE_HOME ||
    (process.platform === "win32" ? process.env.LOCALAPPDATA : undefined) ||
    safely(() => join(homedir(), ".cache"))
  const stat = safely(() => statSync(BUNDLE))
  if (base && stat) {
    const key = `${process.version}-${process.arch}-${stat.size}-${Math.trunc(stat.mtimeMs)}`
    paths.push(join(base, "esms-effect", `esms-${key}${mode}.cache`))
  }
  return paths
}

const safely = (f) => {
  try {
    return f()
  } catch {
    return undefined
  }
}

/** Compiles the bundle from the first cache V8 accepts, or without one (then saved at exit), and runs it. */
export const run = () => {
  const paths = cachePaths()
  let script
  for (const path of paths) {
    const cachedData = safely(() => readFileSync(path))
    if (cachedData === undefined) continue
    script = compile(cachedData)
    if (!script.cachedDataRejected) break
    script = undefined
  }
  if (script === undefined) {
    script = compile(undefined)
    saveAtExit(script, paths)
  }
  if (SHORT) setTimeout(() => setFlagsFromString("--opt"), OPTIMIZE_AFTER_MS).unref()
  execute(script)
}

/**
 * Runs the bundle and writes its code cache next to it as the process exits (bundle.mjs, at build
 * time: a check that the bundle runs, and a warm first start in a checkout).
 */
export const runAndSaveCache = () => {
  const script = compile(undefined)
  saveAtExit(script, [`${BUNDLE}.cache`])
  execute(script)
}

/** Whether the cache next to the bundle is accepted by this Node. */
export const cacheAccepted = () => {
  const cachedData = safely(() => readFileSync(`${BUNDLE}.cache`))
  return cachedData !== undefined && !compile(cachedData).cachedDataRejected
}

/** At exit, the cache (with what this run compiled) goes to the first of `paths` that can be written. */
const saveAtExit = (script, paths) =>
  process.once("exit", () => {
    const data = safely(() => script.createCachedData())
    if (data === undefined) return
    for (const path of paths) {
      // Written aside, then renamed: a run that starts meanwhile reads the old file or the new one.
      const partial = `${path}.${process.pid}.partial`
      const saved = safely(() => {
        mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
        writeFileSync(partial, data, { mode: 0o600 })
        renameSync(partial, path)
        return true
      })
      if (saved) return
      safely(() => unlinkSync(partial))
    }
  })

const compile = (cachedData) =>
  new Script(
    `(function (exports, require, module, __filename, __dirname) {${readFileSync(BUNDLE, "utf8")}\n})`,
    { filename: BUNDLE, cachedData }
  )

const execute = (script) => {
  const module = { exports: {} }
  script.runInThisContext()(module.exports, createRequire(BUNDLE), module, BUNDLE, dirname(BUNDLE))
}
