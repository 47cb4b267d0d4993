/**
 * The `esms` command tree as plain data: each command's name, options (and whether they take a value)
 * and subcommands. @effect/cli keeps the tree to itself (its `getSubcommands` answers one level, its
 * completion scripts lose nested options): this reads its descriptor, whose shape is pinned with
 * @effect/cli 0.77 (Standard, Subcommands, Map), and everything else through its public Usage and
 * HelpDoc. The completion scripts are made from it; `unknownSubcommand` and `badBuiltInChoice` read the
 * same tree to name a usage error at the level it was made.
 */
import * as BuiltInOptions from "@effect/cli/BuiltInOptions"
import type * as Command from "@effect/cli/Command"
import type * as Descriptor from "@effect/cli/CommandDescriptor"
import * as HelpDoc from "@effect/cli/HelpDoc"
import type * as Span from "@effect/cli/HelpDoc/Span"
import * as Options from "@effect/cli/Options"
import * as Usage from "@effect/cli/Usage"
import * as Option from "effect/Option"

/** An option: its names, what it takes (nothing, any value, or one of some choices), its description. */
export interface OptionSpec {
  readonly names: ReadonlyArray<string>
  readonly value: "none" | "any" | ReadonlyArray<string>
  readonly description: string
}

export interface CommandNode {
  readonly name: string
  /** The description's first sentence. */
  readonly summary: string
  /** The command's own options and the built-in ones (`--help`, `--log-level`…), valid at every level. */
  readonly options: ReadonlyArray<OptionSpec>
  /** Whether it takes positional arguments (a FILE, an id). */
  readonly takesArguments: boolean
  readonly children: ReadonlyArray<CommandNode>
}

// The descriptor instructions of @effect/cli 0.77 (internal/commandDescriptor.ts), as far as read here.
type Instruction =
  | {
    readonly _tag: "Standard"
    readonly name: string
    readonly description: HelpDoc.HelpDoc
    readonly options: Options.Options<unknown>
    readonly args: { readonly _tag: string }
  }
  | { readonly _tag: "GetUserInput"; readonly name: string; readonly description: HelpDoc.HelpDoc }
  | { readonly _tag: "Map"; readonly command: Instruction }
  | { readonly _tag: "Subcommands"; readonly parent: Instruction; readonly children: ReadonlyArray<Instruction> }

// Built-ins whose value depends on the command (help, wizard) are only read for their names here.
const builtIns = (descriptor: Descriptor.Command<unknown>) =>
  BuiltInOptions.builtInOptions(descriptor, Usage.empty, HelpDoc.empty)

/** The tree of `command` (the root of a `Command.run` application). */
export const fromCommand = <Name extends string, R, E, A>(command: Command.Command<Name, R, E, A>): CommandNode => {
  const common = optionSpecs(builtIns(command.descriptor))
  const loop = (self: Instruction): CommandNode => {
    switch (self._tag) {
      case "Map":
        return loop(self.command)
      case "Subcommands": {
        const parent = loop(self.parent)
        return { ...parent, children: [...parent.children, ...self.children.map(loop)] }
      }
      case "GetUserInput":
        return {
          name: self.name,
          summary: summary(self.description),
          options: common,
          takesArguments: false,
          children: []
        }
      case "Standard":
        return {
          name: self.name,
          summary: summary(self.description),
          options: [...optionSpecs(self.options), ...common],
          takesArguments: self.args._tag !== "Empty",
          children: []
        }
    }
  }
  return loop(command.descriptor as unknown as Instruction)
}

/**
 * Where a command line names a subcommand that does not exist: the path of the command it was typed
 * under, the word, and that command's subcommands. Words are read as @effect/cli reads them: options
 * of a command (and the value of one that takes a value) may come before its subcommand. Reads only
 * the levels the words go through, names only: it runs before every command.
 */
export const unknownSubcommand = <Name extends string, R, E, A>(
  command: Command.Command<Name, R, E, A>,
  args: ReadonlyArray<string>
):
  | { readonly path: ReadonlyArray<string>; readonly word: string; readonly subcommands: ReadonlyArray<string> }
  | undefined =>
{
  let node = strip(command.descriptor as unknown as Instruction)
  const path = [nameOf(node)]
  let builtInValued: Set<string> | undefined
  for (let i = 0; i < args.length; i++) {
    if (node._tag !== "Subcommands") return undefined
    const word = args[i]
    if (word === "--") return undefined
    if (word.startsWith("-")) {
      const parent = strip(node.parent)
      builtInValued ??= valued(builtIns(command.descriptor))
      if (builtInValued.has(word) || (parent._tag === "Standard" && valued(parent.options).has(word))) i++
      continue
    }
    const children = node.children.map(strip)
    const child = children.find((c) => nameOf(c) === word)
    if (child === undefined) return { path, word, subcommands: children.map(nameOf) }
    node = child
    path.push(word)
  }
  return undefined
}

