/**
 * The scripts `esms --completions bash|zsh` prints, made from the command tree. @effect/cli 0.77's own
 * lose the options of nested subcommands (bash offers only the built-ins after `esms zalo send-image`;
 * zsh takes every option for a flag, so nothing completes after `--user-id 53…`); fish's is kept.
 *
 * @since 0.1.0
 */
import type * as Command from "@effect/cli/Command"
import * as CommandTree from "./internal/commandTree.js"

/** @since 0.1.0 @category models */
export type Shell = "bash" | "zsh"

/**
 * The completion script for `shell`, for the application whose root command is `command`.
 *
 * @since 0.1.0
 * @category completions
 */
export const script = <Name extends string, R, E, A>(
  shell: Shell,
  command: Command.Command<Name, R, E, A>
): string => {
  const root = CommandTree.fromCommand(command)
  assertShellSafe(root)
  return shell === "bash" ? bash(root) : zsh(root)
}

interface Located {
  readonly path: ReadonlyArray<string>
  readonly node: CommandTree.CommandNode
}

const flatten = (node: CommandTree.CommandNode, parent: ReadonlyArray<string> = []): Array<Located> => {
  const path = [...parent, node.name]
  return [{ path, node }, ...node.children.flatMap((child) => flatten(child, path))]
}

