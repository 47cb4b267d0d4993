/**
 * What a client puts on the wire, built by hand so a test can send exactly the bytes it means
 * (a wrong key, a broken payload, a `text/plain` body) over real loopback HTTP.
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { Simulator } from "../src/index.js"

export const account = Simulator.defaultAccount
export const ACTIVE_OA = "1000000000000000001"
export const INACTIVE_OA = "1000000000000000799"
export const API_KEY = account.apiKey as string
export const SECRET_KEY = account.secretKey as string

export const payload = (
  overrides: { readonly userId?: string; readonly text?: string; readonly url?: string } = {}
) => ({
  recipient: { user_id: overrides.userId ?? "5308693166941955879" },
  message: {
    text: overrides.text ?? "Xin chào! Đơn hàng của bạn đã được giao.",
    attachment: {
      type: "template",
      payload: {
        template_type: "media",
        elements: [{ media_type: "image", url: overrides.url ?? "https://cdn.example.com/photos/order.png" }]
      }
    }
  }
})

export const body = (fields: Record<string, unknown> = {}): Record<string, unknown> => ({
  ApiKey: API_KEY,
  SecretKey: SECRET_KEY,
  OAID: ACTIVE_OA,
  Payload: payload(),
  ...fields
})

export interface Answer {
  readonly status: number
  readonly contentType: string | undefined
  readonly text: string
}

export const request = (
  method: "GET" | "POST",
  url: string,
  text?: string,
  contentType = "application/json"
): Effect.Effect<Answer, unknown, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const req = method === "GET"
      ? HttpClientRequest.get(url)
      : HttpClientRequest.post(url).pipe(HttpClientRequest.bodyText(text ?? "", contentType))
    const response = yield* client.execute(req)
    return { status: response.status, contentType: response.headers["content-type"], text: yield* response.text }
  })

export const sendUrl = (simulator: Simulator.Service) => `${simulator.baseUrl}/SendZaloFollowerMessage_V5_post_json/`

/** POSTs a send body (an object is JSON-encoded) and answers the parsed JSON. */
export const send = (fields: Record<string, unknown> | string = {}, contentType = "application/json") =>
  Effect.gen(function*() {
    const simulator = yield* Simulator.Simulator
    const text = typeof fields === "string" ? fields : JSON.stringify(body(fields))
    const answer = yield* request("POST", sendUrl(simulator), text, contentType)
    return JSON.parse(answer.text) as Record<string, unknown>
  })

/** Real loopback HTTP with a fresh connection per request (a dropped connection must not be reused). */
export const httpClient = NodeHttpClient.layerWithoutAgent.pipe(
  Layer.provide(NodeHttpClient.makeAgentLayer({ keepAlive: false }))
)
