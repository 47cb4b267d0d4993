import { assert, describe, it } from "@effect/vitest"
import * as Fs from "node:fs"
import * as Cli from "../src/Cli.js"

describe("the package version", () => {
  it("esms --version is package.json's version (scripts/version.mjs keeps src/internal/version.ts right)", () => {
    const { version } = JSON.parse(Fs.readFileSync(new URL("../package.json", import.meta.url), "utf8"))
    assert.strictEqual(Cli.VERSION, version)
  })
})