// Names are written into the scripts unquoted (case patterns, word lists, function names).
const assertShellSafe = (root: CommandTree.CommandNode): void => {
  for (const { node } of flatten(root)) {
    for (const name of [node.name, ...node.options.flatMap((o) => o.names), ...choicesOf(node)]) {
      if (!/^-{0,2}[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) throw new Error(`cannot complete the name ${name}`)
    }
  }
}

const choicesOf = (node: CommandTree.CommandNode): Array<string> =>
  node.options.flatMap((o) => typeof o.value === "string" ? [] : o.value)

const names = (options: ReadonlyArray<CommandTree.OptionSpec>): string => options.flatMap((o) => o.names).join(" ")

const takingValue = (node: CommandTree.CommandNode) => node.options.filter((o) => o.value !== "none")

/**
 * bash: the words before the cursor are walked down the tree (a subcommand's name moves down, an
 * option's value is skipped), then the word under the cursor completes against the command reached:
 * an option's choices, its options, its subcommands, or file names (`-o default`) for a value or an
 * argument. Plain `case` statements: bash 3.2 (macOS) runs it too.
 */
const bash = (root: CommandTree.CommandNode): string => {
  const fn = `_${root.name}_bash_completions`
  const all = flatten(root)
  const key = (path: ReadonlyArray<string>) => path.join(" ")
  const specCases = all.flatMap(({ node, path }) => [
    `        "${key(path)}")`,
    `            opts="${names(node.options)}"`,
    `            valued=" ${names(takingValue(node))} "`,
    `            subcommands="${node.children.map((c) => c.name).join(" ")}"`,
    `            arguments=${node.takesArguments ? 1 : 0}`,
    "            ;;"
  ])
  const moveCases = all.flatMap(({ node, path }) =>
    node.children.map((child) => `            "${key(path)}:${child.name}") path="${key([...path, child.name])}" ;;`)
  )
  const choiceCases = all.flatMap(({ node, path }) =>
    node.options.flatMap(({ names, value }) =>
      typeof value === "string"
        ? []
        : names.map((name) => `        "${key(path)}:${name}") choices="${value.join(" ")}" ;;`)
    )
  )
  return [
    `# bash completion for ${root.name}: source <(${root.name} --completions bash)`,
    `__${root.name}_spec() {`,
    "    case \"$1\" in",
    ...specCases,
    "    esac",
    "}",
    `function ${fn}() {`,
    `    local cur word path="${root.name}" opts valued subcommands arguments choices="" i skip=0`,
    "    COMPREPLY=()",
    "    cur=\"${COMP_WORDS[COMP_CWORD]}\"",
    `    __${root.name}_spec "$path"`,
    "    for (( i = 1; i < COMP_CWORD; i++ )); do",
    "        word=\"${COMP_WORDS[i]}\"",
    "        if (( skip )); then skip=0; continue; fi",
    "        case \"$path:$word\" in",
    ...moveCases,
    "            *)",
    "                [[ \"$valued\" == *\" $word \"* ]] && skip=1",
    "                continue",
    "                ;;",
    "        esac",
    `        __${root.name}_spec "$path"`,
    "    done",
    "    if (( skip )); then",
    "        case \"$path:${COMP_WORDS[COMP_CWORD-1]}\" in",
    ...choiceCases,
    "        esac",
    "        [[ -n \"$choices\" ]] && COMPREPLY=( $(compgen -W \"$choices\" -- \"$cur\") )",
    "        return 0",
    "    fi",
    "    if [[ \"$cur\" == -* ]]; then",
    "        COMPREPLY=( $(compgen -W \"$opts\" -- \"$cur\") )",
    "    elif [[ -n \"$subcommands\" ]]; then",
    "        COMPREPLY=( $(compgen -W \"$subcommands\" -- \"$cur\") )",
    "    elif (( ! arguments )); then",
    "        COMPREPLY=( $(compgen -W \"$opts\" -- \"$cur\") )",
    "    fi",
    "    return 0",
    "}",
    `complete -F ${fn} -o bashdefault -o default ${root.name}`
  ].join("\n")
}

// Text inside a single-quoted _arguments spec or _describe entry.
const zshQuote = (text: string): string => text.replace(/'/g, "'\\''")
const zshDescription = (text: string): string => zshQuote(text.replace(/[\\[\]:]/g, "\\$&"))

const zshSpec = (option: CommandTree.OptionSpec): Array<string> => {
  const action = option.value === "none"
    ? ""
    : option.value === "any"
    ? `:${option.names.at(-1)!.replace(/^-+/, "")}:_files`
    : `:${option.names.at(-1)!.replace(/^-+/, "")}:(${option.value.join(" ")})`
  return option.names.map((name) => `'${name}[${zshDescription(option.description)}]${action}'`)
}

/**
 * zsh: one function per command, `_arguments` with its options (a value spec for those that take one)
 * and, for a command with subcommands, the canonical `->command` / `->args` states that hand the words
 * after the subcommand's name to its function.
 */
const zsh = (root: CommandTree.CommandNode): string => {
  const fnName = (path: ReadonlyArray<string>) => `_${path.join("__")}`
  const functions = flatten(root).flatMap(({ node, path }) => {
    const specs = node.options.flatMap(zshSpec)
    const head = [`${fnName(path)}() {`]
    if (node.children.length === 0) {
      return [
        ...head,
        "    _arguments -s -S \\",
        ...specs.map((spec) => `        ${spec} \\`),
        ...(node.takesArguments ? ["        '*:argument:_files' \\"] : []),
        "        && return 0",
        "    return 1",
        "}",
        ""
      ]
    }
    return [
      ...head,
      "    local curcontext=\"$curcontext\" state line",
      "    typeset -A opt_args",
      "    _arguments -s -S -C \\",
      ...specs.map((spec) => `        ${spec} \\`),
      "        ': :->command' \\",
      "        '*:: :->args' \\",
      "        && return 0",
      "    case $state in",
      "        command)",
      "            local -a subcommands",
      "            subcommands=(",
      ...node.children.map((child) => `                '${child.name}:${zshQuote(child.summary)}'`),
      "            )",
      `            _describe -t commands '${path.join(" ")} subcommand' subcommands && return 0`,
      "            ;;",
      "        args)",
      "            curcontext=\"${curcontext%:*:*}:" + path.join("-") + "-$line[1]:\"",
      "            case $line[1] in",
      ...node.children.map((child) => `                ${child.name}) ${fnName([...path, child.name])} && return 0 ;;`),
      "            esac",
      "            ;;",
      "    esac",
      "    return 1",
      "}",
      ""
    ]
  })
  return [
    `#compdef ${root.name}`,
    `# zsh completion for ${root.name}: source <(${root.name} --completions zsh), after compinit`,
    "",
    ...functions,
    `if [ "$funcstack[1]" = "${fnName([root.name])}" ]; then`,
    `    ${fnName([root.name])} "$@"`,
    "else",
    `    compdef ${fnName([root.name])} ${root.name}`,
    "fi"
  ].join("\n")
}
