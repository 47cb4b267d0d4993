/**
 * An eSMS-compatible HTTP server (API.md) for tests, demos and the `esms simulator` command: it
 * checks and takes Zalo photo messages, reports delivery to the `CallbackUrl` as eSMS does, answers
 * the status and balance endpoints, and injects faults on demand. State lives in memory and is
 * exposed so a test can assert what the server received.
 *
 * Keys are never logged: recorded request bodies show `<redacted>` in their place.
 *
 * @since 0.1.0
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import type * as HttpApp from "@effect/platform/HttpApp"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpRouter from "@effect/platform/HttpRouter"
import type * as HttpServer from "@effect/platform/HttpServer"
import type * as HttpServerError from "@effect/platform/HttpServerError"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Network, ResultCode, SendRequest, ZaloMessage } from "@esms-effect/core"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as FiberSet from "effect/FiberSet"
import * as HashMap from "effect/HashMap"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as SubscriptionRef from "effect/SubscriptionRef"
import * as Crypto from "node:crypto"
import * as Http from "node:http"
import * as DeliveryCallback from "./DeliveryCallback.js"
import * as Fault from "./Fault.js"
import * as Images from "./Images.js"
import * as State from "./internal/state.js"

/** Where eSMS's JSON endpoints live below the host. @since 0.1.0 */
export const PATH_PREFIX = "/MainService.svc/json"

/** The send endpoint (a request without the trailing slash is accepted too). @since 0.1.0 */
export const SEND_PATH = `${PATH_PREFIX}${SendRequest.PATH}` as const

/** @since 0.1.0 */
export const STATUS_PATH = `${PATH_PREFIX}/GetSendStatus`

/** @since 0.1.0 */
export const BALANCE_PATH = `${PATH_PREFIX}/GetBalance_json`

/**
 * A Zalo Official Account registered with an eSMS account.
 *
 * @since 0.1.0
 */
export interface OaRegistration {
  readonly oaid: string
  /** An inactive OA answers 799. */
  readonly active: boolean
}

/**
 * An eSMS account the simulator knows.
 *
 * @since 0.1.0
 */
export interface Account {
  readonly apiKey: string | Redacted.Redacted<string>
  readonly secretKey: string | Redacted.Redacted<string>
  /** eSMS's `UserID`, also how tests name the account (balances). */
  readonly userId: number
  /** Initial balance, in the same unit as `price`. */
  readonly balance: number
  readonly oaids: ReadonlyArray<OaRegistration>
}

/**
 * A Zalo error for a recipient who cannot receive (the `error` and `message` of `error_info`).
 *
 * @since 0.1.0
 */
export type ZaloError = State.ZaloError

/**
 * A test account with obviously fake keys: one active OA (`1000000000000000001`) and one inactive
 * (`1000000000000000799`, answers 799). Safe to print.
 *
 * @since 0.1.0
 */
export const defaultAccount: Account = {
  apiKey: "SIMULATOR-API-KEY",
  secretKey: "SIMULATOR-SECRET-KEY",
  userId: 9999,
  balance: 100_000,
  oaids: [{ oaid: "1000000000000000001", active: true }, { oaid: "1000000000000000799", active: false }]
}

/**
 * Recipients who always fail delivery with a Zalo error (the last digits are the error code).
 *
 * @since 0.1.0
 */
export const defaultFailingRecipients: Readonly<Record<string, ZaloError>> = {
  "9000000000000000213": { error: -213, message: "User has not followed the OA" },
  "9000000000000000114": {
    error: -114,
    message: "User is inactive, or reject the message, or using an outdated Zalo version, or other internal errors"
  },
  "9000000000000000230": { error: -230, message: "User has not interacted with the OA in the last 7 days" }
}

/**
 * @since 0.1.0
 */
