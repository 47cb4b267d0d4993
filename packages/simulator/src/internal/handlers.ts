/**
 * The simulator's HTTP handlers: the send endpoint (faults, checks, admission), `GetSendStatus`,
 * `GetBalance_json` and everything else (404). Each request is recorded, keys scrubbed.
 */
import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { SendRequest, ZaloMessage } from "@esms-effect/core"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as FiberSet from "effect/FiberSet"
import * as HashMap from "effect/HashMap"
import * as Option from "effect/Option"
import * as SubscriptionRef from "effect/SubscriptionRef"
import * as Fault from "../Fault.js"
import * as State from "./state.js"
import * as Wire from "./wire.js"

export interface Dependencies {
  readonly ref: SubscriptionRef.SubscriptionRef<State.State>
  readonly accounts: ReadonlyArray<Wire.KnownAccount>
  readonly limits: State.Limits
  readonly price: number
  readonly background: FiberSet.FiberSet
  /** Settles an accepted message and sends its callbacks (run in `background`). */
  readonly deliver: (smsId: string) => Effect.Effect<void>
}

export const make = ({ accounts, background, deliver, limits, price, ref }: Dependencies) => {
  const findAccount = (apiKey: string | undefined, secretKey: string | undefined) =>
    accounts.find((a) => a.apiKey === apiKey && a.secretKey === secretKey)

  // One debug line per request (the CLI can show them); the body and the keys are never logged.
  const record = (attempt: Omit<State.Attempt, "seq">) =>
    SubscriptionRef.update(ref, (state) => State.recordAttempt(state, attempt)).pipe(
      Effect.zipRight(
        Effect.logDebug(`${attempt.method} ${attempt.endpoint}`).pipe(Effect.annotateLogs({
          status: attempt.status === undefined ? "dropped" : String(attempt.status),
          code: attempt.codeResult ?? "",
          smsId: attempt.smsId ?? "",
          requestId: attempt.requestId ?? ""
        }))
      )
    )

  // --- the send endpoint ------------------------------------------------------------------------

  const process = (body: string, now: number): Effect.Effect<Wire.SendAnswer> =>
    Effect.gen(function*() {
      const parsed = Either.getOrUndefined(Wire.parseJson(body))
      const account = findAccount(Wire.field(parsed, "ApiKey"), Wire.field(parsed, "SecretKey"))
      if (account === undefined) return Wire.reject("101")
      const oaid = Wire.field(parsed, "OAID")
      const registration = account.oaids.find((o) => o.oaid === oaid)
      if (oaid === undefined || registration === undefined) return Wire.reject("204")
      if (!registration.active) return Wire.reject("799")
      const validated = yield* SendRequest.fromJson(body).pipe(
        Effect.flatMap(SendRequest.toMessage),
        Effect.mapError((error) =>
          `Payload is not as specified: ${ZaloMessage.formatFieldErrors(ZaloMessage.fieldErrors(error))}`
        ),
        Effect.either
      )
      if (Either.isLeft(validated)) return Wire.reject("210", validated.left)
      const m = validated.right
      const message: State.Message = {
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
      const admission = yield* SubscriptionRef.modify(ref, (state) => State.admit(state, message, limits))
      if (admission._tag === "Rejected") return Wire.reject(admission.code)
      yield* FiberSet.run(background, deliver(message.smsId))
      yield* Effect.logDebug("message accepted").pipe(
        Effect.annotateLogs({ smsId: message.smsId, requestId: message.requestId ?? "", userId: message.userId })
      )
      return { code: "100", smsId: message.smsId }
    })

  const handleSend = Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const now = yield* Clock.currentTimeMillis
    const body = yield* Effect.orElseSucceed(request.text, () => "")
    const parsed = Wire.parseJson(body)
    const fault = yield* SubscriptionRef.modify(ref, State.takeFault)
    const base = {
      ...Wire.requestRecord(request, now, "SendZaloFollowerMessage", { keepQuery: false }),
      body: Wire.scrubBody(body, Either.getOrUndefined(parsed), accounts),
      requestId: Wire.field(Either.getOrUndefined(parsed), "RequestId"),
      fault
    }
    const answer = (result: Wire.SendAnswer) =>
      record({ ...base, status: 200, codeResult: result.code, smsId: result.smsId }).pipe(
        Effect.as(Wire.json(Wire.sendAnswerBody(result)))
      )
    const processed = (yes: boolean) => yes ? process(body, now) : Effect.succeed(undefined)

    if (fault === undefined) {
      if (Either.isLeft(parsed)) {
        return yield* record({ ...base, status: 400, codeResult: undefined, smsId: undefined }).pipe(
          Effect.as(Wire.html(Wire.badRequestPage, 400))
        )
      }
      return yield* process(body, now).pipe(Effect.flatMap(answer))
    }
    yield* Effect.logDebug("fault", Fault.describe(fault))
    switch (fault._tag) {
      case "ResultCode": {
        const code = fault.code.trim()
        return yield* answer(
          code === "100" ? { code, smsId: Wire.newSmsId() } : { code, errorMessage: fault.errorMessage }
        )
      }
      case "Delay": {
        const response = yield* process(body, now).pipe(Effect.flatMap(answer))
        yield* Effect.sleep(Duration.millis(fault.millis))
        return response
      }
      case "HttpError": {
        const result = yield* processed(fault.processed)
        yield* record({ ...base, status: fault.status, codeResult: result?.code, smsId: result?.smsId })
        return HttpServerResponse.text(fault.body, { status: fault.status })
      }
      case "Html": {
        const result = yield* processed(fault.processed)
        yield* record({ ...base, status: fault.status, codeResult: result?.code, smsId: result?.smsId })
        return Wire.html(Fault.htmlPage(fault.status), fault.status)
      }
      case "Drop": {
        const result = yield* processed(fault.processed)
        yield* record({ ...base, status: undefined, codeResult: result?.code, smsId: result?.smsId })
        yield* Effect.sync(() => NodeHttpServerRequest.toIncomingMessage(request).socket.destroy())
        // The socket is gone: what follows is written nowhere.
        return HttpServerResponse.empty()
      }
    }
  })

  // --- status and balance -----------------------------------------------------------------------

  const handleStatus = Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const now = yield* Clock.currentTimeMillis
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
    const now = yield* Clock.currentTimeMillis
    const body = yield* Effect.orElseSucceed(request.text, () => "")
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
    const now = yield* Clock.currentTimeMillis
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
