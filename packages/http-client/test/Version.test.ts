import { assert, describe, it } from "@effect/vitest"
import * as Fs from "node:fs"
import * as EsmsClient from "../src/EsmsClient.js"

describe("the package version", () => {
  it("the User-Agent carries package.json's version (scripts/version.mjs keeps src/internal/version.ts right)", () => {
    const { version } = JSON.parse(Fs.readFileSync(new URL("../package.json", import.meta.url), "utf8"))
    assert.strictEqual(EsmsClient.VERSION, version)
    assert.strictEqual(EsmsClient.USER_AGENT, `@esms-effect/http-client/${version}`)
  })
})