/**
 * A built-in option given a value that is not one of its choices (`--log-level loud`,
 * `--completions pwsh`): @effect/cli reports these as an invalid subcommand of the root.
 */
export const badBuiltInChoice = <Name extends string, R, E, A>(
  command: Command.Command<Name, R, E, A>,
  args: ReadonlyArray<string>
): { readonly option: string; readonly value: string; readonly choices: ReadonlyArray<string> } | undefined => {
  const given = args.flatMap((arg, i) => {
    const [name, inline] = arg.split(/=(.*)/s, 2)
    return name.startsWith("--") && (inline !== undefined || i + 1 < args.length)
      ? [{ option: name, value: inline ?? args[i + 1] }]
      : []
  })
  if (!given.some(({ option }) => option === "--log-level" || option === "--completions")) return undefined
  const choices = new Map(
    optionUsages(Options.getUsage(builtIns(command.descriptor))).flatMap((usage) =>
      Option.match(usage.acceptedValues, {
        onNone: () => [],
        onSome: (accepted) => usage.names.map((name) => [name, accepted.split(" | ")] as const)
      })
    )
  )
  for (const { option, value } of given) {
    const allowed = choices.get(option)
    if (allowed !== undefined && !allowed.includes(value)) return { option, value, choices: allowed }
  }
  return undefined
}

// The instruction under any `Map`s.
const strip = (self: Instruction): Instruction => self._tag === "Map" ? strip(self.command) : self

const nameOf = (self: Instruction): string => {
  const inner = strip(self)
  return inner._tag === "Subcommands" ? nameOf(inner.parent) : inner._tag === "Map" ? "" : inner.name
}

// The names of the options that take a value.
const valued = (options: Options.Options<unknown>): Set<string> =>
  new Set(optionUsages(Options.getUsage(options)).flatMap((u) => u.acceptedValues._tag === "Some" ? u.names : []))

const optionUsages = (usage: Usage.Usage): Array<Usage.Named> => {
  switch (usage._tag) {
    case "Named":
      return [usage]
    case "Optional":
    case "Repeated":
      return optionUsages(usage.usage)
    case "Concat":
    case "Alternation":
      return [...optionUsages(usage.left), ...optionUsages(usage.right)]
    case "Empty":
    case "Mixed":
      return []
  }
}

const optionSpecs = (options: Options.Options<unknown>): Array<OptionSpec> => {
  const descriptions = optionDescriptions(Options.getHelp(options))
  return optionUsages(Options.getUsage(options)).map((usage) => ({
    names: usage.names,
    value: Option.match(usage.acceptedValues, {
      onNone: () => "none" as const,
      // Choices come as "a | b | c", any other value as its placeholder ("text", "integer").
      onSome: (accepted) => accepted.includes(" | ") ? accepted.split(" | ") : "any" as const
    }),
    description: usage.names.map((name) => descriptions.get(name)).find((d) => d !== undefined) ?? ""
  }))
}

// Option name → the description given with `withDescription`: the second paragraph of its help entry
// (the first describes the value's type, a last one may say "This setting is optional.").
const optionDescriptions = (help: HelpDoc.HelpDoc): Map<string, string> => {
  const found = new Map<string, string>()
  const loop = (doc: HelpDoc.HelpDoc): void => {
    if (doc._tag === "Sequence") {
      loop(doc.left)
      loop(doc.right)
    } else if (doc._tag === "DescriptionList") {
      for (const [term, description] of doc.definitions) {
        const paragraphs = paragraphsOf(description)
        for (const name of spanText(term).split(/[\s,]+/).filter((word) => word.startsWith("-"))) {
          found.set(name, paragraphs[1] ?? "")
        }
      }
    }
  }
  loop(help)
  return found
}

const paragraphsOf = (doc: HelpDoc.HelpDoc): Array<string> => {
  switch (doc._tag) {
    case "Sequence":
      return [...paragraphsOf(doc.left), ...paragraphsOf(doc.right)]
    case "Paragraph":
    case "Header":
      return [spanText(doc.value)]
    default:
      return []
  }
}

const spanText = (span: Span.Span): string => {
  switch (span._tag) {
    case "Sequence":
      return spanText(span.left) + spanText(span.right)
    case "Text":
    case "URI":
      return span.value
    case "Highlight":
    case "Strong":
    case "Weak":
      return spanText(span.value)
  }
}

const summary = (doc: HelpDoc.HelpDoc): string => {
  const text = paragraphsOf(doc).join(" ")
  const end = text.search(/\.(\s|$)/)
  return end === -1 ? text : text.slice(0, end + 1)
}
