/**
 * A lean `HttpClient.HttpClient` for Node, straight on undici's `Dispatcher.request`, with a keep-alive
 * connection pool per origin sized by {@link Options}.
 *
 * It is an ordinary @effect/platform `HttpClient` layer (swap it for any other transport, or a test
 * double) without the per-request work of the generic `HttpClient.make` that a high-rate sender pays
 * for nothing: no `http.client` span and no trace headers unless `spans: true` (callers' own spans
 * cover a send), one callback from undici instead of promise chains, bodies read in one step.
 *
 * Interruption aborts the request through undici's `signal` option, and destroys a body being read.
 * Failures to send are `RequestError` with reason `"Transport"` whose `cause` is undici's own error
 * with its `code` (`ECONNREFUSED`, `UND_ERR_SOCKET`, …), so a caller can tell "nothing left this
 * machine" from "the connection broke mid-request".
 *
 * @since 0.1.0
 */
import * as Cookies from "@effect/platform/Cookies"
import * as Headers from "@effect/platform/Headers"
import type * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as HttpIncomingMessage from "@effect/platform/HttpIncomingMessage"
import * as UrlParams from "@effect/platform/UrlParams"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type { LazyArg } from "effect/Function"
import * as Inspectable from "effect/Inspectable"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { EventEmitter } from "node:events"
import { Readable } from "node:stream"
import type { Dispatcher } from "undici"
import { Agent } from "undici"
import * as Timed from "./internal/timed.js"

/**
 * The connection pool and its limits. Per-request deadlines belong to the caller (`Effect.timeout`);
 * the header and body timeouts here are only a backstop that frees a connection left hanging.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Most open connections per origin; more concurrent requests wait for one. Default 64. */
  readonly connections?: number | undefined
  /** Requests in flight on one connection (HTTP/1.1 pipelining); 1 disables pipelining. Default 1. */
  readonly pipelining?: number | undefined
  /** How long an idle connection stays open for reuse (when the server does not say). Default 4 seconds. */
  readonly keepAliveTimeout?: Duration.DurationInput | undefined
  /** The longest a server's `Keep-Alive: timeout=…` hint may keep an idle connection. Default 10 minutes. */
  readonly keepAliveMaxTimeout?: Duration.DurationInput | undefined
  /** Time to establish a connection (TCP and TLS). Default 10 seconds. */
  readonly connectTimeout?: Duration.DurationInput | undefined
  /** Backstop: time to receive the response headers. Default 5 minutes. */
  readonly headersTimeout?: Duration.DurationInput | undefined
  /** Backstop: longest pause between two chunks of a response body. Default 5 minutes. */
  readonly bodyTimeout?: Duration.DurationInput | undefined
  /**
   * Wrap every request in @effect/platform's generic client: an `http.client` span per request and
   * W3C / B3 trace headers on the wire, at a cost of tens of microseconds per request. Default false.
   */
  readonly spans?: boolean | undefined
}

/**
 * The defaults of {@link Options}.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaults = {
  connections: 64,
  pipelining: 1,
  keepAliveTimeout: Duration.seconds(4),
  keepAliveMaxTimeout: Duration.minutes(10),
  connectTimeout: Duration.seconds(10),
  headersTimeout: Duration.minutes(5),
  bodyTimeout: Duration.minutes(5),
  spans: false
} as const

const millis = (input: Duration.DurationInput | undefined, fallback: Duration.Duration): number =>
  Duration.toMillis(input === undefined ? fallback : Duration.decode(input))

const agentOptions = (options: Options): Agent.Options => ({
  connections: options.connections ?? defaults.connections,
  pipelining: options.pipelining ?? defaults.pipelining,
  keepAliveTimeout: millis(options.keepAliveTimeout, defaults.keepAliveTimeout),
  keepAliveMaxTimeout: millis(options.keepAliveMaxTimeout, defaults.keepAliveMaxTimeout),
  headersTimeout: millis(options.headersTimeout, defaults.headersTimeout),
  bodyTimeout: millis(options.bodyTimeout, defaults.bodyTimeout),
  connect: { timeout: millis(options.connectTimeout, defaults.connectTimeout) }
})

/**
 * A keep-alive `Agent` (one pool per origin) sized by the options, destroyed with the scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeAgent = (options: Options = {}): Effect.Effect<Agent, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => new Agent(agentOptions(options))),
    (agent) => Effect.promise(() => agent.destroy())
  )

/** Bodies this small, when their length is declared, are read with the headers (see `start`). */
const EAGER_BYTES = 16 * 1024