export interface Options {
  /** Default `[defaultAccount]`. */
  readonly accounts?: ReadonlyArray<Account> | undefined
  /** What one accepted message costs. Default 60 (the vendor's sample TotalPrice). */
  readonly price?: number | undefined
  /** Send requests per second per account before 160. Default 50. */
  readonly tps?: number | undefined
  /** How long a RequestId blocks a repeat (124). Default 24 hours. */
  readonly dedupWindow?: Duration.DurationInput | undefined
  /** From acceptance to the delivery result and its callback. Default 50 millis. */
  readonly callbackDelay?: Duration.DurationInput | undefined
  /** How long a callback may take before it counts as timed out. Default 2 seconds. */
  readonly callbackTimeout?: Duration.DurationInput | undefined
  /** Retries after a timed-out callback (eSMS: 5). Default 5, so at most 6 attempts. */
  readonly callbackRetries?: number | undefined
  /** Recipient user id → the Zalo error its delivery fails with. Default {@link defaultFailingRecipients}. */
  readonly failingRecipients?: Readonly<Record<string, ZaloError>> | undefined
  /** How `error_info` is encoded in callbacks. Default `"encodedTwiceWithTime"` (TypeId 26 samples). */
  readonly errorInfoStyle?: DeliveryCallback.ErrorInfoStyle | undefined
  /** How long {@link Images.paths}`.slow` waits before answering. Default 30 seconds. */
  readonly slowImageDelay?: Duration.DurationInput | undefined
  /** Default `127.0.0.1`. */
  readonly host?: string | undefined
  /** Default 0: a free port. */
  readonly port?: number | undefined
}

/**
 * The defaults of {@link Options}.
 *
 * @since 0.1.0
 */
export const defaults = {
  price: 60,
  tps: 50,
  dedupWindow: Duration.hours(24),
  callbackDelay: Duration.millis(50),
  callbackTimeout: Duration.seconds(2),
  callbackRetries: 5,
  errorInfoStyle: "encodedTwiceWithTime" as DeliveryCallback.ErrorInfoStyle,
  host: "127.0.0.1",
  port: 0
} as const

/**
 * One HTTP request the server received, whatever became of it. `body` has the keys replaced by
 * `<redacted>`; `status` is `undefined` when the connection was dropped.
 *
 * @since 0.1.0
 */
export type Attempt = State.Attempt

/** Which endpoint a request was for. @since 0.1.0 */
export type Endpoint = State.Endpoint

/**
 * An accepted message. `status` is `Pending` until the delivery result (after `callbackDelay`).
 *
 * @since 0.1.0
 */
export type Message = State.Message

/** @since 0.1.0 */
export type MessageStatus = State.MessageStatus

/**
 * One try at calling a `CallbackUrl`: `attempt` counts from 1; `url` is the full URL called.
 *
 * @since 0.1.0
 */
export type CallbackAttempt = State.CallbackAttempt

/** @since 0.1.0 */
export type CallbackOutcome = State.CallbackOutcome

/** A queued fault and how many more send requests it applies to. @since 0.1.0 */
export type PendingFault = State.PendingFault

/**
 * Everything the simulator holds, at one instant.
 *
 * @since 0.1.0
 */
export interface Snapshot {
  readonly attempts: ReadonlyArray<Attempt>
  /** In the order accepted. */
  readonly messages: ReadonlyArray<Message>
  readonly callbacks: ReadonlyArray<CallbackAttempt>
  readonly balances: ReadonlyArray<{ readonly userId: number; readonly balance: number }>
  readonly faults: ReadonlyArray<PendingFault>
}

/**
 * @since 0.1.0
 */
export interface Service {
  /** `http://127.0.0.1:PORT/MainService.svc/json`: give it to a client as its base URL. */
  readonly baseUrl: string
  /** `http://127.0.0.1:PORT/images`: where the photos of {@link Images.paths} are served. */
  readonly imagesUrl: string
  /** The full URL of one of the served photos (`imageUrl("jpeg")`). */
  readonly imageUrl: (name: Images.Name) => string
  /** Every request for a photo, in order of arrival. */
  readonly imageRequests: Effect.Effect<ReadonlyArray<Images.ImageRequest>>
  /** The port listened on (0 when the routes are mounted elsewhere). */
  readonly port: number
  /** The routes, to serve or mount elsewhere. */
  readonly router: HttpRouter.HttpRouter
  readonly snapshot: Effect.Effect<Snapshot>
  /** The current snapshot, then one per change. */
  readonly changes: Stream.Stream<Snapshot>
  /** Waits until the state satisfies `predicate`; answers that state. */
  readonly waitUntil: (predicate: (snapshot: Snapshot) => boolean) => Effect.Effect<Snapshot>
  readonly attempts: Effect.Effect<ReadonlyArray<Attempt>>
  readonly messages: Effect.Effect<ReadonlyArray<Message>>
  readonly message: (smsId: string) => Effect.Effect<Option.Option<Message>>
  /** How many times a RequestId was accepted (over all accounts): a correct client makes this at most 1. */
  readonly acceptedCount: (requestId: string) => Effect.Effect<number>
  readonly callbacks: Effect.Effect<ReadonlyArray<CallbackAttempt>>
  /** Waits until at least `count` callback attempts were recorded; answers all of them. */
  readonly awaitCallbacks: (count: number) => Effect.Effect<ReadonlyArray<CallbackAttempt>>
  readonly balance: (userId: number) => Effect.Effect<Option.Option<number>>
  readonly setBalance: (userId: number, balance: number) => Effect.Effect<void>
  /** Queues a fault for the next `times` (default 1) send requests, after those already queued. */
  readonly injectFault: (fault: Fault.Fault, times?: number) => Effect.Effect<void>
  readonly faults: Effect.Effect<ReadonlyArray<PendingFault>>
  readonly clearFaults: Effect.Effect<void>
  /** Forgets every request, message, callback and fault; restores the initial balances. */
  readonly reset: Effect.Effect<void>
}

