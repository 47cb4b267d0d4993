/**
 * A misbehaving "eSMS" on loopback for the tests that run the built `esms` as a process: each test
 * says how to answer, the server records what it saw and how much of its answer it could write.
 */
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Http from "node:http"
import type * as Net from "node:net"
import * as Os from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"

export const BIN = fileURLToPath(new URL("../bin/esms.js", import.meta.url))
const BUNDLE = fileURLToPath(new URL("../dist/esms.cjs", import.meta.url))

export interface Seen {
  readonly method: string
  readonly url: string
  readonly body: string
  /** When the request had arrived (Date.now()). */
  readonly at: number
}

export interface Server {
  readonly baseUrl: string
  readonly seen: Array<Seen>
  /** Bytes of answer bodies written so far (until the client went away). */
  readonly written: () => number
  readonly close: () => Promise<void>
}

export type Handler = (
  seen: Seen,
  response: Http.ServerResponse,
  count: (bytes: number) => void
) => void

/** Starts the server on 127.0.0.1, a free port. */
export const start = (handler: Handler): Promise<Server> =>
  new Promise((resolve) => {
    const seen: Array<Seen> = []
    let written = 0
    const sockets = new Set<Net.Socket>()
    const server = Http.createServer((request, response) => {
      let body = ""
      request.setEncoding("utf8").on("data", (chunk: string) => (body += chunk)).on("end", () => {
        const entry = { method: request.method ?? "", url: request.url ?? "", body, at: Date.now() }
        seen.push(entry)
        handler(entry, response, (bytes) => (written += bytes))
      })
    })
    server.on("connection", (socket) => {
      sockets.add(socket)
      socket.on("close", () => sockets.delete(socket))
    })
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as Net.AddressInfo
      resolve({
        baseUrl: `http://127.0.0.1:${port}`,
        seen,
        written: () => written,
        close: () =>
          new Promise((done) => {
            for (const socket of sockets) socket.destroy()
            server.close(() => done())
          })
      })
    })
  })

/**
 * Streams `total` bytes of `fill` after `head`, as fast as the client reads them, with a
 * Content-Length or chunked; stops when the client goes away.
 */
export const huge = (
  options: { readonly head: string; readonly total: number; readonly contentLength: boolean }
): Handler =>
(_, response, count) => {
  response.writeHead(200, {
    "content-type": "application/json",
    ...(options.contentLength ? { "content-length": String(options.total) } : {})
  })
  const chunk = Buffer.alloc(64 * 1024, "a")
  let left = options.total
  const head = Buffer.from(options.head)
  response.write(head)
  count(head.length)
  left -= head.length
  const pump = () => {
    while (left > 0 && !response.destroyed) {
      const piece = left >= chunk.length ? chunk : chunk.subarray(0, left)
      left -= piece.length
      count(piece.length)
      if (!response.write(piece)) return void response.once("drain", pump)
    }
    if (!response.destroyed) response.end()
  }
  response.on("close", () => (left = 0))
  pump()
}

export interface Exited {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
  /** The child's peak resident set size, in MB (from process.resourceUsage at exit). */
  readonly maxRssMb: number
}

const RSS_PROBE = Path.join(Os.tmpdir(), "esms-rss-probe.cjs")

/**
 * Runs the built `esms` with `args` and `env` (nothing else of this process's environment but PATH)
 * and answers its exit, output and peak memory.
 */
export const esms = (args: ReadonlyArray<string>, env: Record<string, string>, cwd?: string): Promise<Exited> => {
  if (!Fs.existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run the build (npx -y pnpm@10.34.9 build) first`)
  const rssFile = Path.join(Fs.mkdtempSync(Path.join(Os.tmpdir(), "esms-rss-")), "rss")
  Fs.writeFileSync(
    RSS_PROBE,
    "process.on('exit', () => require('node:fs').writeFileSync(process.env.ESMS_TEST_RSS_FILE, " +
      "String(process.resourceUsage().maxRSS)))\n"
  )
  return new Promise((resolve) => {
    const child = ChildProcess.spawn(process.execPath, [BIN, ...args], {
      env: {
        PATH: process.env.PATH ?? "",
        NODE_OPTIONS: `--require ${RSS_PROBE}`,
        ESMS_TEST_RSS_FILE: rssFile,
        ...env
      },
      stdio: ["ignore", "pipe", "pipe"],
      ...(cwd === undefined ? {} : { cwd })
    })
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk))
    child.on("close", (code) => {
      const kb = Fs.existsSync(rssFile) ? Number(Fs.readFileSync(rssFile, "utf8")) : NaN
      Fs.rmSync(Path.dirname(rssFile), { recursive: true, force: true })
      resolve({ code, stdout, stderr, maxRssMb: Math.round(kb / 1024) })
    })
  })
}
