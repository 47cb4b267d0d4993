/**
 * The built `esms` as a process against a hostile "eSMS" on loopback (HostileServer.ts). Needs the
 * build (`pnpm build`) first.
 */
import { afterEach, assert, describe, it } from "@effect/vitest"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as EsmsProcess from "./EsmsProcess.js"
import * as HostileServer from "./HostileServer.js"

const KEYS = {
  ESMS_API_KEY: "AK-PROC-SECRET-5151",
  ESMS_SECRET_KEY: "SK-PROC-SECRET-6262",
  ESMS_OAID: "4097311281936189049"
}

const sendImage = [...EsmsProcess.sendImage(), "--no-check-image", "--request-id", "proc-1", "--json"]

let server: HostileServer.Server | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

describe("a hostile eSMS, the esms process", () => {
  it("a 300 MB answer is cut at 1 MB: exit 4 ResponseTooLarge, not retried, memory stays low", async () => {
    server = await HostileServer.start(
      HostileServer.huge({ head: "{\"CodeResult\":\"100\",\"pad\":\"", total: 300 * 1024 * 1024, contentLength: false })
    )
    const exited = await HostileServer.esms(sendImage, {
      ...KEYS,
      ESMS_BASE_URL: server.baseUrl,
      ESMS_MAX_ATTEMPTS: "5"
    })
    console.log(
      `300 MB chunked answer: exit ${exited.code}, max RSS ${exited.maxRssMb} MB, ` +
        `server wrote ${Math.round(server.written() / 1024 / 1024)} MB`
    )
    assert.strictEqual(exited.code, 4, exited.stderr)
    const outcome = JSON.parse(exited.stdout)
    assert.strictEqual(outcome.tag, "ResponseTooLarge")
    assert.strictEqual(server.seen.length, 1, "an oversized answer is not retried")
    assert.isBelow(exited.maxRssMb, 200)
    assert.isBelow(server.written(), 64 * 1024 * 1024, "the rest of the answer was not read")
  }, 60_000)

  it("an answer announced as 300 MB (Content-Length) is refused at its first chunk", async () => {
    server = await HostileServer.start(
      HostileServer.huge({ head: "{\"CodeResult\":\"100\",\"pad\":\"", total: 300 * 1024 * 1024, contentLength: true })
    )
    const exited = await HostileServer.esms(sendImage, { ...KEYS, ESMS_BASE_URL: server.baseUrl })
    assert.strictEqual(exited.code, 4, exited.stderr)
    assert.strictEqual(JSON.parse(exited.stdout).tag, "ResponseTooLarge")
    assert.isBelow(exited.maxRssMb, 200)
  }, 60_000)

  it(
    "a key with the \\r of a CRLF .env file, a trailing space or only spaces: exit 2 naming the variable",
    async () => {
      server = await HostileServer.start((_, res) => res.end("{}"))
      for (
        const [name, value] of [
          ["ESMS_API_KEY", "AK-PROC-SECRET-5151\r"],
          ["ESMS_SECRET_KEY", "SK-PROC-SECRET-6262 "],
          ["ESMS_API_KEY", "   "],
          ["ESMS_OAID", "4097311281936189049\r"]
        ] as const
      ) {
        const env = { ...KEYS, ESMS_BASE_URL: server.baseUrl, [name]: value }
        const json = await HostileServer.esms(sendImage, env)
        assert.strictEqual(json.code, 2, json.stderr)
        const outcome = JSON.parse(json.stdout)
        assert.strictEqual(outcome.status, "invalid")
        assert.strictEqual(outcome.errors[0].field, name)
        assert.include(outcome.errors[0].message, "control characters")
        const human = await HostileServer.esms(sendImage.filter((a) => a !== "--json"), env)
        assert.strictEqual(human.code, 2)
        assert.match(human.stderr, new RegExp(`^Invalid input — nothing was sent:\\n  ${name} must not contain`))
        for (const output of [json.stdout, json.stderr, human.stdout, human.stderr]) {
          assert.notInclude(output, "PROC-SECRET")
          assert.notInclude(output, "    at ", "no stack trace")
        }
      }
      assert.strictEqual(server.seen.length, 0, "nothing sent")
    },
    60_000
  )

  it("keys echoed cut by a CRLF, as base64 (HTTP Basic too) and as hex: none reaches stdout or stderr", async () => {
    const { ESMS_API_KEY: apiKey, ESMS_SECRET_KEY: secretKey } = KEYS
    const spellings = [
      `${apiKey.slice(0, 6)}\r\n${apiKey.slice(6)}`,
      `${JSON.stringify(secretKey.slice(0, 4)).slice(1, -1)}\\n${secretKey.slice(4)}`,
      Buffer.from(`${apiKey}:${secretKey}`).toString("base64"),
      Buffer.from(secretKey).toString("base64url"),
      Buffer.from(apiKey).toString("hex"),
      Buffer.from(secretKey).toString("hex").toUpperCase()
    ]
    server = await HostileServer.start((_, res) => {
      res.writeHead(500, { "content-type": "text/plain" })
      res.end(`echo:\n${spellings.join("\n")}`)
    })
    for (const args of [sendImage, sendImage.filter((a) => a !== "--json")]) {
      const exited = await HostileServer.esms(args, { ...KEYS, ESMS_BASE_URL: server.baseUrl, ESMS_MAX_ATTEMPTS: "1" })
      assert.notStrictEqual(exited.code, 0, exited.stderr)
      const output = exited.stdout + exited.stderr
      assert.include(output, "<redacted>")
      for (const spelt of spellings) {
        assert.notInclude(output, spelt)
        assert.notInclude(output.replace(/\s|\\[rn]/g, ""), spelt.replace(/\s|\\[rn]/g, "").slice(0, 16))
      }
    }
  }, 60_000)

  it("esms status from another directory: an unknown id names the store it looked in", async () => {
    server = await HostileServer.start((_, res) => res.end(JSON.stringify({ CodeResponse: "105" })))
    const elsewhere = Fs.realpathSync(Fs.mkdtempSync(Path.join(Os.tmpdir(), "esms-elsewhere-")))
    try {
      const exited = await HostileServer.esms(
        ["status", "sms-unknown"],
        { ...KEYS, ESMS_BASE_URL: server.baseUrl },
        elsewhere
      )
      assert.strictEqual(exited.code, 3, exited.stderr)
      assert.include(exited.stderr, `(no store at ${Path.join(elsewhere, "esms.sqlite")})`)
      assert.isFalse(Fs.existsSync(Path.join(elsewhere, "esms.sqlite")), "no store created by a lookup")
      assert.deepStrictEqual(Fs.readdirSync(elsewhere), [], "no file at all (not even one named :memory:)")
    } finally {
      Fs.rmSync(elsewhere, { recursive: true, force: true })
    }
  }, 60_000)

  it("503 with Retry-After: 1, twice: each retry waits the second asked for, then accepted", async () => {
    server = await HostileServer.start((_, res) => {
      if (server!.seen.length <= 2) {
        res.writeHead(503, { "retry-after": "1", "content-type": "text/plain" })
        return void res.end("busy")
      }
      res.writeHead(200, { "content-type": "application/json" })
      res.end(JSON.stringify({ CodeResult: "100", SMSID: "sms-after-wait", CountRegenerate: 0 }))
    })
    const exited = await HostileServer.esms(sendImage, { ...KEYS, ESMS_BASE_URL: server.baseUrl })
    assert.strictEqual(exited.code, 0, exited.stderr)
    assert.strictEqual(JSON.parse(exited.stdout).smsId, "sms-after-wait")
    const at = server.seen.map((s) => s.at)
    const gaps = at.slice(1).map((t, i) => t - at[i])
    console.log(`Retry-After: 1 → gaps between attempts ${gaps.join(", ")} ms`)
    assert.strictEqual(at.length, 3)
    for (const gap of gaps) assert.isAtLeast(gap, 950)
  }, 60_000)
})
