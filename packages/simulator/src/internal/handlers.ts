/**
 * The simulator's HTTP handlers: the send endpoint (faults, checks, admission), `GetSendStatus`,
 * `GetBalance_json` and everything else (404). Each request is recorded, keys scrubbed.
 */
import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { SendRequest, ZaloMessage } from "@esms-effect/core"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as HashMap from "effect/HashMap"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as SubscriptionRef from "effect/SubscriptionRef"
import * as Fault from "../Fault.js"
import * as Arrival from "./arrival.js"
import * as Log from "./log.js"
import * as State from "./state.js"
import * as Wire from "./wire.js"

export interface Dependencies {
  readonly ref: SubscriptionRef.SubscriptionRef<State.State>
  readonly accounts: ReadonlyArray<Wire.KnownAccount>
  readonly limits: State.Limits
  readonly price: number
  /** Schedules the delivery result (and the callbacks) of an accepted message. */
  readonly deliver: (smsId: string) => Effect.Effect<void>
}

// Built once: `SendRequest.fromJson` builds its `parseJson` schema on every call (~0.4 ms a request).
const decodeSendRequest = Schema.decodeUnknownEither(SendRequest.SendRequest, {
  errors: "all",
  onExcessProperty: "ignore"
})

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

const WIRE_OPTIONALS = ["RequestId", "CallbackUrl", "SendDate"] as const

/**
 * The message fields of a body that has exactly the shape `SendRequest` decodes (strings and literals
 * where it wants them, one media element), read without the schema (~0.25 ms a request); `undefined`
 * for any other body, which then goes through the schema for its exact 210 message. The keys and
 * the OAID are strings already (they were matched).
 */
const wireMessage = (parsed: Record<string, unknown>): ZaloMessage.Input | undefined => {
  for (const name of WIRE_OPTIONALS) {
    if (Object.hasOwn(parsed, name) && typeof parsed[name] !== "string") return undefined
  }
  const payload = parsed.Payload
  if (!isObject(payload) || !isObject(payload.recipient) || !isObject(payload.message)) return undefined
  const { attachment, text } = payload.message
  const userId = payload.recipient.user_id
  if (typeof userId !== "string" || typeof text !== "string") return undefined
  if (!isObject(attachment) || attachment.type !== "template" || !isObject(attachment.payload)) return undefined
  const { elements, template_type } = attachment.payload
  if (template_type !== "media" || !Array.isArray(elements) || elements.length !== 1) return undefined
  const [element] = elements as ReadonlyArray<unknown>
  if (!isObject(element) || element.media_type !== "image" || typeof element.url !== "string") return undefined
  return {
    userId,
    text,
    imageUrl: element.url,
    ...(parsed.CallbackUrl === undefined ? {} : { callbackUrl: parsed.CallbackUrl as string }),
    ...(parsed.RequestId === undefined ? {} : { requestId: parsed.RequestId as string }),
    ...(parsed.SendDate === undefined ? {} : { sendDate: parsed.SendDate as string })
  }
}

/** What a send body asks for once its keys, OA and payload are checked (pure: no state read). */
type Decision =
  | { readonly _tag: "Reject"; readonly answer: Wire.SendAnswer }
  | { readonly _tag: "Admit"; readonly message: State.Message }

/** What the atomic step of a send decided: answered (and recorded), or a fault to play. */
type Step =
  | { readonly _tag: "Fault"; readonly fault: Fault.Fault }
  | {
    readonly _tag: "Answered"
    readonly attempt: Omit<State.Attempt, "seq">
    /** The accepted message, to deliver. */
    readonly message: State.Message | undefined
    /** `undefined`: the body was not JSON (400). */
    readonly answer: Wire.SendAnswer | undefined
  }

const payloadError = (detail: string): Decision => ({
  _tag: "Reject",
  answer: Wire.reject("210", `Payload is not as specified: ${detail}`)
})

