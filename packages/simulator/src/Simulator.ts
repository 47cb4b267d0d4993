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
import type * as HttpApp from "@effect/platform/HttpApp"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpRouter from "@effect/platform/HttpRouter"
import type * as HttpServer from "@effect/platform/HttpServer"
import type * as HttpServerError from "@effect/platform/HttpServerError"
import type * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import type { DeliveryReport } from "@esms-effect/core"
import { Network, SendRequest } from "@esms-effect/core"
import * as Chunk from "effect/Chunk"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FiberSet from "effect/FiberSet"
import * as HashMap from "effect/HashMap"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as SubscriptionRef from "effect/SubscriptionRef"
import * as Http from "node:http"
import type * as Fault from "./Fault.js"
import * as Images from "./Images.js"
import * as Arrival from "./internal/arrival.js"
import * as Callbacks from "./internal/callbacks.js"
import * as Handlers from "./internal/handlers.js"
import * as State from "./internal/state.js"
import * as Wire from "./internal/wire.js"

/** Where eSMS's JSON endpoints live below the host. @since 0.1.0 @category constants */
export const PATH_PREFIX = "/MainService.svc/json"

/** The send endpoint (a request without the trailing slash is accepted too). @since 0.1.0 @category constants */
export const SEND_PATH = `${PATH_PREFIX}${SendRequest.PATH}` as const

/** @since 0.1.0 @category constants */
export const STATUS_PATH = `${PATH_PREFIX}/GetSendStatus`

/** @since 0.1.0 @category constants */
export const BALANCE_PATH = `${PATH_PREFIX}/GetBalance_json`

/**
 * A Zalo Official Account registered with an eSMS account.
 *
 * @since 0.1.0
 * @category models
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
 * @category models
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
 * @category models
 */
export type ZaloError = State.ZaloError

/**
 * A test account with obviously fake keys: one active OA (`1000000000000000001`) and one inactive
 * (`1000000000000000799`, answers 799). Safe to print.
 *
 * @since 0.1.0
 * @category constants
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
 * @category constants
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
 * @category models
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
  readonly errorInfoStyle?: DeliveryReport.ErrorInfoStyle | undefined
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
 * @category constants
 */
export const defaults = {
  price: 60,
  tps: 50,
  dedupWindow: Duration.hours(24),
  callbackDelay: Duration.millis(50),
  callbackTimeout: Duration.seconds(2),
  callbackRetries: 5,
  errorInfoStyle: "encodedTwiceWithTime" as DeliveryReport.ErrorInfoStyle,
  host: "127.0.0.1",
  port: 0
} as const

/**
 * One HTTP request the server received, whatever became of it. `body` has the keys replaced by
 * `<redacted>`; `status` is `undefined` when the connection was dropped.
 *
 * @since 0.1.0
 * @category models
 */
export type Attempt = State.Attempt

/** Which endpoint a request was for. @since 0.1.0 @category models */
export type Endpoint = State.Endpoint

/**
 * An accepted message. `status` is `Pending` until the delivery result (after `callbackDelay`).
 *
 * @since 0.1.0
 * @category models
 */
export type Message = State.Message

/** @since 0.1.0 @category models */
export type MessageStatus = State.MessageStatus

/**
 * One try at calling a `CallbackUrl`: `attempt` counts from 1; `url` is the full URL called.
 *
 * @since 0.1.0
 * @category models
 */
export type CallbackAttempt = State.CallbackAttempt

/** @since 0.1.0 @category models */
export type CallbackOutcome = State.CallbackOutcome

/**
 * The constructors of {@link CallbackOutcome}, and its `$is` / `$match`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const CallbackOutcome = State.CallbackOutcome

/** A queued fault and how many more send requests it applies to. @since 0.1.0 @category models */
export type PendingFault = State.PendingFault

/**
 * Everything the simulator holds, at one instant.
 *
 * @since 0.1.0
 * @category models
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
 * @category models
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
 * @category services
 */
export class Simulator extends Context.Tag("@esms-effect/simulator/Simulator")<Simulator, Service>() {}

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
 * @category models
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
 * @category constructors
 */
export const make = (options: MakeOptions = {}): Effect.Effect<Service, never, HttpClient.HttpClient | Scope.Scope> =>
  Effect.gen(function*() {
    const httpClient = yield* HttpClient.HttpClient
    const accounts: ReadonlyArray<Wire.KnownAccount> = (options.accounts ?? [defaultAccount]).map((a) => ({
      apiKey: Wire.reveal(a.apiKey),
      secretKey: Wire.reveal(a.secretKey),
      userId: a.userId,
      balance: a.balance,
      oaids: a.oaids
    }))
    const initialBalances = () => accounts.map((a) => [a.userId, a.balance] as const)
    const ref = yield* SubscriptionRef.make(State.initial(initialBalances()))
    const background = yield* FiberSet.make()
    const deliveries = yield* Callbacks.make(httpClient, ref, background, {
      callbackDelay: Duration.decode(options.callbackDelay ?? defaults.callbackDelay),
      callbackTimeout: Duration.decode(options.callbackTimeout ?? defaults.callbackTimeout),
      callbackRetries: options.callbackRetries ?? defaults.callbackRetries,
      failingRecipients: new Map(Object.entries(options.failingRecipients ?? defaultFailingRecipients)),
      errorInfoStyle: options.errorInfoStyle ?? defaults.errorInfoStyle
    })
    const handlers = Handlers.make({
      ref,
      accounts,
      limits: {
        tps: options.tps ?? defaults.tps,
        dedupWindowMillis: Duration.toMillis(options.dedupWindow ?? defaults.dedupWindow)
      },
      price: options.price ?? defaults.price,
      deliver: deliveries.deliver
    })

    const images = yield* Images.make({ slowImageDelay: options.slowImageDelay })

    const router = HttpRouter.empty.pipe(
      HttpRouter.all(`${Images.PATH_PREFIX}/*`, images.handle),
      // The router ignores a trailing slash and case, as IIS does: one route serves both spellings.
      HttpRouter.post(SEND_PATH, handlers.handleSend),
      HttpRouter.get(STATUS_PATH, handlers.handleStatus),
      HttpRouter.post(BALANCE_PATH, handlers.handleBalance),
      HttpRouter.all("*", handlers.handleUnknown)
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
        Effect.zipRight(Effect.zipRight(deliveries.clear, FiberSet.clear(background)), images.reset),
        SubscriptionRef.set(ref, State.initial(initialBalances()))
      )
    })
  })

/**
 * Starts the server on `host:port` (default 127.0.0.1 and a free port) for the life of the scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const serve = (options: Options = {}): Effect.Effect<Service, HttpServerError.ServeError, Scope.Scope> =>
  Effect.gen(function*() {
    // Built into the caller's scope: the callbacks' HTTP client must outlive this effect.
    const client = yield* Layer.build(NodeHttpClient.layerUndici)
    const server = yield* NodeHttpServer.make(() => {
      const node = Http.createServer()
      // Before the platform's listener: the stamp is the arrival, not when the handler gets its turn.
      node.on("request", Arrival.stamp)
      return node
    }, {
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
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<Simulator, HttpServerError.ServeError> =>
  Layer.scoped(Simulator, serve(options))

/**
 * The routes of the `Simulator` in context, as an app to mount in another server.
 *
 * @since 0.1.0
 * @category routes
 */
export const httpApp: HttpApp.Default<HttpServerError.RouteNotFound, Simulator | HttpServerRequest.HttpServerRequest> =
  Effect.flatMap(Simulator, (simulator) => simulator.router)
