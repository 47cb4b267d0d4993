/**
 * The machinery of `DeliveryReport`'s query codec: the field schemas a callback's query is checked
 * with, the reading of its broken rules as `Problem`s, and the tolerant reading of `error_info`.
 */
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import * as SchemaAST from "effect/SchemaAST"

/** Longest SMSID accepted (the vendor's are 32 to 40 characters). */
export const MAX_SMSID_LENGTH = 128

type Query = Readonly<Record<string, string>>

export type Rule = "Required" | "WholeNumber" | "NonNegative" | "Number" | "TooLong" | "ControlCharacters"

export interface Problem {
  readonly field: string
  readonly rule: Rule
  readonly actual?: string | undefined
}

const ruleOf = (ast: SchemaAST.AST): Rule | undefined =>
  Option.getOrUndefined(SchemaAST.getIdentifierAnnotation(ast)) as Rule | undefined

const collect = (issue: ParseResult.ParseIssue, field: string, out: Array<Problem>): void => {
  switch (issue._tag) {
    case "Pointer":
      return collect(issue.issue, Array.isArray(issue.path) ? issue.path.join(".") : String(issue.path), out)
    case "Composite":
      for (const inner of Array.isArray(issue.issues) ? issue.issues : [issue.issues]) collect(inner, field, out)
      return
    case "Missing":
      return void out.push({ field, rule: "Required" })
    case "Refinement": {
      const rule = issue.kind === "Predicate" ? ruleOf(issue.ast) : undefined
      if (rule === undefined) return collect(issue.issue, field, out)
      return void out.push({ field, rule, actual: String(issue.actual) })
    }
    case "Transformation":
      return collect(issue.issue, field, out)
    default:
      return
  }
}

/** One `Problem` per broken field of a refused query, in the schema's order. */
export const problems = (issue: ParseResult.ParseIssue): ReadonlyArray<Problem> => {
  const out: Array<Problem> = []
  collect(issue, "", out)
  return out
}

// The field schemas of the query. A value is trimmed first; a blank one was dropped before (eSMS leaves
// fields empty rather than out). Each rule carries its name as `identifier`, read back by `problems`.
const rule = (name: Rule) => ({ identifier: name })

const WholeNumber = Schema.compose(
  Schema.Trim.pipe(Schema.pattern(/^-?\d{1,15}$/, rule("WholeNumber"))),
  Schema.NumberFromString
)
const Count = WholeNumber.pipe(Schema.nonNegative(rule("NonNegative")))
const Price = Schema.compose(
  Schema.Trim.pipe(Schema.pattern(/^-?\d{1,15}(\.\d{1,10})?$/, rule("Number"))),
  Schema.NumberFromString
)
const SmsId = Schema.Trim.pipe(
  Schema.maxLength(MAX_SMSID_LENGTH, rule("TooLong")),
  // eslint-disable-next-line no-control-regex
  Schema.pattern(/^[^\u0000-\u001f\u007f]*$/, rule("ControlCharacters"))
)
const optionalWith = <A>(schema: Schema.Schema<A, string>) => Schema.optionalWith(schema, { exact: true })

export const Fields = Schema.Struct({
  SMSID: SmsId,
  SendStatus: WholeNumber,
  SendSuccess: Schema.optionalWith(Count, { default: () => 0 }),
  SendFailed: Schema.optionalWith(Count, { default: () => 0 }),
  TotalReceiver: Schema.optionalWith(Count, { default: () => 0 }),
  TotalSent: Schema.optionalWith(Count, { default: () => 0 }),
  TotalPrice: Schema.optionalWith(Price, { default: () => 0 }),
  TypeId: optionalWith(WholeNumber),
  telcoid: optionalWith(WholeNumber),
  RequestId: optionalWith(Schema.Trim),
  phonenumber: optionalWith(Schema.Trim),
  partnerids: optionalWith(Schema.Trim),
  error_info: optionalWith(Schema.Trim),
  oaid: optionalWith(Schema.Trim),
  tempid: optionalWith(Schema.Trim)
})

export const decodeFields = ParseResult.decodeUnknown(Fields, { errors: "all", onExcessProperty: "ignore" })

export const withoutBlanks = (query: Query): Query =>
  Object.fromEntries(Object.entries(query).filter(([, value]) => value.trim() !== ""))

const tryDecode = (s: string): string | undefined => {
  try {
    return decodeURIComponent(s)
  } catch {
    return undefined
  }
}

const tryJson = (s: string): unknown => {
  try {
    return JSON.parse(s)
  } catch {
    return undefined
  }
}

/** Zalo's `{error, message, data}`, before it becomes a `ZaloResult`. */
export interface ZaloFields {
  readonly error: number
  readonly message: string
  readonly data?: Record<string, unknown>
}

const asZaloResult = (u: unknown): ZaloFields | undefined => {
  if (typeof u !== "object" || u === null || Array.isArray(u)) return undefined
  const { data, error, message } = u as Record<string, unknown>
  const code = typeof error === "number"
    ? error
    : typeof error === "string" && error.trim() !== ""
    ? Number(error)
    : NaN
  if (!Number.isFinite(code)) return undefined
  return {
    error: code,
    message: typeof message === "string" ? message : "",
    ...(typeof data === "object" && data !== null && !Array.isArray(data)
      ? { data: data as Record<string, unknown> }
      : {})
  }
}

const TIME_SUFFIX = /____(\d{2}\/\d{2}\/\d{4} \d{2}:\d{2}:\d{2})\s*$/

/**
 * Zalo's result in an `error_info` value as a query parser hands it over (decoded once): plain JSON,
 * JSON still URL-encoded once more, a JSON string holding the JSON, each optionally followed by
 * `____dd/MM/yyyy HH:mm:ss` (answered as `time`).
 */
export const readErrorInfo = (
  value: string
): { readonly result: ZaloFields; readonly time: string | undefined } | undefined => {
  let current: string | undefined = value
  for (let round = 0; round < 4 && current !== undefined; round++) {
    const [json] = current.split("____", 1) as [string]
    const time = TIME_SUFFIX.exec(current)?.[1]
    let parsed = tryJson(json)
    if (typeof parsed === "string") parsed = tryJson(parsed)
    const result = asZaloResult(parsed)
    if (result !== undefined) return { result, time }
    const next = tryDecode(current)
    current = next === current ? undefined : next
  }
  return undefined
}
