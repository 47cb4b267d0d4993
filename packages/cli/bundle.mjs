/**
 * Bundles the `esms` executable into one ES module, dist/esms.js, that bin/esms.js runs.
 *
 * Importing effect, @effect/cli and @effect/platform-node as hundreds of separate files took about a
 * second before the first line of the CLI ran; one minified file parses and links in a fraction of
 * that. tsc still writes dist/*.js and the type declarations; this step reads dist/bin.js.
 */
import * as esbuild from "esbuild"

await esbuild.build({
  entryPoints: ["dist/bin.js"],
  outfile: "dist/esms.js",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  minify: true,
  sourcemap: "linked",
  sourcesContent: false,
  legalComments: "none",
  logLevel: "warning",
  // Bundled CommonJS dependencies (undici) call require() for Node's built-in modules: give them one.
  banner: {
    js: "import { createRequire as __esmsCreateRequire } from \"node:module\";" +
      "const require = __esmsCreateRequire(import.meta.url);"
  }
})
