/**
 * What the simulator reads from and writes to the wire as eSMS does: keys scrubbed from what it
 * records, the vendor's messages and answer bodies, the ids it hands out.
 */
import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import * as HttpIncomingMessage from "@effect/platform/HttpIncomingMessage"
import type * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { DeliveryReport, ResultCode } from "@esms-effect/core"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Crypto from "node:crypto"
import * as Http from "node:http"
import type * as State from "./state.js"

/** An account with its keys revealed: they are compared with what a request sends. */
export interface KnownAccount {
  readonly apiKey: string
  readonly secretKey: string
  readonly userId: number
  readonly balance: number
  readonly oaids: ReadonlyArray<{ readonly oaid: string; readonly active: boolean }>
}

export const reveal = (key: string | Redacted.Redacted<string>) => Redacted.isRedacted(key) ? Redacted.value(key) : key

/** A fresh SMSID: 32 lowercase hex digits. */
export const newSmsId = () => Crypto.randomUUID().replace(/-/g, "")

/** A Zalo message id as seen in `partnerids`: 20 hex digits. */
export const newZaloMessageId = () => Crypto.randomBytes(10).toString("hex")

const REDACTED = "<redacted>"

/** The body with its keys replaced, for the record (the raw body never leaves the handler). */
export const scrubBody = (body: string, parsed: unknown, accounts: ReadonlyArray<KnownAccount>): string => {
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

/** The path and query with the keys replaced. */
export const scrubQuery = (url: URL): string => {
  const params = new URLSearchParams(url.search)
  for (const field of ["ApiKey", "SecretKey"]) if (params.has(field)) params.set(field, REDACTED)
  const query = params.toString()
  return query === "" ? url.pathname : `${url.pathname}?${query}`
}

export const parseJson = (text: string): Either.Either<unknown, void> => {
  try {
    return Either.right(JSON.parse(text))
  } catch {
    return Either.left(undefined)
  }
}

export const field = (parsed: unknown, name: string): string | undefined => {
  if (typeof parsed !== "object" || parsed === null) return undefined
  const value = (parsed as Record<string, unknown>)[name]
  return typeof value === "string" ? value : undefined
}

/**
 * The fields of the record of one request that every handler fills the same way; the handler
 * adds what it learnt (status, code, SMSID, the scrubbed body or path).
 */
export const requestRecord = (
  request: HttpServerRequest.HttpServerRequest,
  at: number,
  endpoint: State.Endpoint,
  options: { readonly keepQuery: boolean }
): Omit<State.Attempt, "seq" | "status" | "codeResult" | "smsId"> => {
  const url = new URL(request.url, "http://simulator")
  return {
    at,
    method: request.method,
    endpoint,
    path: options.keepQuery ? scrubQuery(url) : url.pathname,
    contentType: request.headers["content-type"],
    body: "",
    requestId: undefined,
    fault: undefined
  }
}

const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1)

/** The vendor's `ErrorMessage` for a code: "Authorize Failed" is the one the docs show verbatim. */
export const errorMessageFor = (code: string): string =>
  code === "101" ? "Authorize Failed" : capitalize(ResultCode.infoByCode.get(code)?.description ?? "Error")

const JSON_CONTENT_TYPE = "application/json; charset=utf-8"

export const json = (body: unknown, status = 200) =>
  HttpServerResponse.unsafeJson(body, { status, contentType: JSON_CONTENT_TYPE })

export const html = (body: string, status: number) =>
  HttpServerResponse.text(body, { status, contentType: "text/html; charset=utf-8" })

// WCF answers a body it cannot deserialize with HTTP 400 and an HTML page.
export const badRequestPage = "<!DOCTYPE html>\n<html><head><title>Request Error</title></head><body>" +
  "<p>The server encountered an error processing the request. The request body is not valid JSON.</p></body></html>\n"

export const notFoundPage = "<!DOCTYPE html>\n<html><body><p>Endpoint not found.</p></body></html>\n"

/** The send endpoint's answer. */
export interface SendAnswer {
  readonly code: string
  readonly smsId?: string | undefined
  readonly errorMessage?: string | undefined
}

