/** A fresh database of the run's PostgreSQL server for one test file, and the store's layer on it. */
import * as PgServer from "@esms-effect/pg-test"
import type {} from "@esms-effect/pg-test/globalSetup"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { inject } from "vitest"
import * as PgStore from "../src/PgStore.js"

export const freshUrl = (prefix: string): Effect.Effect<Redacted.Redacted<string>> =>
  Effect.map(Effect.promise(() => PgServer.createDatabase(inject("pgUrl"), prefix)), (url) => Redacted.make(url))

export const store = (url: Redacted.Redacted<string>) => PgStore.layer(url)
