/**
 * The CLI refuses, naming the flag or column, what would go out otherwise than it was checked or
 * should reach no recipient: a URL the URL parser would mend, control characters in ids, a
 * whitespace-only --request-id, a lone surrogate in a JSON Lines row. Nothing is sent.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { run } from "./CliRunner.js"
import { sendImage } from "./EsmsProcess.js"

const base = sendImage()

/** `args` with the value of `flag` replaced (or added). */
const withFlag = (flag: string, value: string) => {
  const i = base.indexOf(flag)
  return i === -1 ? [...base, flag, value] : base.map((a, j) => j === i + 1 ? value : a)
}

describe("send-image refuses what would not go out as checked", () => {
  const cases: ReadonlyArray<readonly [string, string, RegExp]> = [
    ["--callback-url", "https://hooks.example.vn/cb\n", /must not contain spaces, tabs, line breaks/],
    ["--callback-url", "https://hooks.example.vn/c\tb", /must not contain spaces, tabs, line breaks/],
    ["--image-url", "  https://cdn.example.vn/p/photo.png  ", /must not contain spaces, tabs, line breaks/],
    ["--image-url", "https:\\\\cdn.example.vn\\p\\photo.png", /backslashes/],
    ["--image-url", "https://user:pass@cdn.example.vn/p/photo.png", /user name or password/],
    ["--request-id", "   ", /must not be only spaces/],
    ["--request-id", "order-42\u0007", /control or invisible characters/],
    ["--user-id", "5308693166941955879\u200b", /control or invisible characters/],
    ["--text", "\u200b\u200d", /visible character/]
  ]
  for (const [flag, value, rule] of cases) {
    it.effect(`${flag} ${JSON.stringify(value)}: exit 2, the flag named, nothing sent`, () =>
      Effect.gen(function*() {
        const human = yield* run(withFlag(flag, value))
        assert.strictEqual(human.exitCode, 2)
        assert.strictEqual(human.requests.length, 0)
        const lines = human.stderr.join("\n").split("\n")
        assert.strictEqual(lines[0], "Invalid input — nothing was sent:")
        assert.match(lines[1], new RegExp(`^  ${flag} `))
        assert.match(lines[1], rule)
        const json = yield* run([...withFlag(flag, value), "--json"])
        assert.strictEqual(json.exitCode, 2)
        const outcome = JSON.parse(json.stdout[0])
        assert.strictEqual(outcome.errors[0].field, flag)
      }))
  }

  it.effect("ESMS_OAID with a control character: exit 2 naming it, nothing sent", () =>
    Effect.gen(function*() {
      const result = yield* run([...base, "--json"], {
        env: { ESMS_API_KEY: "AK-1", ESMS_SECRET_KEY: "SK-1", ESMS_OAID: "4097311281936189049\u0000" }
      })
      assert.strictEqual(result.exitCode, 2)
      assert.strictEqual(JSON.parse(result.stdout[0]).errors[0].field, "ESMS_OAID")
      assert.strictEqual(result.requests.length, 0)
    }))
})

describe("send-batch --dry-run", () => {
  it.effect("a JSON Lines row with a lone surrogate or a control character in user_id is a bad row", () =>
    Effect.acquireUseRelease(
      Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "esms-cli-checked-"))),
      (dir) =>
        Effect.gen(function*() {
          const file = Path.join(dir, "rows.jsonl")
          const photo = "https://cdn.example.vn/p/photo.png"
          Fs.writeFileSync(
            file,
            [
              JSON.stringify({ user_id: "5308693166941955001", text: "ok", image_url: photo }),
              // JSON escapes: the parser turns them into a lone surrogate and a NUL.
              `{"user_id":"5308693166941955002","text":"Xin ch\\ud83d","image_url":"${photo}"}`,
              `{"user_id":"5308693166941955003\\u0000","text":"ok","image_url":"${photo}"}`
            ].join("\n") + "\n"
          )
          const result = yield* run(["zalo", "send-batch", file, "--dry-run"])
          assert.strictEqual(result.exitCode, 2)
          assert.deepStrictEqual(result.stderr, [
            "line 2: text must not contain a lone surrogate (half of an emoji or other character)",
            "line 3: user_id must not contain control or invisible characters"
          ])
          assert.strictEqual(result.requests.length, 0)
        }),
      (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
    ))
})
