/**
 * A real PostgreSQL server for tests, never a mock: Debian's binaries (`initdb`, `pg_ctl`) on a
 * temporary directory and a free loopback port, password authentication (scram), run as the
 * `postgres` user when the tests run as root (`initdb` refuses root). It starts in about a second.
 *
 * Use it from a vitest `globalSetup` (`@esms-effect/pg-test/globalSetup` starts one per run and
 * provides its admin URL as `pgUrl`), then {@link createDatabase} once per test file.
 */
import { execFile } from "node:child_process"
import { randomBytes } from "node:crypto"
import * as Fs from "node:fs"
import * as Net from "node:net"
import * as Os from "node:os"
import * as Path from "node:path"
import * as process from "node:process"
import { promisify } from "node:util"

const run = promisify(execFile)

/** Where the server binaries are: `ESMS_PG_BIN`, else Debian's PostgreSQL 15, else Debian's newest. */
export const binDir = (): string => {
  if (process.env.ESMS_PG_BIN !== undefined) return process.env.ESMS_PG_BIN
  const debian = "/usr/lib/postgresql"
  if (Fs.existsSync(Path.join(debian, "15", "bin", "initdb"))) return Path.join(debian, "15", "bin")
  const versions = Fs.existsSync(debian)
    ? Fs.readdirSync(debian).filter((v) => Fs.existsSync(Path.join(debian, v, "bin", "initdb")))
      .sort((a, b) => Number(b) - Number(a))
    : []
  return Path.join(debian, versions[0] ?? "15", "bin")
}

export interface PgServer {
  /** The superuser's URL (`postgres://postgres:PASSWORD@127.0.0.1:PORT/postgres`). */
  readonly url: string
  readonly port: number
  readonly password: string
  /** Stops the server at once and deletes its directory. */
  readonly stop: () => Promise<void>
}

const isRoot = () => typeof process.getuid === "function" && process.getuid() === 0

const asPostgres = (command: string, args: ReadonlyArray<string>, env: NodeJS.ProcessEnv = {}) =>
  isRoot()
    ? run("runuser", ["-u", "postgres", "--", Path.join(binDir(), command), ...args], {
      env: { ...process.env, ...env }
    })
    : run(Path.join(binDir(), command), [...args], { env: { ...process.env, ...env } })

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = Net.createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      server.close(() => typeof address === "object" && address !== null ? resolve(address.port) : reject(address))
    })
  })

const ids = async () => {
  const uid = Number((await run("id", ["-u", "postgres"])).stdout.trim())
  const gid = Number((await run("id", ["-g", "postgres"])).stdout.trim())
  return { uid, gid }
}

/** Starts a server of its own (a new cluster) and waits until it takes connections. */
export const start = async (): Promise<PgServer> => {
  if (!Fs.existsSync(Path.join(binDir(), "initdb"))) {
    throw new Error(`PostgreSQL binaries not found in ${binDir()}: install Debian's postgresql package`)
  }
  const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "esms-pg-"))
  const password = randomBytes(12).toString("hex")
  const data = Path.join(dir, "data")
  Fs.writeFileSync(Path.join(dir, "pw"), password, { mode: 0o600 })
  if (isRoot()) {
    const { gid, uid } = await ids()
    Fs.chownSync(dir, uid, gid)
    Fs.chownSync(Path.join(dir, "pw"), uid, gid)
  }
  const remove = () => Fs.rmSync(dir, { recursive: true, force: true })
  try {
    await asPostgres("initdb", [
      "-D",
      data,
      "-U",
      "postgres",
      "--auth=scram-sha-256",
      `--pwfile=${Path.join(dir, "pw")}`,
      "-E",
      "UTF8",
      "--no-sync"
    ])
    // A free port may be taken between the check and the bind: try another.
    for (let attempt = 1;; attempt++) {
      const port = await freePort()
      try {
        await asPostgres("pg_ctl", [
          "-D",
          data,
          "-l",
          Path.join(dir, "server.log"),
          "-w",
          "-t",
          "30",
          "-o",
          `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off ` +
          "-c full_page_writes=off -c max_connections=200",
          "start"
        ])
      } catch (error) {
        if (attempt < 3) continue
        throw error
      }
      const stop = async () => {
        await asPostgres("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]).catch(() => undefined)
        remove()
      }
      return { url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`, port, password, stop }
    }
  } catch (error) {
    remove()
    throw error
  }
}

/**
 * Creates a new, empty database on the server of `adminUrl` and returns its URL (same user and
 * password): one per test file, so test files never see each other's rows.
 */
export const createDatabase = async (adminUrl: string, prefix = "test"): Promise<string> => {
  const url = new URL(adminUrl)
  const name = `${prefix.replace(/[^a-z0-9_]/gi, "_").toLowerCase()}_${randomBytes(4).toString("hex")}`
  await run(Path.join(binDir(), "createdb"), [
    "-h",
    url.hostname,
    "-p",
    url.port,
    "-U",
    decodeURIComponent(url.username),
    name
  ], { env: { ...process.env, PGPASSWORD: decodeURIComponent(url.password) } })
  url.pathname = `/${name}`
  return url.toString()
}
