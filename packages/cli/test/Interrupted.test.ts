/**
 * The built `esms` stopped by Ctrl-C (SIGINT) or SIGTERM while it waits: against a loopback server that
 * never answers, it says what it was doing when it stopped (and with `--json` one object), and exits 130.
 * Needs the build first.
 */
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { envFor, spawn } from "./EsmsProcess.js"
import * as HostileServer from "./HostileServer.js"

// Takes every request and never answers.
let silent: HostileServer.Server
beforeAll(async () => {
  silent = await HostileServer.start(() => {})
})
afterAll(() => silent.close())

const dirs: Array<string> = []
afterAll(() => dirs.forEach((dir) => Fs.rmSync(dir, { recursive: true, force: true })))
const tempDir = () => {
  const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "esms-int-"))
  dirs.push(dir)
  return dir
}

const waitFor = async (condition: () => boolean, what: string, timeoutMillis = 20_000) => {
  const until = Date.now() + timeoutMillis
  while (!condition()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** Starts `esms …args` against the silent server, waits until it has sent `requests`, then signals it. */
const stopWhileWaiting = async (
  args: ReadonlyArray<string>,
  signal: NodeJS.Signals,
  requests: (seen: ReadonlyArray<HostileServer.Seen>) => boolean
) => {
  const dir = tempDir()
  const child = spawn(args, { ...envFor(silent.baseUrl), ESMS_STORE: Path.join(dir, "esms.sqlite") }, dir)
  await waitFor(() => requests(silent.seen), "the request at the silent server")
  // The request has arrived and waits for an answer that never comes.
  await new Promise((resolve) => setTimeout(resolve, 300))
  child.process.kill(signal)
  return { ...(await child.exited), dir }
}

const sendImage = (requestId: ReadonlyArray<string>, json: ReadonlyArray<string>) => [
  "zalo",
  "send-image",
  "--user-id",
  "5308693166941955879",
  "--text",
  "hi",
  "--image-url",
  "https://cdn.example.vn/p/photo.png",
  "--no-check-image",
  ...requestId,
  ...json
]

const sendsSeen = (before: number) => (seen: ReadonlyArray<HostileServer.Seen>) =>
  seen.slice(before).some((s) => s.method === "POST")

describe("esms interrupted while it waits", () => {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    it(
      `send-image stopped by ${signal} while the send hangs: one line, the RequestId to retry with, exit 130`,
      async () => {
        const stopped = await stopWhileWaiting(
          sendImage(["--request-id", "order-42"], []),
          signal,
          sendsSeen(silent.seen.length)
        )
        expect(stopped.code).toBe(130)
        expect(stopped.stdout).toBe("")
        const lines = stopped.stderr.trim().split("\n")
        expect(lines).toHaveLength(1)
        expect(lines[0]).toMatch(/interrupted/i)
        expect(lines[0]).toMatch(/eSMS may have/)
        expect(lines[0]).toContain("Safe to retry with --request-id order-42")
      },
      30_000
    )
  }

  it("send-image --json stopped by SIGINT: one JSON object with the generated RequestId, exit 130", async () => {
    const before = silent.seen.length
    const stopped = await stopWhileWaiting(sendImage([], ["--json"]), "SIGINT", sendsSeen(before))
    expect(stopped.code).toBe(130)
    const sent = silent.seen.slice(before).find((s) => s.method === "POST")!
    const requestId = JSON.parse(sent.body).RequestId
    expect(typeof requestId).toBe("string")
    const outcome = JSON.parse(stopped.stdout)
    expect(outcome).toMatchObject({ status: "interrupted", requestId, maybeSent: true })
    expect(outcome.message).toMatch(/eSMS may have/)
    expect(stopped.stdout.trim().split("\n")).toHaveLength(1)
  }, 30_000)

  it("send-batch stopped by SIGINT while it checks the photos: nothing sent, one JSON object, exit 130", async () => {
    const dir = tempDir()
    const file = Path.join(dir, "campaign.csv")
    // The photos are on the silent server: the checking pass waits for them.
    Fs.writeFileSync(
      file,
      "user_id,text,image_url\n" +
        [1, 2, 3].map((i) => `530869316694195587${i},hi ${i},${silent.baseUrl}/photo-${i}.png`).join("\n") + "\n"
    )
    for (const json of [true, false]) {
      const before = silent.seen.length
      const child = spawn(
        ["zalo", "send-batch", file, ...(json ? ["--json"] : [])],
        { ...envFor(silent.baseUrl), ESMS_STORE: Path.join(dir, "esms.sqlite") },
        dir
      )
      await waitFor(() => silent.seen.length > before, "the photo checks at the silent server")
      await new Promise((resolve) => setTimeout(resolve, 300))
      child.process.kill("SIGINT")
      const stopped = await child.exited
      expect(stopped.code).toBe(130)
      expect(silent.seen.slice(before).filter((s) => s.method === "POST")).toHaveLength(0)
      if (json) {
        expect(stopped.stdout.trim().split("\n")).toHaveLength(1)
        const summary = JSON.parse(stopped.stdout)
        expect(summary).toMatchObject({ status: "interrupted", processed: 0, exitCode: 130 })
        expect(summary.message).toMatch(/nothing was sent/)
      } else {
        expect(stopped.stderr).toMatch(/interrupted before anything was sent/i)
        expect(stopped.stderr).toMatch(/nothing was sent/)
      }
    }
  }, 60_000)
})