/**
 * @since 0.1.0
 */
export class Simulator extends Context.Tag("@esms-effect/simulator/Simulator")<Simulator, Service>() {}

interface Settings {
  readonly price: number
  readonly tps: number
  readonly dedupWindowMillis: number
  readonly callbackDelay: Duration.Duration
  readonly callbackTimeout: Duration.Duration
  readonly callbackRetries: number
  readonly failingRecipients: ReadonlyMap<string, ZaloError>
  readonly errorInfoStyle: DeliveryCallback.ErrorInfoStyle
}

interface KnownAccount {
  readonly apiKey: string
  readonly secretKey: string
  readonly userId: number
  readonly balance: number
  readonly oaids: ReadonlyArray<OaRegistration>
}

const reveal = (key: string | Redacted.Redacted<string>) => Redacted.isRedacted(key) ? Redacted.value(key) : key

/** A fresh SMSID: 32 lowercase hex digits. */
const newSmsId = () => Crypto.randomUUID().replace(/-/g, "")

/** A Zalo message id as seen in `partnerids`: 20 hex digits. */
const newZaloMessageId = () => Crypto.randomBytes(10).toString("hex")

const REDACTED = "<redacted>"

/** The body with its keys replaced, for the record (the raw body never leaves the handler). */
const scrubBody = (body: string, parsed: unknown, accounts: ReadonlyArray<KnownAccount>): string => {
  if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) {
    const copy: Record<string, unknown> = { ...parsed }
    for (const field of ["ApiKey", "SecretKey"]) if (field in copy) copy[field] = REDACTED
    return JSON.stringify(copy)
  }
  return accounts
    .flatMap((a) => [a.apiKey, a.secretKey])
    .filter((key) => key.length > 0)
    .reduce((acc, key) => acc.split(key).join(REDACTED), body)
}

const scrubQuery = (url: URL): string => {
  const params = new URLSearchParams(url.search)
  for (const field of ["ApiKey", "SecretKey"]) if (params.has(field)) params.set(field, REDACTED)
  const query = params.toString()
  return query === "" ? url.pathname : `${url.pathname}?${query}`
}

const parseJson = (text: string): Either.Either<unknown, void> => {
  try {
    return Either.right(JSON.parse(text))
  } catch {
    return Either.left(undefined)
  }
}

const field = (parsed: unknown, name: string): string | undefined => {
  if (typeof parsed !== "object" || parsed === null) return undefined
  const value = (parsed as Record<string, unknown>)[name]
  return typeof value === "string" ? value : undefined
}

const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1)

/** The vendor's `ErrorMessage` for a code: "Authorize Failed" is the one the docs show verbatim. */
const errorMessageFor = (code: string): string =>
  code === "101"
    ? "Authorize Failed"
    : capitalize((ResultCode.table as Record<string, ResultCode.ResultCodeInfo>)[code]?.description ?? "Error")

const JSON_CONTENT_TYPE = "application/json; charset=utf-8"

const json = (body: unknown, status = 200) =>
  HttpServerResponse.unsafeJson(body, { status, contentType: JSON_CONTENT_TYPE })

