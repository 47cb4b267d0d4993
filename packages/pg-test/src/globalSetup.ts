/**
 * A vitest `globalSetup`: one PostgreSQL server for the test run, its admin URL provided as `pgUrl`
 * (`inject("pgUrl")` in a test file), stopped when the run ends.
 */
import type {} from "vitest"
import * as PgServer from "./PgServer.js"

declare module "vitest" {
  export interface ProvidedContext {
    pgUrl: string
  }
}

export default async function setup(
  project: { provide: (key: "pgUrl", value: string) => void }
): Promise<() => Promise<void>> {
  const server = await PgServer.start()
  project.provide("pgUrl", server.url)
  return server.stop
}
