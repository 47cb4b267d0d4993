/**
 * Network things as this project's servers and clients write them in text: a listening address as the
 * host of a URL, and the cause chain of a failed request as a short detail.
 *
 * @since 0.1.0
 */

/**
 * A hostname as the host part of a URL: an IPv6 address in brackets (`[::1]`), anything else as it is.
 *
 * @since 0.1.0
 * @category urls
 */
export const urlHost = (hostname: string): string => hostname.includes(":") ? `[${hostname}]` : hostname

/**
 * The host of a URL that reaches a server listening on `hostname` from this machine: a wildcard address
 * (`0.0.0.0`, `::`) is reached on loopback, `127.0.0.1`; others as {@link urlHost}.
 *
 * @since 0.1.0
 * @category urls
 */
export const reachableUrlHost = (hostname: string): string =>
  hostname === "0.0.0.0" || hostname === "::" ? "127.0.0.1" : urlHost(hostname)

/**
 * The first causes of an error, outermost first (at most four: a cycle or a deep chain ends there).
 *
 * @since 0.1.0
 * @category causes
 */
export const causeChain = (
  cause: unknown
): ReadonlyArray<{ readonly code?: unknown; readonly message?: unknown; readonly cause?: unknown }> => {
  const chain: Array<{ readonly code?: unknown; readonly message?: unknown; readonly cause?: unknown }> = []
  for (let current = cause; chain.length < 4 && typeof current === "object" && current !== null;) {
    chain.push(current)
    current = (current as { cause?: unknown }).cause
  }
  return chain
}

/**
 * A failed request's cause in a few words: the codes (`ECONNREFUSED`) or else the messages along its
 * cause chain, each once (`fetch failed: ECONNRESET`); `fallback` when the chain says nothing.
 *
 * @since 0.1.0
 * @category causes
 */
export const describeCause = (cause: unknown, fallback = "transport error"): string => {
  const parts = causeChain(cause).flatMap(({ code, message }) =>
    typeof code === "string" ? [code] : typeof message === "string" && message !== "" ? [message] : []
  )
  return parts.length === 0 ? fallback : [...new Set(parts)].join(": ")
}