/** The send endpoint's answer. */
interface SendAnswer {
  readonly code: string
  readonly smsId?: string | undefined
  readonly errorMessage?: string | undefined
}

const sendAnswerBody = (answer: SendAnswer) =>
  answer.code === "100"
    ? { CodeResult: answer.code, CountRegenerate: 0, SMSID: answer.smsId }
    : { CodeResult: answer.code, CountRegenerate: 0, ErrorMessage: answer.errorMessage ?? errorMessageFor(answer.code) }

const reject = (code: string, errorMessage?: string): SendAnswer => ({ code, errorMessage })

// WCF answers a body it cannot deserialize with HTTP 400 and an HTML page.
const badRequestPage = "<!DOCTYPE html>\n<html><head><title>Request Error</title></head><body>" +
  "<p>The server encountered an error processing the request. The request body is not valid JSON.</p></body></html>\n"

const html = (body: string, status: number) =>
  HttpServerResponse.text(body, { status, contentType: "text/html; charset=utf-8" })

const statusView = (message: Message) => {
  const finished = message.status !== "Pending"
  const delivered = message.status === "Delivered"
  return {
    SendFailed: message.status === "Failed" ? 1 : 0,
    SendStatus: finished ? DeliveryCallback.SEND_STATUS_FINISHED : 2,
    SendSuccess: delivered ? 1 : 0,
    TotalPrice: message.status === "Failed" ? 0 : message.price,
    TotalReceiver: 1,
    TotalSent: delivered ? 1 : 0
  }
}

const toDeliveryCallback = (message: Message): DeliveryCallback.DeliveryCallback => {
  const view = statusView(message)
  return {
    smsId: message.smsId,
    requestId: message.requestId,
    userId: message.userId,
    oaid: message.oaid,
    sendStatus: view.SendStatus,
    sendSuccess: view.SendSuccess,
    sendFailed: view.SendFailed,
    totalPrice: view.TotalPrice,
    totalReceiver: view.TotalReceiver,
    totalSent: view.TotalSent,
    typeId: DeliveryCallback.TYPE_ID_ZALO_FOLLOWER,
    zaloMessageId: message.zaloMessageId,
    zaloResult: message.status === "Delivered"
      ? { error: 0, message: "Success", data: { message_id: message.zaloMessageId ?? "", user_id: message.userId } }
      : message.zaloError
  }
}

// The only place the persistent collections become arrays: a request never pays for this.
const toSnapshot = (state: State.State): Snapshot => ({
  attempts: Chunk.toReadonlyArray(state.attempts),
  messages: State.messagesInOrder(state),
  callbacks: Chunk.toReadonlyArray(state.callbacks),
  balances: State.balancesInOrder(state),
  faults: state.faults
})

/**
 * {@link Options}, plus what a server that mounts the routes itself knows about where they are.
 *
 * @since 0.1.0
 */
export interface MakeOptions extends Options {
  /** What `Service.baseUrl` reports. Default {@link PATH_PREFIX} (a relative URL). */
  readonly baseUrl?: string | undefined
  /** What `Service.port` reports. Default 0. */
  readonly listeningPort?: number | undefined
}

/**
 * Builds the simulator's state and routes without listening (serve `router` yourself, or use
 * {@link layer}). Callbacks go through the `HttpClient` in context.
 *
 * @since 0.1.0
 */