const DIGITS = /^\d+$/

type Body = Exclude<Dispatcher.DispatchOptions["body"], undefined>

const requestBody = (body: HttpBody.HttpBody): Effect.Effect<Body> => {
  switch (body._tag) {
    case "Empty":
      return Effect.succeed(null)
    case "Uint8Array":
      return Effect.succeed(body.body)
    case "Raw":
      return Effect.succeed(body.body as Body)
    case "FormData":
      return Effect.succeed(body.formData as unknown as Body)
    case "Stream":
      // Pulled as the socket drains; undici destroys the Readable, and so ends the stream, on abort.
      return Effect.map(Stream.toAsyncIterableEffect(body.stream), (chunks) => Readable.from(chunks))
  }
}

const dispatch = (
  dispatcher: LazyArg<Dispatcher>,
  request: HttpClientRequest.HttpClientRequest,
  url: URL,
  body: Body,
  signal: AbortSignal | undefined
): Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.RequestError> => {
  if (signal !== undefined) {
    return Effect.async((resume) => start(dispatcher, request, url, body, signal, resume))
  }
  // undici takes an EventEmitter as `signal` just as it takes an AbortSignal; listening on an
  // AbortSignal costs several microseconds per request, an emitter a fraction of one.
  return Effect.async((resume) => {
    const abort = new EventEmitter()
    start(dispatcher, request, url, body, abort, resume)
    return Effect.sync(() => abort.emit("abort"))
  })
}

const start = (
  dispatcher: LazyArg<Dispatcher>,
  request: HttpClientRequest.HttpClientRequest,
  url: URL,
  body: Body,
  signal: AbortSignal | EventEmitter,
  resume: (effect: Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.RequestError>) => void
) =>
  dispatcher().request({
    origin: url.origin,
    path: url.pathname + url.search,
    method: request.method as Dispatcher.HttpMethod,
    headers: request.headers,
    body,
    signal
  }, (cause, data) => {
    if (cause !== null) {
      return resume(Effect.fail(new HttpClientError.RequestError({ request, reason: "Transport", cause })))
    }
    const declared = data.headers["content-length"]
    const length = typeof declared === "string" && DIGITS.test(declared) ? Number(declared) : undefined
    if (length === undefined || length > EAGER_BYTES) return resume(Effect.succeed(new UndiciResponse(request, data)))
    // A small body of a declared length (an API's answer): read with the headers, so the caller resumes
    // once with both, and its read is then synchronous. A failure mid-body fails that read, as it would.
    const chunks: Array<Buffer> = []
    let settled = false
    const settle = (failure?: unknown) => {
      if (settled) return
      settled = true
      resume(Effect.succeed(new UndiciResponse(request, data, { bytes: Buffer.concat(chunks), failure })))
    }
    data.body.on("data", (chunk: Buffer) => chunks.push(chunk))
    data.body.on("end", () => settle())
    data.body.on("error", settle)
  })

const send = (
  dispatcher: LazyArg<Dispatcher>,
  request: HttpClientRequest.HttpClientRequest,
  url: URL,
  signal: AbortSignal | undefined
) => {
  const body = request.body
  switch (body._tag) {
    case "Empty":
      return dispatch(dispatcher, request, url, null, signal)
    case "Uint8Array":
      return dispatch(dispatcher, request, url, body.body, signal)
    default:
      return Effect.flatMap(requestBody(body), (body) => dispatch(dispatcher, request, url, body, signal))
  }
}

const requestUrl = (request: HttpClientRequest.HttpClientRequest) =>
  UrlParams.makeUrl(request.url, request.urlParams, request.hash)

const invalidUrl = (request: HttpClientRequest.HttpClientRequest, cause: Error) =>
  new HttpClientError.RequestError({ request, reason: "InvalidUrl", cause })

// The request under one timer of its own: at `millis` the request is aborted and the effect fails
// with `onTimeout()`; a response (with a small body, its body) in time clears the timer.
const within = (dispatcher: LazyArg<Dispatcher>): Timed.Within => (request, millis, onTimeout) => {
  const body = request.body
  if (body._tag !== "Empty" && body._tag !== "Uint8Array") return undefined
  const url = requestUrl(request)
  if (url._tag === "Left") return Effect.fail(invalidUrl(request, url.left))
  return Effect.async((resume) => {
    const abort = new EventEmitter()
    let done = false
    const timer = setTimeout(() => {
      if (done) return
      done = true
      abort.emit("abort")
      resume(Effect.fail(onTimeout()))
    }, millis)
    start(dispatcher, request, url.right, body._tag === "Empty" ? null : body.body, abort, (effect) => {
      if (done) return
      done = true
      clearTimeout(timer)
      resume(effect)
    })
    return Effect.sync(() => {
      done = true
      clearTimeout(timer)
      abort.emit("abort")
    })
  })
}

