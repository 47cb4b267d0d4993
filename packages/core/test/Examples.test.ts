/**
 * The `@example` blocks of the main entry points compile: each is type-checked with the TypeScript
 * compiler against the packages' sources, under the project's strict options. (We did not adopt
 * docgen; this is the part of it we need.)
 */
import { assert, describe, it } from "@effect/vitest"
import * as Fs from "node:fs"
import * as Path from "node:path"
import * as Url from "node:url"
import ts from "typescript"

const root = Path.resolve(Path.dirname(Url.fileURLToPath(import.meta.url)), "../../..")

/** The files whose examples are checked, with the packages their examples may import. */
const documented = [
  "packages/core/src/ZaloMessage.ts",
  "packages/core/src/ResultCode.ts",
  "packages/core/src/DeliveryReport.ts",
  "packages/http-client/src/EsmsClient.ts"
]

const packages: Record<string, string> = {
  "@esms-effect/core": "packages/core/src/index.ts",
  "@esms-effect/http-client": "packages/http-client/src/index.ts"
}

/** The ```ts blocks that follow an `@example` tag, without the comment's leading ` * `. */
const examplesOf = (source: string): ReadonlyArray<string> =>
  [...source.matchAll(/@example\s*\n((?:\s*\*.*\n)*?)\s*\*\s*```ts\n((?:\s*\*.*\n)*?)\s*\*\s*```/g)].map((m) =>
    m[2].split("\n").map((line) => line.replace(/^\s*\* ?/, "")).join("\n")
  )

const check = (examples: ReadonlyArray<{ readonly name: string; readonly code: string }>) => {
  const base = ts.readConfigFile(Path.join(root, "tsconfig.base.json"), ts.sys.readFile).config
  const { options } = ts.parseJsonConfigFileContent(
    {
      compilerOptions: {
        ...base.compilerOptions,
        composite: false,
        incremental: false,
        declaration: false,
        declarationMap: false,
        sourceMap: false,
        noEmit: true,
        noUnusedLocals: false,
        paths: Object.fromEntries(Object.entries(packages).map(([name, file]) => [name, [Path.join(root, file)]]))
      }
    },
    ts.sys,
    Path.join(root, "packages/core")
  )
  // Virtual files beside the tests, so `effect` resolves as it does for the package.
  const files = new Map(examples.map((e) => [Path.join(root, "packages/core/test", `${e.name}.example.ts`), e.code]))
  const host = ts.createCompilerHost(options)
  const readFile = host.readFile.bind(host)
  const fileExists = host.fileExists.bind(host)
  const getSourceFile = host.getSourceFile.bind(host)
  host.readFile = (file) => files.get(file) ?? readFile(file)
  host.fileExists = (file) => files.has(file) || fileExists(file)
  host.getSourceFile = (file, language, ...rest) =>
    files.has(file)
      ? ts.createSourceFile(file, files.get(file)!, language, true)
      : getSourceFile(file, language, ...rest)
  const program = ts.createProgram([...files.keys()], options, host)
  return ts.getPreEmitDiagnostics(program)
    .filter((d) => d.file !== undefined && files.has(d.file.fileName))
    .map((d) =>
      `${Path.basename(d.file!.fileName)}:${d.file!.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}: ${
        ts.flattenDiagnosticMessageText(d.messageText, "\n")
      }`
    )
}

describe("@example blocks", () => {
  it(
    "every main entry point has one, they type-check, and a broken one would be reported",
    { timeout: 120_000 },
    () => {
      const examples = documented.flatMap((file) => {
        const found = examplesOf(Fs.readFileSync(Path.join(root, file), "utf8"))
        assert.isAtLeast(found.length, 1, `${file} has an @example`)
        return found.map((code, i) => ({ name: `${Path.basename(file, ".ts")}-${i + 1}`, code }))
      })
      // One program for all (a compile is the slow part); the broken file shows the check can fail.
      const broken = {
        name: "broken",
        code: "import { ResultCode } from \"@esms-effect/core\"\nconst n: number = ResultCode.fromCode(\"103\")\n"
      }
      const errors = check([...examples, broken])
      assert.lengthOf(errors, 1, errors.join("\n"))
      assert.match(errors[0], /^broken\.example\.ts:2: Type .* is not assignable to type 'number'/)
    }
  )
})
