/**
 * The built `esms` binary as a child process (bin/esms.js → dist/esms.cjs), with the simulator's test
 * account in its environment. Needs the build (`npx -y pnpm@10.34.9 --filter @esms-effect/cli build`).
 */
import { assert } from "@effect/vitest"
import { Simulator } from "@esms-effect/simulator"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"

const BIN = fileURLToPath(new URL("../bin/esms.js", import.meta.url))
const BUNDLE = fileURLToPath(new URL("../dist/esms.cjs", import.meta.url))

const account = Simulator.defaultAccount
const plain = (value: string | Redacted.Redacted<string>) => Redacted.isRedacted(value) ? Redacted.value(value) : value

/** The simulator's test account, as `esms` reads it. */
export const envFor = (baseUrl: string): Record<string, string> => ({
  ESMS_API_KEY: plain(account.apiKey),
  ESMS_SECRET_KEY: plain(account.secretKey),
  ESMS_OAID: account.oaids[0].oaid,
  ESMS_BASE_URL: baseUrl
})

export interface Exited {
  readonly code: number | null
  readonly signal: string | null
  readonly stdout: string
  readonly stderr: string
}

export interface Child {
  readonly process: ChildProcess.ChildProcess
  readonly exited: Promise<Exited>
  /** What it wrote on stderr so far. */
  readonly stderr: () => string
}

/** Starts `esms ...args` with `env` (plus PATH) and the working directory `cwd`. */
export const spawn = (
  args: ReadonlyArray<string>,
  env: Record<string, string>,
  cwd: string = Os.tmpdir()
): Child => {
  if (!Fs.existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run the build (npx -y pnpm@10.34.9 build) first`)
  const child = ChildProcess.spawn(process.execPath, [BIN, ...args], {
    env: { PATH: process.env.PATH ?? "", ...env },
    cwd,
    stdio: ["ignore", "pipe", "pipe"]
  })
  let stdout = ""
  let stderr = ""
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk))
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk))
  const exited = new Promise<Exited>((resolve) =>
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }))
  )
  return { process: child, exited, stderr: () => stderr }
}

/** Runs `esms ...args` to its end. */
export const run = (args: ReadonlyArray<string>, env: Record<string, string>, cwd?: string) =>
  Effect.promise(() => spawn(args, env, cwd).exited)

/** A temporary directory, removed with the scope. */
export const tempDir = Effect.acquireRelease(
  Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "esms-proc-"))),
  (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
)

/** `esms zalo send-image` of one photo to the test recipient, the flags a caller adds after it. */
export const sendImage = (imageUrl = "https://cdn.example.vn/p/photo.png"): Array<string> => [
  "zalo",
  "send-image",
  "--user-id",
  "5308693166941955879",
  "--text",
  "Xin chào",
  "--image-url",
  imageUrl
]

/** A campaign file of `rows` distinct recipients; `photo` may be the simulator's real image. */
export const campaign = (
  dir: string,
  rows: number,
  name = "campaign.csv",
  photo = "https://cdn.example.vn/p/photo.png",
  text = "Xin chào"
) => {
  const file = Path.join(dir, name)
  Fs.writeFileSync(
    file,
    [
      "user_id,text,image_url",
      ...Array.from(
        { length: rows },
        (_, i) => `53086931669419${String(i).padStart(5, "0")},"${text}, khách hàng ${i}",${photo}`
      )
    ].join("\n") + "\n"
  )
  return file
}

/** Every row accepted exactly once: as many messages as rows, each RequestId once. */
export const assertExactlyOnce = (simulator: Simulator.Service, rows: number) =>
  Effect.gen(function*() {
    const messages = yield* simulator.messages
    assert.strictEqual(messages.length, rows, "one message per row")
    assert.strictEqual(new Set(messages.map((m) => m.requestId)).size, rows, "no RequestId accepted twice")
    assert.strictEqual(new Set(messages.map((m) => m.userId)).size, rows, "no recipient got two")
  })