const fromDispatcher = (dispatcher: LazyArg<Dispatcher>, spans: boolean | undefined): HttpClient.HttpClient => {
  if (spans === true) return HttpClient.make((request, url, signal) => send(dispatcher, request, url, signal))
  const client = HttpClient.makeWith<never, never, HttpClientError.HttpClientError, never>(
    Effect.flatMap((request) => {
      const url = requestUrl(request)
      return url._tag === "Left"
        ? Effect.fail(invalidUrl(request, url.left))
        : send(dispatcher, request, url.right, undefined)
    }),
    Effect.succeed
  )
  return Object.assign(client, { [Timed.TypeId]: within(dispatcher) })
}

/**
 * An `HttpClient` on the given undici dispatcher (an `Agent`, a `Pool`, a `MockAgent`…).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (dispatcher: Dispatcher, options: Pick<Options, "spans"> = {}): HttpClient.HttpClient =>
  fromDispatcher(() => dispatcher, options.spans)

/**
 * Loads undici now rather than at the first request, as `layer` does (a program that never sends, such
 * as `esms --help`, pays nothing for it). A program about to send at a rate calls this first: loaded and
 * compiled on a busy machine, undici held the first permitted requests for up to seconds, which then
 * left together, over the account's TPS.
 *
 * @since 0.2.0
 * @category constructors
 */
export const preload: Effect.Effect<void> = Effect.sync(() => {
  void Agent.prototype.dispatch
})

/**
 * The `HttpClient` on a keep-alive `Agent` sized by the options. The agent is created by the first
 * request (a program that never sends, such as `esms --help`, pays nothing for it) and destroyed
 * with the layer.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<HttpClient.HttpClient> =>
  Layer.scoped(
    HttpClient.HttpClient,
    Effect.map(
      Effect.acquireRelease(
        Effect.sync(() => ({ agent: undefined as Agent | undefined })),
        (pool) => Effect.promise(() => pool.agent?.destroy() ?? Promise.resolve())
      ),
      (pool) => fromDispatcher(() => pool.agent ??= new Agent(agentOptions(options)), options.spans)
    )
  )

// A response dropped without reading its body would hold its connection until the body timeout:
// when it is garbage collected unread, its body is destroyed, which frees the connection.
const unread = new FinalizationRegistry<Dispatcher.ResponseData["body"]>((body) => body.destroy())

const ignore = () => {}

// As undici's `text()` reads a body: UTF-8, a leading byte order mark dropped.
const textOf = (bytes: Buffer): string =>
  bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf
    ? bytes.toString("utf8", 3)
    : bytes.toString("utf8")

const arrayBufferOf = (bytes: Buffer): ArrayBuffer =>
  bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer

/**
 * A response whose body undici streams. Reading it (text, json, bytes) happens once and is cached;
 * interrupting a read destroys the body, which closes its connection.
 */
class UndiciResponse extends Inspectable.Class implements HttpClientResponse.HttpClientResponse {
  readonly [HttpIncomingMessage.TypeId]: HttpIncomingMessage.TypeId = HttpIncomingMessage.TypeId
  readonly [HttpClientResponse.TypeId]: HttpClientResponse.TypeId = HttpClientResponse.TypeId
  readonly [Timed.CompleteTypeId]: boolean

  constructor(
    readonly request: HttpClientRequest.HttpClientRequest,
    private readonly source: Dispatcher.ResponseData,
    // The whole body, already read (or how its read failed), for a small body of declared length.
    private readonly preread?: { readonly bytes: Buffer; readonly failure: unknown }
  ) {
    super()
    this[Timed.CompleteTypeId] = preread !== undefined
    if (preread !== undefined) return
    // A body error with nobody reading must not crash the process.
    source.body.on("error", ignore)
    unread.register(this, source.body, this)
  }

  get status(): number {
    return this.source.statusCode
  }

  private cachedHeaders?: Headers.Headers
  get headers(): Headers.Headers {
    return this.cachedHeaders ??= Headers.fromInput(this.source.headers)
  }

