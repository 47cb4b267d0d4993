/* global console, process */
/**
 * Writes each package's version, from its package.json, into the module that the code reads it from
 * (src/internal/version.ts): the User-Agent of the client, `esms --version`. Run by
 * `pnpm changeset:version` after `changeset version` bumps the package.json files (as Effect's own
 * scripts/version.mjs does); a test in each package checks the two agree.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath, URL } from "node:url"

const ROOT = fileURLToPath(new URL("..", import.meta.url))
const PACKAGES = ["packages/http-client", "packages/cli"]

for (const dir of PACKAGES) {
  const { version } = JSON.parse(readFileSync(join(ROOT, dir, "package.json"), "utf8"))
  const file = join(ROOT, dir, "src", "internal", "version.ts")
  const text = "// Written by scripts/version.mjs from package.json (`pnpm changeset:version`): do not edit.\n" +
    `export const moduleVersion = ${JSON.stringify(version)}\n`
  if (!existsSync(file) || readFileSync(file, "utf8") !== text) {
    writeFileSync(file, text)
    console.log(`${dir}: ${version}`)
  }
}
process.exitCode = 0
