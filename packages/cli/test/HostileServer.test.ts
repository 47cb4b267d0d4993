/**
 * The built `esms` as a process against a hostile "eSMS" on loopback (HostileServer.ts). Needs the
 * build (`pnpm build`) first.
 */
import { afterEach, assert, describe, it } from "@effect/vitest"
import * as HostileServer from "./HostileServer.js"

const KEYS = {
  ESMS_API_KEY: "AK-PROC-SECRET-5151",
  ESMS_SECRET_KEY: "SK-PROC-SECRET-6262",
  ESMS_OAID: "4097311281936189049"
}

const sendImage = [
  "zalo",
  "send-image",
  "--user-id",
  "5308693166941955879",
  "--text",
  "Xin chào",
  "--image-url",
  "https://cdn.example.vn/p/photo.png",
  "--request-id",
  "proc-1",
  "--json"
]

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
})
