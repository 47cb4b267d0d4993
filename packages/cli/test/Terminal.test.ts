/**
 * What the terminal gets from the built `esms` (a real process, stdout and stderr pipes): colour only
 * where it belongs, `--version`, the unknown-subcommand line, and shell completion scripts that a real
 * bash runs. Needs the build (`pnpm build`) first.
 */
import { describe, expect, it } from "@effect/vitest"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"

const BIN = fileURLToPath(new URL("../bin/esms.js", import.meta.url))
const BUNDLE = fileURLToPath(new URL("../dist/esms.cjs", import.meta.url))
const ESC = "\u001b"

interface Ran {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Runs the built `esms` with only the environment given (and PATH), stdout and stderr piped. */
const esms = (args: ReadonlyArray<string>, env: Record<string, string> = {}): Ran => {
  if (!Fs.existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run the build (npx -y pnpm@10.34.9 build) first`)
  const result = ChildProcess.spawnSync(process.execPath, [BIN, ...args], {
    env: { PATH: process.env.PATH ?? "", ...env },
    encoding: "utf8",
    timeout: 20_000
  })
  return { code: result.status, stdout: result.stdout, stderr: result.stderr }
}

const hasScript = ChildProcess.spawnSync("script", ["--version"]).status === 0

/** Runs the built `esms` on a pseudo-terminal (util-linux `script`): what an operator's terminal gets. */
const onTerminal = (args: ReadonlyArray<string>, env: Record<string, string> = {}): string => {
  const command = [process.execPath, BIN, ...args].map((word) => `'${word.replace(/'/g, "'\\''")}'`).join(" ")
  const result = ChildProcess.spawnSync("script", ["-qec", command, "/dev/null"], {
    env: { PATH: process.env.PATH ?? "", TERM: "xterm", ...env },
    encoding: "utf8",
    timeout: 20_000
  })
  return result.stdout
}

const hasBash = ChildProcess.spawnSync("bash", ["--version"]).status === 0
const hasZsh = ChildProcess.spawnSync("zsh", ["--version"]).status === 0

describe("colour", () => {
  it("--help into a pipe has no escape codes", () => {
    const help = esms(["zalo", "send-image", "--help"])
    expect(help.code).toBe(0)
    expect(help.stdout).toContain("--image-url")
    expect(help.stdout).not.toContain(ESC)
  })

  it("FORCE_COLOR=1 keeps the colour in a pipe; NO_COLOR does not override it", () => {
    expect(esms(["--help"], { FORCE_COLOR: "1" }).stdout).toContain(`${ESC}[`)
    expect(esms(["--help"], { FORCE_COLOR: "1", NO_COLOR: "1" }).stdout).toContain(`${ESC}[`)
  })

  it.runIf(hasScript)("a terminal gets colour, unless NO_COLOR is set", () => {
    expect(onTerminal(["--help"])).toContain(`${ESC}[`)
    const plain = onTerminal(["--help"], { NO_COLOR: "1" })
    expect(plain).toContain("USAGE")
    expect(plain).not.toContain(ESC)
  })

  it("FORCE_COLOR=0 and NO_COLOR turn it off", () => {
    expect(esms(["--help"], { FORCE_COLOR: "0" }).stdout).not.toContain(ESC)
    expect(esms(["--help"], { NO_COLOR: "1" }).stdout).not.toContain(ESC)
  })
})

describe("esms --version", () => {
  it("prints the version and one newline, nothing else", () => {
    const version = esms(["--version"])
    expect(version.code).toBe(0)
    expect(version.stdout).toBe("0.1.0\n")
    expect(version.stderr).toBe("")
  })
})

describe("an unknown subcommand", () => {
  it("names the level it was typed at and that level's subcommands", () => {
    const nested = esms(["zalo", "nope"])
    expect(nested.code).toBe(2)
    expect(nested.stderr.trim()).toBe("Unknown subcommand 'nope' for esms zalo — use one of: send-image, send-batch")
    expect(nested.stdout).toBe("")

    const top = esms(["nope"])
    expect(top.code).toBe(2)
    expect(top.stderr.trim()).toBe(
      "Unknown subcommand 'nope' for esms — use one of: zalo, status, callbacks, simulator"
    )

    const callbacks = esms(["callbacks", "--log-level", "debug", "serv"])
    expect(callbacks.code).toBe(2)
    expect(callbacks.stderr.trim()).toBe("Unknown subcommand 'serv' for esms callbacks — use one of: serve")
  })

  it("a bad --log-level or --completions value is named as such, not as a subcommand", () => {
    const level = esms(["--log-level", "loud", "zalo", "send-image"])
    expect(level.code).toBe(2)
    expect(level.stderr.trim()).toBe(
      "--log-level must be one of: all, trace, debug, info, warning, error, fatal, none (got 'loud')"
    )
    const shell = esms(["--completions=pwsh"])
    expect(shell.code).toBe(2)
    expect(shell.stderr.trim()).toBe("--completions must be one of: sh, bash, fish, zsh (got 'pwsh')")
    expect(shell.stdout).toBe("")
  })

  it("--json: the same line in the one JSON object", () => {
    const json = esms(["zalo", "nope", "--json"])
    expect(json.code).toBe(2)
    expect(JSON.parse(json.stdout)).toEqual({
      status: "invalid",
      errors: [{
        field: "usage",
        message: "Unknown subcommand 'nope' for esms zalo — use one of: send-image, send-batch"
      }]
    })
  })
})

