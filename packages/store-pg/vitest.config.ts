import { fileURLToPath } from "node:url"
import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // One real PostgreSQL server for the run (a fresh database per test file): see @esms-effect/pg-test.
    globalSetup: [fileURLToPath(import.meta.resolve("@esms-effect/pg-test/globalSetup"))],
    testTimeout: 30_000
  }
})
