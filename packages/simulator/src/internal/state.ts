/**
 * The simulator's memory and the pure steps that change it. Every decision that reads and writes
 * shared data (rate, de-duplication, balance) is one function of the state, run inside one atomic
 * `SubscriptionRef.modify`, so concurrent requests cannot both spend the last credit.
 */
import * as Chunk from "effect/Chunk"
import * as Data from "effect/Data"
import * as HashMap from "effect/HashMap"
import * as Option from "effect/Option"
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

export type CallbackOutcome = Data.TaggedEnum<{
  Answered: { readonly status: number }
  TimedOut: {}
  Failed: { readonly detail: string }
}>

export const CallbackOutcome = Data.taggedEnum<CallbackOutcome>()

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

/**
 * Persistent collections (structural sharing): a request adds to them in O(log n) instead of copying
 * everything received so far, so a long batch stays as fast per request as a short one. The
 * public `Snapshot` converts them to arrays only when asked.
 */
export interface State {
  readonly attempts: Chunk.Chunk<Attempt>
  readonly messages: HashMap.HashMap<string, Message>
  /** The smsIds of `messages` in the order accepted (a HashMap has no order). */
  readonly messageOrder: Chunk.Chunk<string>
  readonly callbacks: Chunk.Chunk<CallbackAttempt>
  /** By account userId. */
  readonly balances: HashMap.HashMap<number, number>
  /** The userIds of `balances` in the order first set (the initial accounts, then `setBalance`'s). */
  readonly balanceOrder: Chunk.Chunk<number>
  /** `${userId}\u0000${requestId}` → when it was accepted. */
  readonly requestIds: HashMap.HashMap<string, number>
  /**
   * By account userId: when its recent sends were admitted (last second; at most `tps` of them). A
   * plain array, copied on each send: filtering ≤ `tps` numbers natively beats a Chunk's iterator.
   */
  readonly recentSends: HashMap.HashMap<number, ReadonlyArray<number>>
  readonly faults: ReadonlyArray<PendingFault>
}

export const initial = (balances: Iterable<readonly [number, number]>): State => {
  const entries = Array.from(balances)
  const map = HashMap.fromIterable(entries)
  return {
    attempts: Chunk.empty(),
    messages: HashMap.empty(),
    messageOrder: Chunk.empty(),
    callbacks: Chunk.empty(),
    balances: map,
    // A userId given twice keeps its first place, as a `Map` built from the same entries would.
    balanceOrder: Chunk.dedupe(Chunk.fromIterable(entries.map(([userId]) => userId))),
    requestIds: HashMap.empty(),
    recentSends: HashMap.empty(),
    faults: []
  }
}

/** Sets an account's balance, remembering where a new account goes in the snapshot's order. */
export const setBalance = (state: State, userId: number, balance: number): State => ({
  ...state,
  balances: HashMap.set(state.balances, userId, balance),
  balanceOrder: HashMap.has(state.balances, userId) ? state.balanceOrder : Chunk.append(state.balanceOrder, userId)
})

/** The messages in the order accepted. O(n): for snapshots only. */
export const messagesInOrder = (state: State): Array<Message> =>
  Chunk.toArray(Chunk.filterMap(state.messageOrder, (smsId) => HashMap.get(state.messages, smsId)))

/** The balances in the order the accounts were first set. O(accounts): for snapshots only. */
export const balancesInOrder = (state: State): Array<{ readonly userId: number; readonly balance: number }> =>
  Chunk.toArray(
    Chunk.filterMap(
      state.balanceOrder,
      (userId) => Option.map(HashMap.get(state.balances, userId), (balance) => ({ userId, balance }))
    )
  )

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
  attempts: Chunk.append(state.attempts, { ...attempt, seq: Chunk.size(state.attempts) + 1 })
})

export const recordCallback = (state: State, callback: CallbackAttempt): State => ({
  ...state,
  callbacks: Chunk.append(state.callbacks, callback)
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
  // Pruned to the last second on every send, so it holds at most `tps` timestamps.
  const recent = Option.getOrElse(HashMap.get(state.recentSends, account), () => []).filter((at) => at > now - 1000)
  if (recent.length >= limits.tps) {
    return [{ _tag: "Rejected", code: "160" }, {
      ...state,
      recentSends: HashMap.set(state.recentSends, account, recent)
    }]
  }
  const counted: State = { ...state, recentSends: HashMap.set(state.recentSends, account, [...recent, now]) }
  if (message.requestId !== undefined) {
    const seen = HashMap.get(state.requestIds, requestIdKey(account, message.requestId))
    if (Option.isSome(seen) && now - seen.value < limits.dedupWindowMillis) {
      return [{ _tag: "Rejected", code: "124" }, counted]
    }
  }
  const balance = Option.getOrElse(HashMap.get(state.balances, account), () => 0)
  if (balance < message.price) return [{ _tag: "Rejected", code: "103" }, counted]
  return [
    { _tag: "Accepted", message },
    {
      ...setBalance(counted, account, balance - message.price),
      messages: HashMap.set(counted.messages, message.smsId, message),
      messageOrder: Chunk.append(counted.messageOrder, message.smsId),
      requestIds: message.requestId === undefined
        ? counted.requestIds
        : HashMap.set(counted.requestIds, requestIdKey(account, message.requestId), now)
    }
  ]
}

/** The delivery result; a failed message is not charged (the vendor's sample shows TotalPrice 0). */
export const settle = (
  state: State,
  smsId: string,
  result: { readonly zaloMessageId: string } | { readonly zaloError: ZaloError }
): readonly [Message | undefined, State] => {
  const message = Option.getOrUndefined(HashMap.get(state.messages, smsId))
  if (message === undefined || message.status !== "Pending") return [message, state]
  if ("zaloMessageId" in result) {
    const delivered: Message = { ...message, status: "Delivered", zaloMessageId: result.zaloMessageId }
    return [delivered, { ...state, messages: HashMap.set(state.messages, smsId, delivered) }]
  }
  const failed: Message = { ...message, status: "Failed", zaloError: result.zaloError }
  const balance = HashMap.get(state.balances, message.accountUserId)
  return [failed, {
    ...state,
    messages: HashMap.set(state.messages, smsId, failed),
    balances: Option.isNone(balance)
      ? state.balances
      : HashMap.set(state.balances, message.accountUserId, balance.value + message.price)
  }]
}
