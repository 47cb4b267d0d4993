/**
 * The simulator's memory and the pure steps that change it. Every decision that reads and writes
 * shared data (rate, de-duplication, balance) is one function of the state, run inside one atomic
 * `SubscriptionRef.modify`, so concurrent requests cannot both spend the last credit.
 */
import type * as Fault from "../Fault.js"

/** The public record types, shared with `Simulator.ts`. */
export interface Attempt {
  readonly seq: number
  readonly at: number
  readonly method: string
  readonly endpoint: Endpoint
  readonly path: string
  readonly contentType: string | undefined
  readonly body: string
  readonly requestId: string | undefined
  readonly status: number | undefined
  readonly codeResult: string | undefined
  readonly smsId: string | undefined
  readonly fault: Fault.Fault | undefined
}

export type Endpoint = "SendZaloFollowerMessage" | "GetSendStatus" | "GetBalance" | "Unknown"

export type MessageStatus = "Pending" | "Delivered" | "Failed"

export interface ZaloError {
  readonly error: number
  readonly message: string
}

export interface Message {
  readonly smsId: string
  readonly requestId: string | undefined
  readonly accountUserId: number
  readonly oaid: string
  readonly userId: string
  readonly text: string
  readonly imageUrl: string
  readonly callbackUrl: string | undefined
  readonly sendDate: string | undefined
  readonly price: number
  readonly acceptedAt: number
  readonly status: MessageStatus
  readonly zaloMessageId: string | undefined
  readonly zaloError: ZaloError | undefined
}

export type CallbackOutcome =
  | { readonly _tag: "Answered"; readonly status: number }
  | { readonly _tag: "TimedOut" }
  | { readonly _tag: "Failed"; readonly detail: string }

export interface CallbackAttempt {
  readonly smsId: string
  readonly attempt: number
  readonly url: string
  readonly at: number
  readonly outcome: CallbackOutcome
}

export interface PendingFault {
  readonly fault: Fault.Fault
  readonly remaining: number
}

export interface State {
  readonly attempts: ReadonlyArray<Attempt>
  readonly messages: ReadonlyMap<string, Message>
  readonly callbacks: ReadonlyArray<CallbackAttempt>
  /** By account userId. */
  readonly balances: ReadonlyMap<number, number>
  /** `${userId}\u0000${requestId}` → when it was accepted. */
  readonly requestIds: ReadonlyMap<string, number>
  /** By account userId: when its recent sends were admitted (last second). */
  readonly recentSends: ReadonlyMap<number, ReadonlyArray<number>>
  readonly faults: ReadonlyArray<PendingFault>
}

export const initial = (balances: ReadonlyMap<number, number>): State => ({
  attempts: [],
  messages: new Map(),
  callbacks: [],
  balances,
  requestIds: new Map(),
  recentSends: new Map(),
  faults: []
})

const withEntry = <K, V>(map: ReadonlyMap<K, V>, key: K, value: V): ReadonlyMap<K, V> => new Map(map).set(key, value)

export const takeFault = (state: State): readonly [Fault.Fault | undefined, State] => {
  const [head, ...rest] = state.faults
  if (head === undefined) return [undefined, state]
  const faults = head.remaining > 1 ? [{ fault: head.fault, remaining: head.remaining - 1 }, ...rest] : rest
  return [head.fault, { ...state, faults }]
}

export const addFault = (state: State, fault: Fault.Fault, times: number): State =>
  times < 1 ? state : { ...state, faults: [...state.faults, { fault, remaining: times }] }

export const recordAttempt = (state: State, attempt: Omit<Attempt, "seq">): State => ({
  ...state,
  attempts: [...state.attempts, { ...attempt, seq: state.attempts.length + 1 }]
})

export const recordCallback = (state: State, callback: CallbackAttempt): State => ({
  ...state,
  callbacks: [...state.callbacks, callback]
})

export type Admission =
  | { readonly _tag: "Accepted"; readonly message: Message }
  | { readonly _tag: "Rejected"; readonly code: "103" | "124" | "160" }

export interface Limits {
  readonly tps: number
  readonly dedupWindowMillis: number
}

const requestIdKey = (accountUserId: number, requestId: string) => `${accountUserId}\u0000${requestId}`

/**
 * The rate limit, then RequestId de-duplication, then the balance; on success the message is stored
 * and its price taken from the balance.
 */
export const admit = (state: State, message: Message, limits: Limits): readonly [Admission, State] => {
  const account = message.accountUserId
  const now = message.acceptedAt
  const recent = (state.recentSends.get(account) ?? []).filter((at) => at > now - 1000)
  if (recent.length >= limits.tps) {
    return [{ _tag: "Rejected", code: "160" }, { ...state, recentSends: withEntry(state.recentSends, account, recent) }]
  }
  const counted: State = { ...state, recentSends: withEntry(state.recentSends, account, [...recent, now]) }
  if (message.requestId !== undefined) {
    const seen = state.requestIds.get(requestIdKey(account, message.requestId))
    if (seen !== undefined && now - seen < limits.dedupWindowMillis) {
      return [{ _tag: "Rejected", code: "124" }, counted]
    }
  }
  const balance = state.balances.get(account) ?? 0
  if (balance < message.price) return [{ _tag: "Rejected", code: "103" }, counted]
  return [
    { _tag: "Accepted", message },
    {
      ...counted,
      balances: withEntry(counted.balances, account, balance - message.price),
      messages: withEntry(counted.messages, message.smsId, message),
      requestIds: message.requestId === undefined
        ? counted.requestIds
        : withEntry(counted.requestIds, requestIdKey(account, message.requestId), now)
    }
  ]
}

/** The delivery result; a failed message is not charged (the vendor's sample shows TotalPrice 0). */
export const settle = (
  state: State,
  smsId: string,
  result: { readonly zaloMessageId: string } | { readonly zaloError: ZaloError }
): readonly [Message | undefined, State] => {
  const message = state.messages.get(smsId)
  if (message === undefined || message.status !== "Pending") return [message, state]
  if ("zaloMessageId" in result) {
    const delivered: Message = { ...message, status: "Delivered", zaloMessageId: result.zaloMessageId }
    return [delivered, { ...state, messages: withEntry(state.messages, smsId, delivered) }]
  }
  const failed: Message = { ...message, status: "Failed", zaloError: result.zaloError }
  const balance = state.balances.get(message.accountUserId)
  return [failed, {
    ...state,
    messages: withEntry(state.messages, smsId, failed),
    balances: balance === undefined
      ? state.balances
      : withEntry(state.balances, message.accountUserId, balance + message.price)
  }]
}