  private cachedCookies?: Cookies.Cookies
  get cookies(): Cookies.Cookies {
    if (this.cachedCookies !== undefined) return this.cachedCookies
    const header = this.source.headers["set-cookie"]
    return this.cachedCookies = header === undefined
      ? Cookies.empty
      : Cookies.fromSetCookie(Array.isArray(header) ? header : [header])
  }

  get remoteAddress(): Option.Option<string> {
    return Option.none()
  }

  private decodeError(cause: unknown) {
    return new HttpClientError.ResponseError({ request: this.request, response: this, reason: "Decode", cause })
  }

  // One read per kind, started by the first effect that runs it and shared by the later ones.
  private readonly reads: Partial<Record<"text" | "bytes", Promise<unknown>>> = {}

  private read<A>(
    kind: "text" | "bytes",
    consume: (body: Dispatcher.ResponseData["body"]) => Promise<A>,
    fromBytes: (bytes: Buffer) => A
  ): Effect.Effect<A, HttpClientError.ResponseError> {
    const preread = this.preread
    if (preread !== undefined) {
      return preread.failure === undefined
        ? Effect.sync(() => fromBytes(preread.bytes))
        : Effect.fail(this.decodeError(preread.failure))
    }
    return Effect.async((resume) => {
      if (this.reads[kind] === undefined) {
        unread.unregister(this)
        this.reads[kind] = consume(this.source.body)
      }
      const reading = this.reads[kind] as Promise<A>
      reading.then(
        (value) => resume(Effect.succeed(value)),
        (cause) => resume(Effect.fail(this.decodeError(cause)))
      )
      return Effect.sync(() => this.source.body.destroy())
    })
  }

  get text(): Effect.Effect<string, HttpClientError.ResponseError> {
    return this.read("text", (body) => body.text(), textOf)
  }

  get json(): Effect.Effect<unknown, HttpClientError.ResponseError> {
    return Effect.flatMap(this.text, (text) =>
      Effect.try({
        try: () => text === "" ? null : JSON.parse(text) as unknown,
        catch: (cause) => this.decodeError(cause)
      }))
  }

  get urlParamsBody(): Effect.Effect<UrlParams.UrlParams, HttpClientError.ResponseError> {
    return Effect.flatMap(this.text, (text) =>
      Effect.try({
        try: () => UrlParams.fromInput(new URLSearchParams(text)),
        catch: (cause) => this.decodeError(cause)
      }))
  }

  get arrayBuffer(): Effect.Effect<ArrayBuffer, HttpClientError.ResponseError> {
    return this.read("bytes", (body) => body.arrayBuffer(), arrayBufferOf)
  }

  // undici's body has no formData(): the WHATWG Response parses the bytes.
  get formData(): Effect.Effect<FormData, HttpClientError.ResponseError> {
    return Effect.flatMap(this.arrayBuffer, (bytes) =>
      Effect.tryPromise({
        try: () => new Response(bytes, { headers: { "content-type": this.headers["content-type"] ?? "" } }).formData(),
        catch: (cause) => this.decodeError(cause)
      }))
  }

  get stream(): Stream.Stream<Uint8Array, HttpClientError.ResponseError> {
    // Read off the Readable's events, not its async iterator: the iterator's `return()` waits behind a
    // pending `next()`, so interrupting a read of a body that stalled (a timeout) would wait forever.
    // Interrupting or ending the stream destroys the body, which releases the socket.
    return Stream.suspend(() => {
      const preread = this.preread
      if (preread !== undefined) {
        return preread.failure !== undefined
          ? Stream.fail(this.decodeError(preread.failure))
          : preread.bytes.length === 0
          ? Stream.empty
          : Stream.succeed(new Uint8Array(preread.bytes))
      }
      unread.unregister(this)
      const body = this.source.body
      return Stream.async<Uint8Array, HttpClientError.ResponseError>((emit) => {
        // One chunk in flight at a time: the body waits while the stream's buffer is full.
        body.on("data", (chunk: Buffer) => {
          body.pause()
          void emit.single(chunk).then(() => body.resume())
        })
        body.once("end", () => void emit.end())
        body.once("error", (cause) => void emit.fail(this.decodeError(cause)))
        return Effect.sync(() => body.destroy())
      })
    })
  }

  toJSON(): unknown {
    return HttpIncomingMessage.inspect(this, {
      _id: "@effect/platform/HttpClientResponse",
      request: this.request.toJSON(),
      status: this.status
    })
  }
}
