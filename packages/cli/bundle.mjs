/* global console, process */
/**
 * Bundles the `esms` executable into one file, dist/esms.cjs, and makes V8's code cache for it
 * (dist/esms.cjs.cache); bin/esms.js runs the two through bin/load.js.
 *
 * Why: importing effect, @effect/cli and @effect/platform-node as hundreds of separate modules took
 * about a second before the CLI's first line; one minified file takes a fraction, and the code cache
 * removes most of what is left of compiling it. The bundle is CommonJS because Node 20 caches
 * compiled code only for classic scripts (vm.Script), not for ES modules.
 *
 * tsc still writes dist/*.js and the type declarations; this step reads dist/bin.js.
 */
import * as esbuild from "esbuild"
import { spawnSync } from "node:child_process"
import { existsSync, readFileSync } from "node:fs"
import { createRequire } from "node:module"
import { dirname, join } from "node:path"
import { fileURLToPath, URL } from "node:url"

const HERE = fileURLToPath(new URL(".", import.meta.url))
const OUTFILE = join(HERE, "dist", "esms.cjs")

/**
 * CommonJS packages that `esms --help` or an invalid message never use, yet cost start-up time when
 * evaluated: undici is half the bundle and its index loads every part of it (fetch, WebSocket, cache,
 * mocks…), ws (the simulator's server) loads tls, https and zlib, cli-progress (send-batch) loads
 * string-width and emoji-regex. Importers get a stand-in that lists the module's exports and loads
 * the real module at the first use of one.
 */
const LAZY = ["undici", "ws", "cli-progress"]

/** A stand-in for the CommonJS module `path` that loads it, through `load`, at the first use of an export. */
const lazyStandIn = (path, load) => {
  const exports = createRequire(path)(path)
  return `
    const names = new Set(${JSON.stringify(Object.keys(exports))})
    let real
    const load = () => real ??= ${load}
    module.exports = new Proxy(${typeof exports === "function" ? "function () {}" : "{}"}, {
      get: (_, key) => key === "__esModule" ? undefined : load()[key],
      has: (_, key) => names.has(key),
      ownKeys: (target) => [...names, ...Reflect.ownKeys(target).filter((key) => !names.has(key))],
      getOwnPropertyDescriptor: (target, key) =>
        names.has(key)
          ? { configurable: true, enumerable: true, get: () => load()[key] }
          : Reflect.getOwnPropertyDescriptor(target, key),
      apply: (_, self, args) => Reflect.apply(load(), self, args),
      construct: (_, args) => Reflect.construct(load(), args)
    })`
}

const lazyModules = {
  name: "lazy-modules",
  setup(build) {
    build.onResolve({ filter: new RegExp(`^(${LAZY.join("|")})$`) }, async (args) => {
      if (args.pluginData === "real") return undefined
      const real = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, pluginData: "real" })
      return { path: real.path, namespace: "lazy-module" }
    })
    build.onLoad({ filter: /.*/, namespace: "lazy-module" }, ({ path }) => ({
      resolveDir: ".",
      loader: "js",
      contents: lazyStandIn(path, `require(${JSON.stringify(path)})`)
    }))
  }
}

/** The directory of the package a resolved file belongs to. */
const packageRoot = (file) => {
  for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json"))) return dir
  }
  return undefined
}

const isNativeAddon = (root) => {
  if (existsSync(join(root, "binding.gyp"))) return true
  return JSON.parse(readFileSync(join(root, "package.json"), "utf8")).gypfile === true
}

/** The CLI's own package.json: what an install of it brings. */
const MANIFEST = JSON.parse(readFileSync(join(HERE, "package.json"), "utf8"))

/**
 * A package with a compiled addon (better-sqlite3, say) finds its `.node` file relative to its own
 * directory: it cannot live inside the bundle, and no path of the build machine may either. The
 * bundle requires it by name, resolved where the CLI is installed, when first used; such a package
 * must be one of the CLI's `dependencies` (the only ones it has), or the build fails.
 */
const nativeAddons = {
  name: "native-addons",
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (args.namespace === "native-addon") return { path: args.path, external: true }
      if (args.pluginData === "real" || args.path.startsWith("node:") || args.namespace !== "file") return undefined
      const real = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, pluginData: "real" })
      const root = real.errors.length === 0 && !real.external ? packageRoot(real.path) : undefined
      if (root === undefined || !isNativeAddon(root)) return undefined
      const name = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).name
      if (MANIFEST.dependencies?.[name] === undefined) {
        return { errors: [{ text: `${name} has a native addon: add it to packages/cli/package.json's dependencies` }] }
      }
      return { path: real.path, namespace: "native-addon", pluginData: args.path }
    })
    build.onLoad({ filter: /.*/, namespace: "native-addon" }, ({ path, pluginData }) => ({
      loader: "js",
      contents: lazyStandIn(path, `require(${JSON.stringify(pluginData)})`)
    }))
  }
}

if (process.argv[2] === "--save-code-cache") {
  // The child run below: esms --help, compiled without a cache, which it then writes.
  process.argv.splice(2, 1)
  const { runAndSaveCache } = await import("./bin/load.js")
  runAndSaveCache()
} else {
  await esbuild.build({
    absWorkingDir: HERE,
    entryPoints: ["dist/bin.js"],
    outfile: OUTFILE,
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node20",
    minify: true,
    sourcemap: "external",
    sourcesContent: false,
    legalComments: "none",
    logLevel: "warning",
    plugins: [lazyModules, nativeAddons]
  })
  const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), "--save-code-cache", "--help"], {
    stdio: ["ignore", "ignore", "inherit"]
  })
  if (child.status !== 0) {
    console.error(`bundle.mjs: the bundled \`esms --help\` failed (exit ${child.status})`)
    process.exit(1)
  }
  const { cacheAccepted } = await import("./bin/load.js")
  if (!cacheAccepted()) console.error("bundle.mjs: V8 rejected the code cache; esms will start slower")
}
