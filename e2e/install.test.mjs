/**
 * The packages as a user gets them, outside this workspace: every package packed as it would be
 * published, the libraries installed from the tarballs into a fresh app with plain npm (on an effect
 * patch other than the one the repository builds with), the README's Library example type-checked
 * there under `strict` and run against the simulator; the CLI tarball installed alone into an empty
 * prefix and run from another directory. Only third-party packages come from the registry.
 *
 * Run with `npx -y pnpm@<v> test:install` after a build; CI runs it.
 */
import assert from "node:assert/strict"
import { execFile, spawn } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { after, before, describe, it } from "node:test"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"

const ROOT = fileURLToPath(new URL("..", import.meta.url))
const PNPM_VERSION = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).packageManager.split("@")[1]
/** Not the effect the repository builds with (3.22.4): the lowest our peer ranges admit. */
const APP_EFFECT = "3.22.2"
const run = promisify(execFile)
const WORK = mkdtempSync(join(tmpdir(), "esms-install-"))
const TARBALLS = join(WORK, "tarballs")
const APP = join(WORK, "app")
const PREFIX = join(WORK, "prefix")
const ELSEWHERE = join(WORK, "elsewhere")
// A cache of registry tarballs and metadata kept between local runs (CI starts without one).
const NPM_ENV = {
  ...process.env,
  npm_config_cache: process.env.npm_config_cache ?? join(ROOT, "node_modules", ".cache", "e2e-npm"),
  npm_config_fund: "false",
  npm_config_audit: "false",
  npm_config_update_notifier: "false"
}
const children = []

const npm = (args, cwd, timeout = 600_000) => run("npm", args, { cwd, env: NPM_ENV, timeout, maxBuffer: 1 << 26 })

const tarball = (name) => {
  // The version follows the name: `esms-effect-store-0.1.0.tgz` is the store, `esms-effect-store-pg-…` is not.
  const file = readdirSync(TARBALLS).find((f) => new RegExp(`^esms-effect-${name}-\\d[^/]*\\.tgz$`).test(f))
  assert.ok(file, `a tarball for ${name}`)
  return join(TARBALLS, file)
}

/** Starts `esms ARGS` from the installed prefix and resolves with the child once `ready` matches its stdout. */
const startEsms = (args, ready, env = {}) =>
  new Promise((resolve, reject) => {
    const child = spawn(join(PREFIX, "bin", "esms"), args, {
      cwd: ELSEWHERE,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"]
    })
    children.push(child)
    let out = ""
    child.stdout.on("data", (chunk) => {
      out += chunk
      const match = out.match(ready)
      if (match) resolve({ child, out, match })
    })
    child.stderr.on("data", (chunk) => (out += chunk))
    child.on("exit", (code) => reject(new Error(`esms ${args.join(" ")} exited ${code}: ${out}`)))
  })

const simulatorEnv = (out) =>
  Object.fromEntries([...out.matchAll(/export (ESMS_\w+)=(\S+)/g)].map(([, name, value]) => [name, value]))

const tsBlocks = (text) => [...text.matchAll(/```ts\n([\s\S]*?)```/g)].map(([, code]) => code)

/** The TypeScript blocks of the README's "Library" section (the first one runs), then of the two libraries' READMEs. */
const libraryExamples = () => {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8")
  const start = readme.indexOf("\n## Library\n")
  const section = readme.slice(start, readme.indexOf("\n## ", start + 1))
  const own = (name) => readFileSync(join(ROOT, "packages", name, "README.md"), "utf8")
  return [...tsBlocks(section), ...tsBlocks(own("core")), ...tsBlocks(own("http-client"))]
}

before(async () => {
  mkdirSync(TARBALLS, { recursive: true })
  mkdirSync(ELSEWHERE, { recursive: true })
  await run("npx", ["-y", `pnpm@${PNPM_VERSION}`, "-r", "--filter", "./packages/*", "pack", "--pack-destination", TARBALLS], {
    cwd: ROOT,
    maxBuffer: 1 << 24
  })
})

after(() => {
  for (const child of children) child.kill("SIGKILL")
  if (!process.env.KEEP_E2E) rmSync(WORK, { recursive: true, force: true })
})

