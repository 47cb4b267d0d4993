/**
 * What the http-client tests share: recognizable keys, a valid message, and a one-shot send through
 * the recording double.
 */
import type { ZaloMessage } from "@esms-effect/core"
import { Credentials } from "@esms-effect/core"
import * as Effect from "effect/Effect"
import * as EsmsClient from "../src/EsmsClient.js"
import * as RecordingHttpClient from "./RecordingHttpClient.js"

export const API_KEY = "AK-SECRET-123"
export const SECRET_KEY = "SK-SECRET-456"
export const OAID = "4321987654"

export const credentials = Credentials.make({ apiKey: API_KEY, secretKey: SECRET_KEY, oaid: OAID })

export const message: ZaloMessage.Input = {
  userId: "4872346234234",
  text: "Xin chào 👋\r\nƯu đãi hôm nay",
  imageUrl: "https://cdn.example.vn/promo/photo.png"
}

export const accepted = RecordingHttpClient.json({
  CodeResult: "100",
  CountRegenerate: 0,
  SMSID: "d8e0f1f0702544b2acb456ca9ccfd111250"
})

/** One attempt per send: these tests are about how one answer maps; Retry.test.ts covers retries. */
export const singleAttempt = { maxAttempts: 1 } as const

/** Sends `input` once through a fresh recording double; returns the outcome and what went out. */
export const send = (
  input: ZaloMessage.Input,
  respond: RecordingHttpClient.Respond = accepted,
  options: Partial<EsmsClient.Options> = {}
) =>
  Effect.gen(function*() {
    const recorder = yield* RecordingHttpClient.make(respond)
    const client = yield* EsmsClient.make({ credentials, ...singleAttempt, ...options }).pipe(
      Effect.provide(recorder.layer)
    )
    const result = yield* Effect.either(client.sendZaloImage(input))
    return { result, requests: yield* recorder.requests }
  })

/** The failure of a send that must fail. */
export const sendFailure = (
  input: ZaloMessage.Input,
  respond: RecordingHttpClient.Respond = accepted,
  options: Partial<EsmsClient.Options> = {}
) =>
  Effect.flatMap(send(input, respond, options), ({ requests, result }) =>
    result._tag === "Left"
      ? Effect.succeed({ error: result.left, requests })
      : Effect.dieMessage(`expected a failure, got ${JSON.stringify(result.right)}`))
