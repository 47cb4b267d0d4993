/**
 * Runs the `esms` program in-process with test-double layers: a scripted HttpClient that records
 * every request, a captured Console, and an environment given as a map.
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { Images } from "@esms-effect/simulator"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as Cli from "../src/Cli.js"
import * as TestConsole from "./TestConsole.js"

export interface Recorded {
  readonly url: string
  readonly method: string
  readonly headers: Record<string, string>
  readonly body: string
}

export type Answer = (
  request: HttpClientRequest.HttpClientRequest
) => Effect.Effect<Response, HttpClientError.HttpClientError>

export const answerJson = (body: unknown, status = 200): Answer => () =>
  Effect.succeed(new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } }))

/** A photo fetch answered with the simulator's real PNG. */
export const answerPng: Answer = () =>
  Effect.succeed(new Response(Images.png, { status: 200, headers: { "content-type": "image/png" } }))

// The image check asks for images; eSMS is only ever sent POSTs and status GETs asking for JSON.
const isImageFetch = (request: HttpClientRequest.HttpClientRequest) =>
  request.method === "GET" && (request.headers["accept"] ?? "").startsWith("image/")

export const ENV = {
  ESMS_API_KEY: "AK-CLI-SECRET-7788",
  ESMS_SECRET_KEY: "SK-CLI-SECRET-9911",
  ESMS_OAID: "4097311281936189049",
  // One attempt: these runs check how one answer maps; the simulator tests cover retries.
  ESMS_MAX_ATTEMPTS: "1"
}

export interface Result {
  readonly exitCode: number
  readonly stdout: Array<string>
  readonly stderr: Array<string>
  /** Requests to eSMS. */
  readonly requests: Array<Recorded>
  /** Photos fetched by the image check. */
  readonly imageRequests: Array<Recorded>
}

const bodyText = (request: HttpClientRequest.HttpClientRequest): string =>
  request.body._tag === "Uint8Array" ? new TextDecoder().decode(request.body.body) : ""

/** Runs `esms ...args`; `http` may be a layer of its own (a real client for end-to-end runs). */
export const run = (
  args: ReadonlyArray<string>,
  options: {
    readonly env?: Record<string, string>
    readonly answer?: Answer
    /** How photo fetches are answered; default {@link answerPng}. */
    readonly image?: Answer
    readonly http?: Layer.Layer<HttpClient.HttpClient>
  } = {}
): Effect.Effect<Result> =>
  Effect.suspend(() => {
    const requests: Array<Recorded> = []
    const imageRequests: Array<Recorded> = []
    const answer = options.answer ?? answerJson({ CodeResult: "100", CountRegenerate: 0, SMSID: "sms-1" })
    const image = options.image ?? answerPng
    const recording = Layer.succeed(
      HttpClient.HttpClient,
      HttpClient.make((request) => {
        const fetch = isImageFetch(request)
        ;(fetch ? imageRequests : requests).push({
          url: request.url,
          method: request.method,
          headers: request.headers,
          body: bodyText(request)
        })
        return Effect.map(
          (fetch ? image : answer)(request),
          (response) => HttpClientResponse.fromWeb(request, response)
        )
      })
    )
    const { captured, console } = TestConsole.make()
    const env = new Map(Object.entries(options.env ?? ENV))
    // The local store (send-image records its RequestIds there): a fresh one unless the test names one.
    const storeDir = env.has("ESMS_STORE") ? undefined : Fs.mkdtempSync(Path.join(Os.tmpdir(), "esms-cli-store-"))
    if (storeDir !== undefined) env.set("ESMS_STORE", Path.join(storeDir, "esms.sqlite"))
    return Cli.main(["node", "esms", ...args]).pipe(
      Effect.provide(Layer.mergeAll(NodeContext.layer, options.http ?? recording)),
      Effect.withConsole(console),
      Effect.withConfigProvider(ConfigProvider.fromMap(env)),
      Effect.map((exitCode) => ({
        exitCode,
        stdout: captured.stdout,
        stderr: captured.stderr,
        requests,
        imageRequests
      })),
      Effect.ensuring(Effect.sync(() => storeDir && Fs.rmSync(storeDir, { recursive: true, force: true })))
    )
  })