export const make = (options: MakeOptions = {}): Effect.Effect<Service, never, HttpClient.HttpClient | Scope.Scope> =>
  Effect.gen(function*() {
    const httpClient = yield* HttpClient.HttpClient
    const accounts: ReadonlyArray<KnownAccount> = (options.accounts ?? [defaultAccount]).map((a) => ({
      apiKey: reveal(a.apiKey),
      secretKey: reveal(a.secretKey),
      userId: a.userId,
      balance: a.balance,
      oaids: a.oaids
    }))
    const settings: Settings = {
      price: options.price ?? defaults.price,
      tps: options.tps ?? defaults.tps,
      dedupWindowMillis: Duration.toMillis(options.dedupWindow ?? defaults.dedupWindow),
      callbackDelay: Duration.decode(options.callbackDelay ?? defaults.callbackDelay),
      callbackTimeout: Duration.decode(options.callbackTimeout ?? defaults.callbackTimeout),
      callbackRetries: options.callbackRetries ?? defaults.callbackRetries,
      failingRecipients: new Map(Object.entries(options.failingRecipients ?? defaultFailingRecipients)),
      errorInfoStyle: options.errorInfoStyle ?? defaults.errorInfoStyle
    }
    const initialBalances = () => accounts.map((a) => [a.userId, a.balance] as const)
    const ref = yield* SubscriptionRef.make(State.initial(initialBalances()))
    const background = yield* FiberSet.make()

    const findAccount = (apiKey: string | undefined, secretKey: string | undefined) =>
      accounts.find((a) => a.apiKey === apiKey && a.secretKey === secretKey)

    // One debug line per request (the CLI can show them); the body and the keys are never logged.
    const record = (attempt: Omit<Attempt, "seq">) =>
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

    // --- delivery and callbacks -------------------------------------------------------------------

    const callOnce = (url: string) =>
      httpClient.get(url, { headers: { "user-agent": "esms-simulator-callback" } }).pipe(
        Effect.flatMap((response) => Effect.as(Effect.ignore(response.text), response.status)),
        Effect.timeoutFail({ duration: settings.callbackTimeout, onTimeout: () => "TimedOut" as const }),
        Effect.match({
          onFailure: (error): CallbackOutcome =>
            error === "TimedOut"
              ? { _tag: "TimedOut" }
              : { _tag: "Failed", detail: Network.describeCause(error.cause, "request failed") },
          onSuccess: (status): CallbackOutcome => ({ _tag: "Answered", status })
        })
      )

    const sendCallbacks = (message: Message, callbackUrl: string, deliveredAt: number) =>
      Effect.gen(function*() {
        const url = DeliveryCallback.toUrl(callbackUrl, toDeliveryCallback(message), {
          style: settings.errorInfoStyle,
          at: deliveredAt
        })
        for (let attempt = 1; attempt <= settings.callbackRetries + 1; attempt++) {
          const at = yield* Clock.currentTimeMillis
          const outcome = yield* callOnce(url)
          yield* SubscriptionRef.update(
            ref,
            (state) => State.recordCallback(state, { smsId: message.smsId, attempt, url, at, outcome })
          )
          yield* Effect.logDebug("callback", outcome._tag).pipe(
            Effect.annotateLogs({ smsId: message.smsId, attempt })
          )
          if (outcome._tag !== "TimedOut") return
        }
      })

    const deliver = (smsId: string) =>
      Effect.gen(function*() {
        yield* Effect.sleep(settings.callbackDelay)
        const deliveredAt = yield* Clock.currentTimeMillis
        const settled = yield* SubscriptionRef.modify(ref, (state) => {
          const message = Option.getOrUndefined(HashMap.get(state.messages, smsId))
          const zaloError = message === undefined ? undefined : settings.failingRecipients.get(message.userId)
          return State.settle(
            state,
            smsId,
            zaloError === undefined ? { zaloMessageId: newZaloMessageId() } : { zaloError }
          )
        })
        if (settled !== undefined && settled.callbackUrl !== undefined) {
          yield* sendCallbacks(settled, settled.callbackUrl, deliveredAt)
        }
      })

    // --- the send endpoint ------------------------------------------------------------------------

    const process = (body: string, now: number): Effect.Effect<SendAnswer> =>
      Effect.gen(function*() {
        const parsed = Either.getOrUndefined(parseJson(body))
        const account = findAccount(field(parsed, "ApiKey"), field(parsed, "SecretKey"))
        if (account === undefined) return reject("101")
        const oaid = field(parsed, "OAID")
        const registration = account.oaids.find((o) => o.oaid === oaid)
        if (oaid === undefined || registration === undefined) return reject("204")
        if (!registration.active) return reject("799")
        const validated = yield* SendRequest.fromJson(body).pipe(
          Effect.flatMap(SendRequest.toMessage),
          Effect.mapError((error) =>
            `Payload is not as specified: ${ZaloMessage.formatFieldErrors(ZaloMessage.fieldErrors(error))}`
          ),
          Effect.either
        )
        if (Either.isLeft(validated)) return reject("210", validated.left)
        const m = validated.right
        const message: Message = {
          smsId: newSmsId(),
          requestId: m.requestId,
          accountUserId: account.userId,
          oaid,
          userId: m.userId,
          text: m.text,
          imageUrl: m.imageUrl,
          callbackUrl: m.callbackUrl,
          sendDate: m.sendDate,
          price: settings.price,
          acceptedAt: now,
          status: "Pending",
          zaloMessageId: undefined,
          zaloError: undefined
        }
        const admission = yield* SubscriptionRef.modify(
          ref,
          (state) => State.admit(state, message, { tps: settings.tps, dedupWindowMillis: settings.dedupWindowMillis })
        )
        if (admission._tag === "Rejected") return reject(admission.code)
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
      const parsed = parseJson(body)
      const fault = yield* SubscriptionRef.modify(ref, State.takeFault)
      const base = {
        at: now,
        method: request.method,
        endpoint: "SendZaloFollowerMessage" as const,
        path: new URL(request.url, "http://simulator").pathname,
        contentType: request.headers["content-type"],
        body: scrubBody(body, Either.getOrUndefined(parsed), accounts),
        requestId: field(Either.getOrUndefined(parsed), "RequestId"),
        fault
      }
      const answer = (result: SendAnswer) =>
        record({ ...base, status: 200, codeResult: result.code, smsId: result.smsId }).pipe(
          Effect.as(json(sendAnswerBody(result)))
        )
      const processed = (yes: boolean) => yes ? process(body, now) : Effect.succeed(undefined)

      if (fault === undefined) {
        if (Either.isLeft(parsed)) {
          return yield* record({ ...base, status: 400, codeResult: undefined, smsId: undefined }).pipe(
            Effect.as(html(badRequestPage, 400))
          )
        }
        return yield* process(body, now).pipe(Effect.flatMap(answer))
      }
      yield* Effect.logDebug("fault", Fault.describe(fault))
      switch (fault._tag) {
        case "ResultCode": {
          const code = fault.code.trim()
          return yield* answer(
            code === "100" ? { code, smsId: newSmsId() } : { code, errorMessage: fault.errorMessage }
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
          return html(Fault.htmlPage(fault.status), fault.status)
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
        at: now,
        method: request.method,
        endpoint: "GetSendStatus",
        path: scrubQuery(url),
        contentType: request.headers["content-type"],
        body: "",
        requestId: undefined,
        status: 200,
        codeResult: code,
        smsId: refId === "" ? undefined : refId,
        fault: undefined
      })
      return json(
        code === "100" && message !== undefined
          ? { CodeResponse: code, SMSID: refId, ...statusView(message) }
          : { CodeResponse: code, SMSID: refId }
      )
    })

    const handleBalance = Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      const now = yield* Clock.currentTimeMillis
      const body = yield* Effect.orElseSucceed(request.text, () => "")
      const parsed = Either.getOrUndefined(parseJson(body))
      const account = findAccount(field(parsed, "ApiKey"), field(parsed, "SecretKey"))
      const state = yield* SubscriptionRef.get(ref)
      const code = account === undefined ? "101" : "100"
      yield* record({
        at: now,
        method: request.method,
        endpoint: "GetBalance",
        path: new URL(request.url, "http://simulator").pathname,
        contentType: request.headers["content-type"],
        body: scrubBody(body, parsed, accounts),
        requestId: undefined,
        status: 200,
        codeResult: code,
        smsId: undefined,
        fault: undefined
      })
      return json(
        account === undefined
          ? { Balance: 0, CodeResponse: code, ErrorMessage: errorMessageFor(code) }
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
      const url = new URL(request.url, "http://simulator")
      yield* record({
        at: now,
        method: request.method,
        endpoint: "Unknown",
        path: scrubQuery(url),
        contentType: request.headers["content-type"],
        body: "",
        requestId: undefined,
        status: 404,
        codeResult: undefined,
        smsId: undefined,
        fault: undefined
      })
      return html("<!DOCTYPE html>\n<html><body><p>Endpoint not found.</p></body></html>\n", 404)
    })

    const images = yield* Images.make({ slowImageDelay: options.slowImageDelay })

    const router = HttpRouter.empty.pipe(
      HttpRouter.all(`${Images.PATH_PREFIX}/*`, images.handle),
      // The router ignores a trailing slash and case, as IIS does: one route serves both spellings.
      HttpRouter.post(SEND_PATH, handleSend),
      HttpRouter.get(STATUS_PATH, handleStatus),
      HttpRouter.post(BALANCE_PATH, handleBalance),
      HttpRouter.all("*", handleUnknown)
    )

    // --- the test-facing view ---------------------------------------------------------------------

    const snapshot = Effect.map(SubscriptionRef.get(ref), toSnapshot)
    const changes = Stream.map(ref.changes, toSnapshot)
    const waitUntil = (predicate: (snapshot: Snapshot) => boolean) =>
      changes.pipe(Stream.filter(predicate), Stream.runHead, Effect.map(Option.getOrThrow))

    const baseUrl = options.baseUrl ?? PATH_PREFIX
    // The routes are mounted together: the images sit beside the JSON endpoints, below the same host.
    const imagesUrl = (baseUrl.endsWith(PATH_PREFIX) ? baseUrl.slice(0, -PATH_PREFIX.length) : "") +
      Images.PATH_PREFIX

    return Simulator.of({
      baseUrl,
      imagesUrl,
      imageUrl: (name) => imagesUrl + Images.paths[name].slice(Images.PATH_PREFIX.length),
      imageRequests: images.requests,
      port: options.listeningPort ?? 0,
      router,
      snapshot,
      changes,
      waitUntil,
      attempts: Effect.map(SubscriptionRef.get(ref), (s) => Chunk.toReadonlyArray(s.attempts)),
      messages: Effect.map(SubscriptionRef.get(ref), State.messagesInOrder),
      message: (smsId) => Effect.map(SubscriptionRef.get(ref), (s) => HashMap.get(s.messages, smsId)),
      acceptedCount: (requestId) =>
        Effect.map(
          SubscriptionRef.get(ref),
          (s) => HashMap.size(HashMap.filter(s.messages, (m) => m.requestId === requestId))
        ),
      callbacks: Effect.map(SubscriptionRef.get(ref), (s) => Chunk.toReadonlyArray(s.callbacks)),
      awaitCallbacks: (count) => Effect.map(waitUntil((s) => s.callbacks.length >= count), (s) => s.callbacks),
      balance: (userId) => Effect.map(SubscriptionRef.get(ref), (s) => HashMap.get(s.balances, userId)),
      setBalance: (userId, balance) => SubscriptionRef.update(ref, (s) => State.setBalance(s, userId, balance)),
      injectFault: (fault, times = 1) => SubscriptionRef.update(ref, (s) => State.addFault(s, fault, times)),
      faults: Effect.map(SubscriptionRef.get(ref), (s) => s.faults),
      clearFaults: SubscriptionRef.update(ref, (s) => ({ ...s, faults: [] })),
      reset: Effect.zipRight(
        Effect.zipRight(FiberSet.clear(background), images.reset),
        SubscriptionRef.set(ref, State.initial(initialBalances()))
      )
    })
  })