export const make = ({ accounts, deliver, limits, price, ref }: Dependencies) => {
  const findAccount = (apiKey: string | undefined, secretKey: string | undefined) =>
    accounts.find((a) => a.apiKey === apiKey && a.secretKey === secretKey)

  // One debug line per request (the CLI can show them); the body and the keys are never logged.
  const logRecord = (attempt: Omit<State.Attempt, "seq">) =>
    Log.debug(`${attempt.method} ${attempt.endpoint}`, () => ({
      status: attempt.status === undefined ? "dropped" : String(attempt.status),
      code: attempt.codeResult ?? "",
      smsId: attempt.smsId ?? "",
      requestId: attempt.requestId ?? ""
    }))

  const record = (attempt: Omit<State.Attempt, "seq">) =>
    SubscriptionRef.update(ref, (state) => State.recordAttempt(state, attempt)).pipe(
      Effect.zipRight(logRecord(attempt))
    )

  // --- the send endpoint ------------------------------------------------------------------------

  /** The checks in eSMS's order: keys (101), OA (204, 799), then the payload (210). */
  const decide = (parsed: unknown, now: number): Decision => {
    const account = findAccount(Wire.field(parsed, "ApiKey"), Wire.field(parsed, "SecretKey"))
    if (account === undefined) return { _tag: "Reject", answer: Wire.reject("101") }
    const oaid = Wire.field(parsed, "OAID")
    const registration = account.oaids.find((o) => o.oaid === oaid)
    if (oaid === undefined || registration === undefined) return { _tag: "Reject", answer: Wire.reject("204") }
    if (!registration.active) return { _tag: "Reject", answer: Wire.reject("799") }
    let input = isObject(parsed) ? wireMessage(parsed) : undefined
    if (input === undefined) {
      const wire = decodeSendRequest(parsed)
      if (Either.isLeft(wire)) {
        return payloadError(ZaloMessage.formatFieldErrors(ZaloMessage.fieldErrors(wire.left)))
      }
      const request = wire.right
      input = SendRequest.toInput(request)
    }
    const validated = ZaloMessage.validateEither(input)
    if (Either.isLeft(validated)) return payloadError(ZaloMessage.formatFieldErrors(validated.left.errors))
    const m = validated.right
    return {
      _tag: "Admit",
      message: {
        smsId: Wire.newSmsId(),
        requestId: m.requestId,
        accountUserId: account.userId,
        oaid,
        userId: m.userId,
        text: m.text,
        imageUrl: m.imageUrl,
        callbackUrl: m.callbackUrl,
        sendDate: m.sendDate,
        price,
        acceptedAt: now,
        status: "Pending",
        zaloMessageId: undefined,
        zaloError: undefined
      }
    }
  }

  /** The admission of a decided request: the answer, the state after it, the message if accepted. */
  const admitDecision = (
    state: State.State,
    decision: Decision
  ): readonly [Wire.SendAnswer, State.State, State.Message | undefined] => {
    if (decision._tag === "Reject") return [decision.answer, state, undefined]
    const [admission, next] = State.admit(state, decision.message, limits)
    return admission._tag === "Rejected"
      ? [Wire.reject(admission.code), next, undefined]
      : [{ code: "100", smsId: admission.message.smsId }, next, admission.message]
  }

  const accepted = (message: State.Message | undefined) =>
    message === undefined ? Effect.void : Effect.zipRight(
      deliver(message.smsId),
      Log.debug("message accepted", () => ({
        smsId: message.smsId,
        requestId: message.requestId ?? "",
        userId: message.userId
      }))
    )

  /** Admits a request on its own (a fault that lets it through): one atomic step, then the delivery. */
  const process = (decision: Decision): Effect.Effect<Wire.SendAnswer> =>
    SubscriptionRef.modify(ref, (state) => {
      const [answer, next, message] = admitDecision(state, decision)
      return [[answer, message] as const, next]
    }).pipe(Effect.flatMap(([answer, message]) => Effect.as(accepted(message), answer)))

  const handleSend = Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const now = yield* Arrival.time(request)
    const body = yield* Wire.bodyText(request)
    const parsed = Wire.parseJson(body)
    const value = Either.getOrUndefined(parsed)
    const base = {
      ...Wire.requestRecord(request, now, "SendZaloFollowerMessage", { keepQuery: false }),
      body: Wire.scrubBody(body, value, accounts),
      requestId: Wire.field(value, "RequestId")
    }
    // A body that is not JSON is answered 400 unless a fault lets it through (then it is a 101).
    const decision = decide(value, now)
    // Without a queued fault (the usual case) the fault check, the admission and the record are one
    // atomic step: one state change per request instead of three.
    const step = yield* SubscriptionRef.modify(ref, (state): readonly [Step, State.State] => {
      const [fault, next] = State.takeFault(state)
      if (fault !== undefined) return [{ _tag: "Fault", fault }, next]
      if (Either.isLeft(parsed)) {
        const attempt = { ...base, fault, status: 400, codeResult: undefined, smsId: undefined }
        return [
          { _tag: "Answered", attempt, message: undefined, answer: undefined },
          State.recordAttempt(next, attempt)
        ]
      }
      const [answer, admitted, message] = admitDecision(next, decision)
      const attempt = { ...base, fault, status: 200, codeResult: answer.code, smsId: answer.smsId }
      return [{ _tag: "Answered", attempt, message, answer }, State.recordAttempt(admitted, attempt)]
    })
    if (step._tag === "Answered") {
      yield* accepted(step.message)
      yield* logRecord(step.attempt)
      return step.answer === undefined
        ? Wire.html(Wire.badRequestPage, 400)
        : Wire.json(Wire.sendAnswerBody(step.answer))
    }

    const fault = step.fault
    const faulted = { ...base, fault }
    const answer = (result: Wire.SendAnswer) =>
      record({ ...faulted, status: 200, codeResult: result.code, smsId: result.smsId }).pipe(
        Effect.as(Wire.json(Wire.sendAnswerBody(result)))
      )
    const processed = (yes: boolean) => yes ? process(decision) : Effect.succeed(undefined)
    yield* Effect.logDebug("fault", Fault.describe(fault))
    switch (fault._tag) {
      case "ResultCode": {
        const code = fault.code.trim()
        return yield* answer(
          code === "100" ? { code, smsId: Wire.newSmsId() } : { code, errorMessage: fault.errorMessage }
        )
      }
      case "Delay": {
        const response = yield* process(decision).pipe(Effect.flatMap(answer))
        yield* Effect.sleep(Duration.millis(fault.millis))
        return response
      }
      case "HttpError": {
        const result = yield* processed(fault.processed)
        yield* record({ ...faulted, status: fault.status, codeResult: result?.code, smsId: result?.smsId })
        return HttpServerResponse.text(fault.body, { status: fault.status })
      }
      case "Html": {
        const result = yield* processed(fault.processed)
        yield* record({ ...faulted, status: fault.status, codeResult: result?.code, smsId: result?.smsId })
        return Wire.html(Fault.htmlPage(fault.status), fault.status)
      }
      case "Drop": {
        const result = yield* processed(fault.processed)
        yield* record({ ...faulted, status: undefined, codeResult: result?.code, smsId: result?.smsId })
        yield* Effect.sync(() => NodeHttpServerRequest.toIncomingMessage(request).socket.destroy())
        // The socket is gone: what follows is written nowhere.
        return HttpServerResponse.empty()
      }
    }
  })

  // --- status and balance -----------------------------------------------------------------------

  const handleStatus = Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const now = yield* Arrival.time(request)
    const url = new URL(request.url, "http://simulator")
    const refId = url.searchParams.get("RefId") ?? ""
    const account = findAccount(
      url.searchParams.get("ApiKey") ?? undefined,
      url.searchParams.get("SecretKey") ?? undefined
    )
    const state = yield* SubscriptionRef.get(ref)
    const message = Option.getOrUndefined(HashMap.get(state.messages, refId))
    const code = account === undefined
      ? "101"
      : message === undefined || message.accountUserId !== account.userId
      ? "105"
      : "100"
    yield* record({
      ...Wire.requestRecord(request, now, "GetSendStatus", { keepQuery: true }),
      status: 200,
      codeResult: code,
      smsId: refId === "" ? undefined : refId
    })
    return Wire.json(
      code === "100" && message !== undefined
        ? { CodeResponse: code, SMSID: refId, ...Wire.statusView(message) }
        : { CodeResponse: code, SMSID: refId }
    )
  })

  const handleBalance = Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const now = yield* Arrival.time(request)
    const body = yield* Wire.bodyText(request)
    const parsed = Either.getOrUndefined(Wire.parseJson(body))
    const account = findAccount(Wire.field(parsed, "ApiKey"), Wire.field(parsed, "SecretKey"))
    const state = yield* SubscriptionRef.get(ref)
    const code = account === undefined ? "101" : "100"
    yield* record({
      ...Wire.requestRecord(request, now, "GetBalance", { keepQuery: false }),
      body: Wire.scrubBody(body, parsed, accounts),
      status: 200,
      codeResult: code,
      smsId: undefined
    })
    return Wire.json(
      account === undefined
        ? { Balance: 0, CodeResponse: code, ErrorMessage: Wire.errorMessageFor(code) }
        : {
          Balance: Option.getOrElse(HashMap.get(state.balances, account.userId), () => 0),
          CodeResponse: code,
          UserID: account.userId
        }
    )
  })

  const handleUnknown = Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const now = yield* Arrival.time(request)
    yield* record({
      ...Wire.requestRecord(request, now, "Unknown", { keepQuery: true }),
      status: 404,
      codeResult: undefined,
      smsId: undefined
    })
    return Wire.html(Wire.notFoundPage, 404)
  })

  return { handleSend, handleStatus, handleBalance, handleUnknown }
}
