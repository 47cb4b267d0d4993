/**
 * An option that overrides an `ESMS_*` variable is named as the operator typed it: the flag when the
 * value came from the flag, the variable when it came from the environment.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { ENV, run } from "./CliRunner.js"
import { sendImage } from "./EsmsProcess.js"

const send = sendImage()

const fieldsOf = (stdout: ReadonlyArray<string>): Array<string> =>
  JSON.parse(stdout[0]).errors.map((e: { field: string }) => e.field)

describe("a bad value is named by where it came from", () => {
  for (
    const [flag, value, variable] of [
      ["--timeout", "abc", "ESMS_TIMEOUT"],
      ["--deadline", "abc", "ESMS_DEADLINE"],
      ["--max-attempts", "0", "ESMS_MAX_ATTEMPTS"],
      ["--max-attempts", "abc", "ESMS_MAX_ATTEMPTS"],
      ["--max-attempts", "2.5", "ESMS_MAX_ATTEMPTS"],
      ["--base-url", "not a url", "ESMS_BASE_URL"],
      ["--oaid", "", "ESMS_OAID"]
    ] as const
  ) {
    it.effect(`${flag} ${JSON.stringify(value)} names ${flag}, not ${variable}`, () =>
      Effect.gen(function*() {
        const json = yield* run([...send, flag, value, "--json"])
        expect(json.exitCode).toBe(2)
        expect(json.requests).toEqual([])
        expect(fieldsOf(json.stdout)).toEqual([flag])

        const human = yield* run([...send, flag, value])
        expect(human.exitCode).toBe(2)
        expect(human.stderr.join("\n")).toContain(`  ${flag} `)
        expect(human.stderr.join("\n")).not.toContain(variable)
      }))

    it.effect(`${variable}=${JSON.stringify(value)} in the environment names ${variable}`, () =>
      Effect.gen(function*() {
        const result = yield* run([...send, "--json"], { env: { ...ENV, [variable]: value } })
        expect(result.exitCode).toBe(2)
        expect(fieldsOf(result.stdout)).toEqual([variable])
      }))
  }

  it.effect("esms status --timeout abc names --timeout", () =>
    Effect.gen(function*() {
      const result = yield* run([
        "status",
        "sms-1",
        "--store",
        "/nonexistent/esms.sqlite",
        "--timeout",
        "abc",
        "--json"
      ])
      expect(result.exitCode).toBe(2)
      expect(fieldsOf(result.stdout)).toEqual(["--timeout"])
    }))

  it.scoped("esms zalo send-batch --deadline abc names --deadline", () =>
    Effect.gen(function*() {
      const dir = yield* Effect.acquireRelease(
        Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "esms-overrides-"))),
        (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
      )
      const file = Path.join(dir, "campaign.csv")
      Fs.writeFileSync(
        file,
        "user_id,text,image_url\n5308693166941955879,Xin chào,https://cdn.example.vn/p/photo.png\n"
      )
      const result = yield* run(["zalo", "send-batch", file, "--deadline", "abc", "--json"])
      expect(result.exitCode).toBe(2)
      expect(fieldsOf(result.stdout)).toEqual(["--deadline"])
    }))
})