/**
 * What bash completes for the words typed (the last one is the word under the cursor; "" after a
 * space), with the script `esms --completions bash` printed, sourced as an operator would.
 */
const bashCompletes = (script: string, words: ReadonlyArray<string>): Array<string> => {
  const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "esms-completion-"))
  try {
    const file = Path.join(dir, "esms.bash")
    Fs.writeFileSync(file, script)
    const result = ChildProcess.spawnSync(
      "bash",
      [
        "--norc",
        "-c",
        `source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); ` +
        "COMP_LINE=\"${COMP_WORDS[*]}\"; COMP_POINT=${#COMP_LINE}; " +
        "_esms_bash_completions esms \"${COMP_WORDS[COMP_CWORD]}\" \"${COMP_WORDS[COMP_CWORD-1]}\"; " +
        "printf '%s\\n' \"${COMPREPLY[@]}\"",
        "bash",
        file,
        ...words
      ],
      { encoding: "utf8", cwd: dir }
    )
    expect(result.stderr).toBe("")
    return result.stdout.split("\n").filter((line) => line !== "")
  } finally {
    Fs.rmSync(dir, { recursive: true, force: true })
  }
}

describe.runIf(hasBash)("esms --completions bash, run by bash", () => {
  const script = esms(["--completions", "bash"]).stdout

  it("offers a nested subcommand's own options", () => {
    const offered = bashCompletes(script, ["esms", "zalo", "send-image", "--"])
    expect(offered).toEqual(expect.arrayContaining(["--user-id", "--text", "--image-url", "--json", "--help"]))
    expect(offered).not.toContain("--concurrency")
    expect(bashCompletes(script, ["esms", "zalo", "send-batch", "--"])).toEqual(
      expect.arrayContaining(["--concurrency", "--rate", "--journal", "--dry-run", "--report"])
    )
    expect(bashCompletes(script, ["esms", "callbacks", "serve", "--p"]).sort()).toEqual(["--port", "--public-url"])
  })

  it("after an option's value, still the options of that subcommand", () => {
    expect(bashCompletes(script, ["esms", "zalo", "send-image", "--user-id", "53", "--te"])).toEqual(["--text"])
    // A flag takes no value: the word after it is an option again.
    expect(bashCompletes(script, ["esms", "zalo", "send-image", "--json", "--ima"])).toEqual(["--image-url"])
    // --log-level before the subcommand takes its value, then the tree goes on.
    expect(bashCompletes(script, ["esms", "--log-level", "debug", "zalo", "send-image", "--us"])).toEqual(["--user-id"])
  })

  it("subcommands at each level, choices for a choice option", () => {
    expect(bashCompletes(script, ["esms", ""]).sort()).toEqual(["callbacks", "simulator", "status", "zalo"])
    expect(bashCompletes(script, ["esms", "zalo", ""]).sort()).toEqual(["send-batch", "send-image"])
    expect(bashCompletes(script, ["esms", "zalo", "send-image", "--log-level", "d"])).toEqual(["debug"])
    expect(bashCompletes(script, ["esms", "--completions", ""]).sort()).toEqual(["bash", "fish", "sh", "zsh"])
    // send-batch's FILE, or an option's free value: nothing from esms, so bash completes file names
    // (-o default); a command without arguments gets its options.
    expect(bashCompletes(script, ["esms", "zalo", "send-batch", ""])).toEqual([])
    expect(bashCompletes(script, ["esms", "zalo", "send-batch", "c.csv", "--report", ""])).toEqual([])
    expect(bashCompletes(script, ["esms", "zalo", "send-image", ""])).toContain("--user-id")
  })

  it("the sourced script registers the completion for esms", () => {
    const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "esms-completion-"))
    try {
      Fs.writeFileSync(Path.join(dir, "esms.bash"), script)
      const result = ChildProcess.spawnSync("bash", ["--norc", "-c", "source esms.bash && complete -p esms"], {
        encoding: "utf8",
        cwd: dir
      })
      expect(result.stderr).toBe("")
      expect(result.stdout).toContain("-F _esms_bash_completions")
    } finally {
      Fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})

/** The `_arguments` specs of the zsh function for one command path (`_esms__zalo__send-image`). */
const zshSpecs = (script: string, functionName: string): string => {
  const start = script.indexOf(`${functionName}() {`)
  expect(start).toBeGreaterThanOrEqual(0)
  return script.slice(start, script.indexOf("\n}\n", start))
}

describe("esms --completions zsh", () => {
  const script = esms(["--completions", "zsh"]).stdout

  it("a nested subcommand has its own options, those that take a value say so", () => {
    const sendImage = zshSpecs(script, "_esms__zalo__send-image")
    expect(sendImage).toMatch(/'--user-id\[The recipient.*\]:[^']+' \\/)
    expect(sendImage).toMatch(/'--json\[Print exactly one JSON object.*\]' \\/)
    expect(sendImage).toMatch(/'--log-level\[.*\]:[^:]*:\(all trace debug info warning error fatal none\)' \\/)
    const sendBatch = zshSpecs(script, "_esms__zalo__send-batch")
    expect(sendBatch).toContain("'--concurrency[")
    expect(sendBatch).not.toContain("'--user-id[")
    // FILE: the argument completes file names.
    expect(sendBatch).toContain(":_files")
  })

  it("each level lists its own subcommands", () => {
    expect(zshSpecs(script, "_esms__zalo")).toMatch(/'send-image:Send one Zalo message[^']*'/)
    expect(zshSpecs(script, "_esms")).toMatch(/'callbacks:[^']*'/)
    expect(script).toContain("compdef _esms esms")
  })

  it.runIf(hasZsh)("zsh reads the script without an error", () => {
    const result = ChildProcess.spawnSync("zsh", ["-n", "-c", script], { encoding: "utf8" })
    expect(result.status).toBe(0)
    expect(result.stderr).toBe("")
  })

  // Where zsh is installed (CI's image has none): an interactive zsh in a pseudo-terminal, TAB pressed.
  it.runIf(hasZsh)("zsh completes a nested subcommand's options, also after an option's value", () => {
    expect(zshCompletes(script, "esms zalo send-image --user-id 53 --t")).toEqual(["--text", "--timeout"])
    expect(zshCompletes(script, "esms zalo send-batch --r")).toEqual(["--rate", "--report", "--retry-failed"])
    expect(zshCompletes(script, "esms zalo ")).toEqual(["send-batch", "send-image"])
    expect(zshCompletes(script, "esms --log-level d")).toEqual(["debug"])
  })
})

// Runs zsh -i in zsh/zpty and types the line, then a key bound to a widget that completes (as TAB
// does) and prints a marker when completion is over; compadd is wrapped to print what it is given.
const ZSH_CAPTURE = String.raw`
zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z "PS1=''; autoload -U compinit && compinit -u -D"
zpty -w z "source $1"
zpty -w z 'compadd () {
  local -a __hits
  builtin compadd -O __hits "$@"
  local i; for i in $__hits; do print -r -- "<<$i>>"; done
  builtin compadd "$@"
}'
zpty -w z '__capture() { zle complete-word; print -r -- "__DO""NE__" }; zle -N __capture; bindkey "^T" __capture'
zpty -w z "print -r -- __READY__"
local line
while zpty -r z line; do [[ $line == *__READY__* && $line != *print* ]] && break; done
zpty -n -w z "$2"$'\C-t'
while zpty -r z line; do
  [[ $line =~ '<<(.*)>>' ]] && print -r -- "$match[1]"
  [[ $line == *__DONE__* ]] && break
done
zpty -d z
`

const zshCompletes = (script: string, line: string): Array<string> => {
  const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "esms-completion-"))
  try {
    Fs.writeFileSync(Path.join(dir, "_esms"), script)
    Fs.writeFileSync(Path.join(dir, "capture.zsh"), ZSH_CAPTURE)
    const result = ChildProcess.spawnSync("zsh", ["capture.zsh", Path.join(dir, "_esms"), line], {
      encoding: "utf8",
      cwd: dir,
      env: { PATH: process.env.PATH ?? "", HOME: dir },
      timeout: 20_000
    })
    return [...new Set(result.stdout.split(/\r?\n/).filter((word) => word !== ""))].sort()
  } finally {
    Fs.rmSync(dir, { recursive: true, force: true })
  }
}
