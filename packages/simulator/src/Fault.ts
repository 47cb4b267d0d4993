/**
 * Faults the simulator injects into send requests, so a test can watch a client meet the failures
 * of a real network: a slow answer, a connection that dies after the server took the message, a
 * proxy's 5xx or HTML page, a chosen result code.
 *
 * Queue them with `Simulator.injectFault(fault, times)`: each applies to the next `times` send
 * requests, in order. Status and balance requests are never faulted.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"

/**
 * @since 0.1.0
 * @category models
 */
export type Fault = Data.TaggedEnum<{
  /** Handle the request normally (the message is taken), then wait `millis` before answering. */
  Delay: { readonly millis: number }
  /**
   * Read the body, then destroy the connection without an answer. With `processed`, the message is
   * taken first: the case where only a retry with the same RequestId (answered 124) is safe.
   */
  Drop: { readonly processed: boolean }
  /** Answer this HTTP status (5xx, say) with this body. With `processed`, the message is taken first. */
  HttpError: { readonly status: number; readonly body: string; readonly processed: boolean }
  /** Answer an HTML page (a proxy's error page) with this status (200 or 502, say). */
  Html: { readonly status: number; readonly processed: boolean }
  /** Answer HTTP 200 with this `CodeResult`, without processing the message. */
  ResultCode: { readonly code: string; readonly errorMessage: string | undefined }
}>

const Fault = Data.taggedEnum<Fault>()

/** Type guards and `$match` for faults. @since 0.1.0 @category guards */
export const { $is, $match } = Fault

/**
 * Answer `millis` late (after taking the message).
 *
 * @since 0.1.0
 * @category constructors
 */
export const delay = (millis: number): Fault => Fault.Delay({ millis })

/**
 * Destroy the connection after reading the body; `processed` (default `true`): take the message first.
 *
 * @since 0.1.0
 * @category constructors
 */
export const drop = (options?: { readonly processed?: boolean | undefined }): Fault =>
  Fault.Drop({ processed: options?.processed ?? true })

/**
 * Answer HTTP `status` (default 500) with `body`; `processed` (default `false`): take the message first.
 *
 * @since 0.1.0
 * @category constructors
 */
export const httpError = (options?: {
  readonly status?: number | undefined
  readonly body?: string | undefined
  readonly processed?: boolean | undefined
}): Fault =>
  Fault.HttpError({
    status: options?.status ?? 500,
    body: options?.body ?? "Internal Server Error",
    processed: options?.processed ?? false
  })

/**
 * Answer an HTML error page with HTTP `status` (default 502); `processed` (default `false`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const html = (options?: {
  readonly status?: number | undefined
  readonly processed?: boolean | undefined
}): Fault => Fault.Html({ status: options?.status ?? 502, processed: options?.processed ?? false })

/**
 * Answer this result code (HTTP 200, documented JSON) without processing the message.
 *
 * @since 0.1.0
 * @category constructors
 */
export const resultCode = (code: string, errorMessage?: string): Fault => Fault.ResultCode({ code, errorMessage })

/**
 * The HTML page a proxy in front of eSMS might answer.
 *
 * @since 0.1.0
 * @category utils
 */
export const htmlPage = (status: number): string => {
  const title = status === 200 ? "Runtime Error" : `${status} ${STATUS_TEXT[status] ?? "Error"}`
  return `<!DOCTYPE html>\n<html><head><title>${title}</title></head><body><h1>${title}</h1>` +
    `<p>The server encountered an error processing the request.</p></body></html>\n`
}

const STATUS_TEXT: Record<number, string> = {
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout"
}

/**
 * One line saying what a fault does, for logs and listings.
 *
 * @since 0.1.0
 * @category formatting
 */
export const describe: (fault: Fault) => string = $match({
  Delay: ({ millis }) => `answer ${millis} ms late`,
  Drop: ({ processed }) => `drop the connection ${processed ? "after taking" : "without taking"} the message`,
  HttpError: ({ processed, status }) => `answer HTTP ${status}${processed ? " after taking the message" : ""}`,
  Html: ({ processed, status }) =>
    `answer an HTML page with HTTP ${status}${processed ? " after taking the message" : ""}`,
  ResultCode: ({ code }) => `answer CodeResult ${code}`
})
