import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Net from "node:net"
import type {} from "@esms-effect/pg-test/globalSetup"
import { inject } from "vitest"
import * as PgStore from "../src/PgStore.js"
import { freshUrl } from "./Db.js"

const withPassword = (url: string, password: string) => {
  const u = new URL(url)
  u.password = password
  return u.toString()
}

/** Builds the store's layer and answers how it failed, as everything a user could see of it. */
const failure = (url: string) =>
  Effect.gen(function*() {
    const exit = yield* Effect.exit(Layer.build(PgStore.layer(Redacted.make(url), { connectTimeout: "3 seconds" })))
    assert.isTrue(Exit.isFailure(exit), "the store opened")
    const cause = (exit as Exit.Failure<unknown, PgStore.StoreUnavailable>).cause
    const error = Cause.squash(cause) as PgStore.StoreUnavailable
    return { error, seen: [Cause.pretty(cause), String(error), JSON.stringify(error), error.message].join("\n") }
  })

describe("PgStore", () => {
  it.scoped("migrates the schema once, whatever the number of processes starting together", () =>
    Effect.gen(function*() {
      const url = yield* freshUrl("pgstore")
      // Four pools at once, as four processes starting together.
      yield* Effect.all(Array.from({ length: 4 }, () => Layer.build(PgStore.layer(url))), { concurrency: "unbounded" })
      const sql = Context.get(yield* Layer.build(PgStore.layer(url)), SqlClient.SqlClient)
      const migrations = yield* sql<
        { migration_id: number; name: string }
      >`SELECT migration_id, name FROM esms_migrations ORDER BY migration_id`
      assert.deepStrictEqual(migrations, [{ migration_id: 1, name: "tables" }, {
        migration_id: 2,
        name: "sent_requests"
      }])
    }))

  it.scoped("a wrong password is refused with the URL masked: the password in no output", () =>
    Effect.gen(function*() {
      const url = yield* freshUrl("pgstore")
      const secret = "s3cr3t-Passw0rd-XYZ"
      const { error, seen } = yield* failure(withPassword(Redacted.value(url), secret))
      assert.strictEqual(error._tag, "StoreUnavailable")
      assert.match(error.message, /password authentication failed/)
      assert.include(error.url, ":***@127.0.0.1")
      assert.notInclude(seen, secret)
      // The real password is not said either.
      assert.notInclude(seen, new URL(inject("pgUrl")).password)
    }))

  it.scoped("no server on the port, or not a URL: StoreUnavailable, the password in no output", () =>
    Effect.gen(function*() {
      const port = yield* Effect.promise(() =>
        new Promise<number>((resolve) => {
          const s = Net.createServer().listen(0, "127.0.0.1", () => {
            const p = (s.address() as Net.AddressInfo).port
            s.close(() => resolve(p))
          })
        })
      )
      const secret = "pa%3Ass-w0rd!"
      const down = yield* failure(`postgres://esms:${secret}@127.0.0.1:${port}/esms`)
      assert.strictEqual(down.error._tag, "StoreUnavailable")
      assert.match(down.error.message, /ECONNREFUSED/)
      assert.notInclude(down.seen, secret)
      assert.notInclude(down.seen, decodeURIComponent(secret))
      const bad = yield* failure(`postgres://esms:${secret}@/`)
      assert.match(bad.error.message, /is not a PostgreSQL URL/)
      assert.notInclude(bad.seen, secret)
    }))

  it("isUrl tells a postgres:// URL from a SQLite file path", () => {
    assert.isTrue(PgStore.isUrl("postgres://u:p@h:5432/db"))
    assert.isTrue(PgStore.isUrl("postgresql://h/db"))
    assert.isFalse(PgStore.isUrl("esms.sqlite"))
    assert.isFalse(PgStore.isUrl("/var/lib/esms/postgres.sqlite"))
  })
})