export const sendAnswerBody = (answer: SendAnswer) =>
  answer.code === "100"
    ? { CodeResult: answer.code, CountRegenerate: 0, SMSID: answer.smsId }
    : { CodeResult: answer.code, CountRegenerate: 0, ErrorMessage: answer.errorMessage ?? errorMessageFor(answer.code) }

export const reject = (code: string, errorMessage?: string): SendAnswer => ({ code, errorMessage })

const SEND_STATUS_FINISHED = 5
const SEND_STATUS_WAITING_TO_SEND = 2
// A Zalo follower message (consulting / transaction), the only kind the simulator takes.
const TYPE_ID_ZALO_FOLLOWER = 26

/** The counts eSMS reports for a message, in `GetSendStatus` and in the callback. */
export const statusView = (message: State.Message) => {
  const finished = message.status !== "Pending"
  const delivered = message.status === "Delivered"
  return {
    SendFailed: message.status === "Failed" ? 1 : 0,
    SendStatus: finished ? SEND_STATUS_FINISHED : SEND_STATUS_WAITING_TO_SEND,
    SendSuccess: delivered ? 1 : 0,
    TotalPrice: message.status === "Failed" ? 0 : message.price,
    TotalReceiver: 1,
    TotalSent: delivered ? 1 : 0
  }
}

/** The delivery report eSMS sends for a settled message. */
export const deliveryReport = (
  message: State.Message,
  options: { readonly style: DeliveryReport.ErrorInfoStyle; readonly at: number }
): DeliveryReport.DeliveryReport => {
  const view = statusView(message)
  const zalo = message.status === "Delivered"
    ? new DeliveryReport.ZaloResult({
      error: 0,
      message: "Success",
      data: { message_id: message.zaloMessageId ?? "", user_id: message.userId }
    })
    : message.zaloError === undefined
    ? undefined
    : new DeliveryReport.ZaloResult(message.zaloError)
  return new DeliveryReport.DeliveryReport({
    smsId: message.smsId,
    sendStatus: DeliveryReport.sendStatusFromCode(view.SendStatus),
    sendStatusCode: view.SendStatus,
    sendSuccess: view.SendSuccess,
    sendFailed: view.SendFailed,
    totalPrice: view.TotalPrice,
    totalReceiver: view.TotalReceiver,
    totalSent: view.TotalSent,
    ...(message.requestId === undefined ? {} : { requestId: message.requestId }),
    typeId: TYPE_ID_ZALO_FOLLOWER,
    phoneNumber: message.userId,
    oaid: message.oaid,
    // eSMS writes `partnerids` empty when Zalo gave no message id (a failure).
    zaloMessageId: message.zaloMessageId ?? "",
    ...(zalo === undefined ? {} : DeliveryReport.zaloFields(zalo, options)),
    extra: {}
  })
}

/**
 * The request body as text, `""` when it cannot be read or passes the platform's `MaxBodySize`. A
 * node request is read straight from its stream: `request.text` costs a fiber and a cached effect of
 * its own per request (~0.1 ms); any other request goes through it.
 */
export const bodyText = (request: HttpServerRequest.HttpServerRequest): Effect.Effect<string> => {
  const source: unknown = NodeHttpServerRequest.toIncomingMessage(request)
  if (!(source instanceof Http.IncomingMessage)) return Effect.orElseSucceed(request.text, () => "")
  return Effect.flatMap(HttpIncomingMessage.MaxBodySize, (maxBodySize) =>
    Effect.async<string>((resume) => {
      const limit = Option.match(maxBodySize, { onNone: () => Infinity, onSome: Number })
      const chunks: Array<Buffer> = []
      let size = 0
      const onData = (chunk: Buffer) => {
        size += chunk.length
        if (size > limit) {
          cleanup()
          resume(Effect.succeed(""))
        } else chunks.push(chunk)
      }
      const onEnd = () => {
        cleanup()
        resume(Effect.succeed(Buffer.concat(chunks).toString("utf8")))
      }
      const onError = () => {
        cleanup()
        resume(Effect.succeed(""))
      }
      const cleanup = () => {
        source.off("data", onData)
        source.off("end", onEnd)
        source.off("error", onError)
      }
      source.on("data", onData)
      source.on("end", onEnd)
      source.on("error", onError)
      return Effect.sync(cleanup)
    }))
}