/**
 * Starts the server on `host:port` (default 127.0.0.1 and a free port) for the life of the scope.
 *
 * @since 0.1.0
 */
export const serve = (options: Options = {}): Effect.Effect<Service, HttpServerError.ServeError, Scope.Scope> =>
  Effect.gen(function*() {
    // Built into the caller's scope: the callbacks' HTTP client must outlive this effect.
    const client = yield* Layer.build(NodeHttpClient.layerUndici)
    const server = yield* NodeHttpServer.make(() => Http.createServer(), {
      host: options.host ?? defaults.host,
      port: options.port ?? defaults.port
    })
    const address = server.address as HttpServer.TcpAddress
    const service = yield* make({
      ...options,
      baseUrl: `http://${Network.reachableUrlHost(address.hostname)}:${address.port}${PATH_PREFIX}`,
      listeningPort: address.port
    }).pipe(Effect.provide(client))
    yield* server.serve(service.router)
    return service
  })

/**
 * The simulator listening on loopback (a free port unless `port` is given), as a service.
 *
 * @since 0.1.0
 */
export const layer = (options: Options = {}): Layer.Layer<Simulator, HttpServerError.ServeError> =>
  Layer.scoped(Simulator, serve(options))

/**
 * The routes of the `Simulator` in context, as an app to mount in another server.
 *
 * @since 0.1.0
 */
export const httpApp: HttpApp.Default<HttpServerError.RouteNotFound, Simulator | HttpServerRequest.HttpServerRequest> =
  Effect.flatMap(Simulator, (simulator) => simulator.router)