describe("the published packages, outside the workspace", { concurrency: true }, () => {
  it("the CLI tarball installs alone and runs every command from another directory", { timeout: 900_000 }, async (t) => {
    const started = Date.now()
    await npm(["install", "--global", "--prefix", PREFIX, tarball("cli")], WORK)
    t.diagnostic(`npm install -g of the CLI tarball: ${((Date.now() - started) / 1000).toFixed(1)} s`)
    const installed = join(PREFIX, "lib", "node_modules", "@esms-effect", "cli")
    const { stdout: tree } = await npm(["ls", "--all", "--parseable", "--global", "--prefix", PREFIX], WORK)
    t.diagnostic(`packages npm installed for the CLI: ${tree.trim().split("\n").length - 1}`)
    assert.ok(!tree.includes("@esms-effect/core"), "no sibling package is installed: the bundle holds them")
    assert.ok(!tree.includes("/effect"), "effect is bundled, not installed")
    // Nothing in the package names the machine it was built on.
    for (const file of ["dist/esms.cjs", "bin/load.js", "bin/esms.js"]) {
      assert.ok(!readFileSync(join(installed, file), "utf8").includes(ROOT), `${file} has no build path`)
    }
    assert.ok(!existsSync(join(installed, "dist", "esms.cjs.cache")), "no code cache is shipped")

    const esms = join(PREFIX, "bin", "esms")
    const version = await run(esms, ["--version"], { cwd: ELSEWHERE })
    assert.match(version.stdout, /^\d+\.\d+\.\d+/)
    assert.ok(existsSync(join(installed, "dist", "esms.cjs.cache")), "the first run made the code cache next to the bundle")

    if (process.getuid?.() === 0) {
      // Installed read-only for the user who runs it (root's global install, run by nobody): the cache
      // goes to that user's cache directory; with none writable, esms runs all the same.
      rmSync(join(installed, "dist", "esms.cjs.cache"))
      const home = join(WORK, "home")
      mkdirSync(home)
      await run("chown", ["nobody", home])
      await run("chmod", ["-R", "a+rX", WORK])
      const asNobody = (homeDir) =>
        run("runuser", ["-u", "nobody", "--", "env", `HOME=${homeDir}`, esms, "--version"], { cwd: "/" })
      assert.match((await asNobody(home)).stdout, /^\d+\.\d+\.\d+/)
      assert.equal(readdirSync(join(home, ".cache", "esms-effect")).filter((f) => f.endsWith(".cache")).length, 1)
      assert.ok(!existsSync(join(installed, "dist", "esms.cjs.cache")), "nothing written into the read-only install")
      assert.match((await asNobody("/nonexistent")).stdout, /^\d+\.\d+\.\d+/)
    }

    const simulator = await startEsms(["simulator", "--port", "0"], /Press Ctrl-C/)
    const env = { ...process.env, ...simulatorEnv(simulator.out) }

    // send-batch with a relative path, resolved against the caller's directory; its journal is SQLite.
    // The photo is the simulator's: the installed CLI checks it (a real fetch) before sending.
    const photo = simulator.out.match(/Photos to send[^:]*: (\S+?),/)[1]
    writeFileSync(
      join(ELSEWHERE, "campaign.csv"),
      "user_id,text,image_url\n" +
        `5308693166941955879,Chào Lan,${photo}\n` +
        `5308693166941955880,Chào Minh,${photo}\n`
    )
    const batch = await run(esms, ["zalo", "send-batch", "campaign.csv", "--json"], {
      cwd: ELSEWHERE,
      env
    }).catch((e) => e)
    assert.equal(batch.code ?? 0, 0, `send-batch: ${batch.stderr}`)
    assert.equal(JSON.parse(batch.stdout).accepted, 2)
    assert.ok(existsSync(join(ELSEWHERE, "campaign.csv.journal.sqlite")), "the journal is next to the file")

    // callbacks serve stores a report in SQLite; status reads it back.
    const serve = await startEsms(["callbacks", "serve", "--port", "0", "--store", "reports.sqlite"], /ESMS_CALLBACK_URL=(\S+)/)
    const callbackUrl = serve.match[1]
    const query = new URLSearchParams({ SMSID: "e2e-1", RequestId: "e2e-req", SendStatus: "5", TypeId: "2" })
    const answer = await fetch(`${callbackUrl}?${query}`)
    assert.equal(answer.status, 200)
    const status = await run(esms, ["status", "e2e-1", "--store", "reports.sqlite", "--json"], { cwd: ELSEWHERE, env })
    assert.equal(JSON.parse(status.stdout).smsId, "e2e-1")
  })

  it("the libraries install into an app on another effect patch, with one copy of effect", { timeout: 600_000 }, async (t) => {
    mkdirSync(APP, { recursive: true })
    writeFileSync(join(APP, "package.json"), JSON.stringify({ name: "outside-app", private: true, type: "module" }))
    const started = Date.now()
    await npm(
      ["install", `effect@${APP_EFFECT}`, "typescript@5.9.3", "@types/node@20", tarball("core"), tarball("http-client")],
      APP
    )
    t.diagnostic(`npm install of the two libraries: ${((Date.now() - started) / 1000).toFixed(1)} s`)
    const { stdout: tree } = await npm(["ls", "--all", "--parseable"], APP)
    const tooling = ["typescript", "@types/node", "undici-types"]
    const installedPackages = tree.trim().split("\n").slice(1).filter((path) => !tooling.some((name) => path.endsWith(`/node_modules/${name}`)))
    t.diagnostic(`packages npm installed for the two libraries and effect: ${installedPackages.length}`)
    const { stdout: effects } = await npm(["ls", "effect", "--all"], APP)
    t.diagnostic(`npm ls effect:\n${effects}`)
    assert.deepEqual([...new Set(effects.match(/effect@\d+\.\d+\.\d+/g))], [`effect@${APP_EFFECT}`])
    for (const unwanted of ["@effect/platform-node", "@effect/cluster", "@effect/rpc", "@effect/sql", "@effect/workflow"]) {
      assert.ok(!tree.includes(`${unwanted}\n`) && !tree.includes(`/node_modules/${unwanted}\n`), `${unwanted} is not installed`)
    }

    // internal/ modules are not part of the API.
    const internal = await run(process.execPath, ["-e", "import('@esms-effect/core/internal/x').catch(e => { console.log(e.code); })"], {
      cwd: APP
    })
    assert.match(internal.stdout, /ERR_PACKAGE_PATH_NOT_EXPORTED/)

    const examples = libraryExamples()
    assert.ok(examples.length >= 4, "the READMEs have their examples")
    examples.forEach((code, i) => writeFileSync(join(APP, `example${i}.ts`), code))
    writeFileSync(
      join(APP, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          exactOptionalPropertyTypes: true,
          module: "NodeNext",
          moduleResolution: "NodeNext",
          target: "ES2022",
          lib: ["ES2022", "DOM"],
          outDir: "out",
          skipLibCheck: false,
          types: ["node"]
        },
        include: ["example*.ts"]
      })
    )
    const tsc = await run(process.execPath, [join(APP, "node_modules", "typescript", "bin", "tsc"), "-p", "."], {
      cwd: APP
    }).catch((e) => e)
    assert.equal(tsc.code ?? 0, 0, `tsc on the README's Library examples:\n${tsc.stdout}${tsc.stderr}`)
  })

  it("the README's Library example runs against the simulator: accepted, then AuthorizeFailed", { timeout: 900_000 }, async () => {
    // Needs the two installs above (the CLI for its simulator, the app for the libraries).
    while (!existsSync(join(APP, "out", "example0.js")) || !existsSync(join(PREFIX, "bin", "esms"))) {
      await new Promise((resolve) => setTimeout(resolve, 500))
    }
    const simulator = await startEsms(["simulator", "--port", "0"], /Press Ctrl-C/)
    const env = { ...process.env, ...simulatorEnv(simulator.out) }
    const accepted = await run(process.execPath, ["out/example0.js"], { cwd: APP, env })
    assert.match(accepted.stdout + accepted.stderr, /accepted, SMSID \S+/)
    assert.doesNotMatch(accepted.stdout + accepted.stderr, /Executing an Effect versioned/)
    const refused = await run(process.execPath, ["out/example0.js"], { cwd: APP, env: { ...env, ESMS_API_KEY: "wrong" } })
    assert.match(refused.stdout + refused.stderr, /check ESMS_API_KEY \/ ESMS_SECRET_KEY/)
  })

  it("an app on effect 4 is refused at install", { timeout: 600_000 }, async () => {
    const app4 = join(WORK, "app4")
    mkdirSync(app4, { recursive: true })
    writeFileSync(join(app4, "package.json"), JSON.stringify({ name: "effect4-app", private: true, type: "module" }))
    const result = await npm(["install", "--dry-run", "effect@4", tarball("core"), tarball("http-client")], app4).catch((e) =>
      e
    )
    assert.notEqual(result.code ?? 0, 0, "npm refuses the install")
    assert.match(result.stderr, /ERESOLVE/)
  })
})
