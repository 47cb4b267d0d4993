/**
 * A campaign split across workers: its rows live in PostgreSQL, so a worker on any machine joins it
 * by name, with no copy of the file. Workers claim rows in small leases (`FOR UPDATE SKIP LOCKED`: no
 * row is held by two workers), mark a row in flight before its send (`esms` does it before the row waits
 * for its rate permit), and settle it after.
 * A worker that dies (even by SIGKILL) leaves its rows to the others when its leases expire; they are
 * sent again with the **same** RequestId (assigned once, at load) and `sentBefore` true, so eSMS
 * answers 124 to one it already has instead of sending a second message.
 *
 * Lease times are the database's clock (`clock_timestamp()`), the one clock all workers share.
 *
 * @since 0.1.0
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type * as SqlError from "@effect/sql/SqlError"
import { Journal } from "@esms-effect/store"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { randomBytes } from "node:crypto"

/**
 * Where a campaign row stands: `pending` (loaded, or given back, not held), `leased` (claimed by a
 * worker, not yet sent), `in_flight` (its send started), then what became of it.
 *
 * @since 0.1.0
 * @category models
 */
export type State = "pending" | "leased" | "in_flight" | "accepted" | "deduplicated" | "rejected" | "failed" | "invalid"

/** @since 0.1.0 @category models */
export const states: ReadonlyArray<State> = [
  "pending",
  "leased",
  "in_flight",
  "accepted",
  "deduplicated",
  "rejected",
  "failed",
  "invalid"
]

/**
 * A row to load: its line in the file and what it sends (any JSON value, given back as is by `claim`).
 *
 * @since 0.1.0
 * @category models
 */
export interface Input {
  readonly line: number
  readonly data: unknown
}

/**
 * A row a worker holds: send it with `requestId`. `sentBefore`: a send of it started before (a worker
 * that held it died or lost its lease), so a 124 now means eSMS has it: accepted.
 *
 * @since 0.1.0
 * @category models
 */
export interface Claimed {
  readonly line: number
  readonly requestId: string
  readonly data: unknown
  readonly sentBefore: boolean
  /** How many times the row was claimed, this one included. */
  readonly attempts: number
}

/**
 * One row's record.
 *
 * @since 0.1.0
 * @category models
 */
export interface Entry {
  readonly line: number
  readonly requestId: string
  readonly data: unknown
  readonly state: State
  readonly worker: string | undefined
  readonly leaseUntil: Date | undefined
  readonly sentBefore: boolean
  readonly attempts: number
  readonly tag: string | undefined
  readonly code: string | undefined
  readonly smsId: string | undefined
  readonly detail: string | undefined
  readonly updatedAt: Date
}

/**
 * What is left for a worker that found nothing to claim: `claimable` rows (free, or whose lease
 * expired), rows `leasedByOthers` still outstanding (wait for them: their lease may expire), and when
 * the first of those leases ends.
 *
 * @since 0.1.0
 * @category models
 */
export interface Outstanding {
  readonly claimable: number
  readonly leasedByOthers: number
  readonly nextExpiry: Option.Option<Duration.Duration>
}

/**
 * A campaign, once loaded or joined.
 *
 * @since 0.1.0
 * @category models
 */
export interface Handle {
  readonly name: string
  /** The campaign's id: random, made at load, part of every RequestId. */
  readonly id: string
  /** Rows loaded. */
  readonly size: number
  /** True when this call loaded the rows; false when the campaign was there (joined, or the same file again). */
  readonly loaded: boolean
  /** Leases up to `max` free rows (or rows whose lease expired) to `worker` for `lease`, by line. */
  readonly claim: (
    worker: string,
    max: number,
    lease: Duration.DurationInput
  ) => Effect.Effect<ReadonlyArray<Claimed>, SqlError.SqlError>
  /**
   * Records that `worker`'s send of the row starts now. False when the worker no longer holds it (its
   * lease expired and another worker took it): then it must not send.
   */
  readonly inFlight: (worker: string, line: number) => Effect.Effect<boolean, SqlError.SqlError>
  /** Records a send's outcome; false when the row is no longer `worker`'s (the taker settles it). */
  readonly settle: (
    worker: string,
    line: number,
    settlement: Journal.Settlement
  ) => Effect.Effect<boolean, SqlError.SqlError>
  /**
   * {@link Handle.inFlight} of several rows in one statement (a worker's concurrent sends, written
   * together): the lines `worker` still holds.
   */
  readonly inFlightAll: (
    worker: string,
    lines: ReadonlyArray<number>
  ) => Effect.Effect<ReadonlyArray<number>, SqlError.SqlError>
  /** {@link Handle.settle} of several rows in one statement: the lines that were still `worker`'s. */
  readonly settleAll: (
    worker: string,
    settlements: ReadonlyArray<{ readonly line: number; readonly settlement: Journal.Settlement }>
  ) => Effect.Effect<ReadonlyArray<number>, SqlError.SqlError>
  /** Records a row that breaks a rule (not sent); false when the row is no longer `worker`'s. */
  readonly invalid: (worker: string, line: number, detail: string) => Effect.Effect<boolean, SqlError.SqlError>
  /** Extends every lease `worker` holds to `lease` from now (a heartbeat for long sends). */
  readonly extend: (worker: string, lease: Duration.DurationInput) => Effect.Effect<number, SqlError.SqlError>
  /**
   * Gives back the rows `worker` holds and has not started (on a clean stop): others take them at once.
   * `unstarted` names rows it marked `in_flight` whose request never went (journaled before their
   * permit, then stopped): those go back too. They keep `sentBefore` true, which only makes a 124 read
   * as accepted, and no 124 can come for a RequestId that was never sent.
   */
  readonly release: (worker: string, unstarted?: ReadonlyArray<number>) => Effect.Effect<number, SqlError.SqlError>
  /** Puts `failed` rows back to `pending` (sent again with their RequestId, `sentBefore` true). */
  readonly retryFailed: Effect.Effect<number, SqlError.SqlError>
  /** How many rows of the whole campaign are in each state. */
  readonly counts: Effect.Effect<Readonly<Record<State, number>>, SqlError.SqlError>
  /** What is left for `worker` when a claim came back empty (see {@link Outstanding}). */
  readonly outstanding: (worker: string) => Effect.Effect<Outstanding, SqlError.SqlError>
  readonly get: (line: number) => Effect.Effect<Option.Option<Entry>, SqlError.SqlError>
  /** Every row in a state, by line. */
  readonly inState: (state: State) => Effect.Effect<ReadonlyArray<Entry>, SqlError.SqlError>
}

/**
 * The campaign NAME is there with other rows: it was loaded from another file (or the file changed).
 *
 * @since 0.1.0
 * @category errors
 */
export class CampaignFileMismatch
  extends Schema.TaggedError<CampaignFileMismatch>("@esms-effect/store-pg/CampaignFileMismatch")(
    "CampaignFileMismatch",
    { name: Schema.String, size: Schema.Number, newSize: Schema.Number }
  )
{
  override get message(): string {
    return `campaign "${this.name}" was loaded from another file (${this.size} rows; this one has ${this.newSize}, ` +
      `or the same count with other content): join it without a file, or give the new file another --campaign name`
  }
}

/**
 * No campaign of that name in the store.
 *
 * @since 0.1.0
 * @category errors
 */
export class CampaignNotFound extends Schema.TaggedError<CampaignNotFound>("@esms-effect/store-pg/CampaignNotFound")(
  "CampaignNotFound",
  { name: Schema.String }
) {
  override get message(): string {
    return `campaign "${this.name}" is not in the store: load it first with its file`
  }
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /**
   * Loads `rows` as the campaign `name`, once: a second load with the same `fileFingerprint` is a
   * no-op (`loaded` false), one with another fails with {@link CampaignFileMismatch}. Concurrent loads of
   * the same name: one loads, the others join.
   */
  readonly load: (
    name: string,
    fileFingerprint: string,
    rows: ReadonlyArray<Input>
  ) => Effect.Effect<Handle, SqlError.SqlError | CampaignFileMismatch>
  /** The campaign `name`, loaded before (from any machine). */
  readonly join: (name: string) => Effect.Effect<Handle, SqlError.SqlError | CampaignNotFound>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class Campaign extends Context.Tag("@esms-effect/store-pg/Campaign")<Campaign, Service>() {}

/** The default lease: long enough for a send and its retries, short enough that a dead worker's rows go on soon. @since 0.1.0 */
export const DEFAULT_LEASE: Duration.Duration = Duration.seconds(30)

interface Row {
  readonly line: number
  readonly request_id: string
  readonly data: unknown
  readonly state: State
  readonly worker: string | null
  readonly lease_until: Date | null
  readonly sent: boolean
  readonly attempts: number
  readonly tag: string | null
  readonly code: string | null
  readonly sms_id: string | null
  readonly detail: string | null
  readonly updated_at: Date
}

const toEntry = (row: Row): Entry => ({
  line: row.line,
  requestId: row.request_id,
  data: row.data,
  state: row.state,
  worker: row.worker ?? undefined,
  leaseUntil: row.lease_until ?? undefined,
  sentBefore: row.sent,
  attempts: row.attempts,
  tag: row.tag ?? undefined,
  code: row.code ?? undefined,
  smsId: row.sms_id ?? undefined,
  detail: row.detail ?? undefined,
  updatedAt: row.updated_at
})

const LOAD_CHUNK = 1000

/**
 * The service on the SQL client in context (the schema made by `PgStore.layer`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: Effect.Effect<Service, never, SqlClient.SqlClient> = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient

  const handle = (name: string, id: string, size: number, loaded: boolean): Handle => {
    const claim = (worker: string, max: number, lease: Duration.DurationInput) =>
      sql<Row>`WITH picked AS (
          SELECT line FROM esms_campaign_rows
          WHERE campaign = ${name} AND (state = 'pending'
            OR (state IN ('leased', 'in_flight') AND lease_until < clock_timestamp()))
          ORDER BY line
          LIMIT ${Math.max(1, Math.floor(max))}
          FOR UPDATE SKIP LOCKED
        )
        UPDATE esms_campaign_rows r SET state = 'leased', worker = ${worker},
          lease_until = clock_timestamp() + ${Duration.toMillis(lease)} * interval '1 millisecond',
          attempts = r.attempts + 1, updated_at = clock_timestamp()
        FROM picked WHERE r.campaign = ${name} AND r.line = picked.line
        RETURNING r.*`.pipe(
        Effect.map((rows) =>
          rows.map((row): Claimed => ({
            line: row.line,
            requestId: row.request_id,
            data: row.data,
            sentBefore: row.sent,
            attempts: row.attempts
          })).sort((a, b) => a.line - b.line)
        )
      )

    const inFlightAll = (worker: string, lines: ReadonlyArray<number>) =>
      sql<{ line: number }>`UPDATE esms_campaign_rows SET state = 'in_flight', sent = true,
          updated_at = clock_timestamp()
        WHERE campaign = ${name} AND ${sql.in("line", lines)} AND worker = ${worker}
          AND state IN ('leased', 'in_flight') AND lease_until > clock_timestamp()
        RETURNING line`.pipe(Effect.map((rows) => rows.map((row) => row.line)))

    const settleAll = (
      worker: string,
      settlements: ReadonlyArray<{ readonly line: number; readonly settlement: Journal.Settlement }>
    ) => {
      // One parameter for any number of rows: a JSON array of the columns each row takes.
      const values = JSON.stringify(
        settlements.map(({ line, settlement }) => ({ line, ...Journal.settlementColumns(settlement) }))
      )
      return sql<{ line: number }>`UPDATE esms_campaign_rows r SET state = v.state, tag = v.tag, code = v.code,
          sms_id = v.sms_id, detail = v.detail, lease_until = NULL, updated_at = clock_timestamp()
        FROM jsonb_to_recordset(${values}::jsonb)
          AS v(line integer, state text, tag text, code text, sms_id text, detail text)
        WHERE r.campaign = ${name} AND r.line = v.line AND r.worker = ${worker}
          AND r.state IN ('leased', 'in_flight')
        RETURNING r.line`.pipe(Effect.map((rows) => rows.map((row) => row.line)))
    }

    const inFlight = (worker: string, line: number) =>
      Effect.map(inFlightAll(worker, [line]), (lines) => lines.length > 0)

    const settle = (worker: string, line: number, settlement: Journal.Settlement) =>
      Effect.map(settleAll(worker, [{ line, settlement }]), (lines) => lines.length > 0)

    const invalid = (worker: string, line: number, detail: string) =>
      sql`UPDATE esms_campaign_rows SET state = 'invalid', detail = ${detail}, lease_until = NULL,
          updated_at = clock_timestamp()
        WHERE campaign = ${name} AND line = ${line} AND worker = ${worker} AND state = 'leased'
        RETURNING line`.pipe(Effect.map((rows) => rows.length > 0))

    const extend = (worker: string, lease: Duration.DurationInput) =>
      sql`UPDATE esms_campaign_rows
        SET lease_until = clock_timestamp() + ${Duration.toMillis(lease)} * interval '1 millisecond'
        WHERE campaign = ${name} AND worker = ${worker} AND state IN ('leased', 'in_flight')
        RETURNING line`.pipe(Effect.map((rows) => rows.length))

    const release = (worker: string, unstarted: ReadonlyArray<number> = []) =>
      sql`UPDATE esms_campaign_rows SET state = 'pending', worker = NULL, lease_until = NULL,
          updated_at = clock_timestamp()
        WHERE campaign = ${name} AND worker = ${worker}
          AND (state = 'leased' OR (state = 'in_flight' AND ${sql.in("line", unstarted)}))
        RETURNING line`.pipe(Effect.map((rows) => rows.length))

    const retryFailed = sql`UPDATE esms_campaign_rows SET state = 'pending', worker = NULL, lease_until = NULL,
        updated_at = clock_timestamp()
      WHERE campaign = ${name} AND state = 'failed'
      RETURNING line`.pipe(Effect.map((rows) => rows.length))

    const counts = sql<{ state: State; n: string }>`SELECT state, count(*) AS n FROM esms_campaign_rows
      WHERE campaign = ${name} GROUP BY state`.pipe(
      Effect.map((rows) => {
        const result = Object.fromEntries(states.map((s) => [s, 0])) as Record<State, number>
        for (const row of rows) result[row.state] = Number(row.n)
        return result
      })
    )

    const outstanding = (worker: string) =>
      sql<{ claimable: string; others: string; next_ms: number | null }>`SELECT
          count(*) FILTER (WHERE state = 'pending' OR lease_until < clock_timestamp()) AS claimable,
          count(*) FILTER (WHERE state IN ('leased', 'in_flight') AND lease_until >= clock_timestamp()
            AND worker IS DISTINCT FROM ${worker}) AS others,
          (EXTRACT(EPOCH FROM min(lease_until) FILTER (WHERE state IN ('leased', 'in_flight')
            AND lease_until >= clock_timestamp() AND worker IS DISTINCT FROM ${worker})
            - clock_timestamp()) * 1000)::float8 AS next_ms
        FROM esms_campaign_rows
        WHERE campaign = ${name} AND state IN ('pending', 'leased', 'in_flight')`.pipe(
        Effect.map(([row]): Outstanding => ({
          claimable: Number(row?.claimable ?? 0),
          leasedByOthers: Number(row?.others ?? 0),
          nextExpiry: row?.next_ms == null ? Option.none() : Option.some(Duration.millis(Math.max(0, row.next_ms)))
        }))
      )

    const get = (line: number) =>
      sql<Row>`SELECT * FROM esms_campaign_rows WHERE campaign = ${name} AND line = ${line}`.pipe(
        Effect.map((rows) => Option.map(Option.fromNullable(rows[0]), toEntry))
      )

    const inState = (state: State) =>
      sql<Row>`SELECT * FROM esms_campaign_rows WHERE campaign = ${name} AND state = ${state} ORDER BY line`.pipe(
        Effect.map((rows) => rows.map(toEntry))
      )

    return {
      name,
      id,
      size,
      loaded,
      claim,
      inFlight,
      inFlightAll,
      settle,
      settleAll,
      invalid,
      extend,
      release,
      retryFailed,
      counts,
      outstanding,
      get,
      inState
    }
  }

  const find = (name: string) =>
    sql<{ id: string; file_fingerprint: string; size: number }>`SELECT id, file_fingerprint, size
      FROM esms_campaigns WHERE name = ${name}`.pipe(Effect.map((rows) => Option.fromNullable(rows[0])))

  const load = (name: string, fileFingerprint: string, rows: ReadonlyArray<Input>) =>
    Effect.gen(function*() {
      const id = randomBytes(6).toString("hex")
      // The campaign's row is the claim on the name: a concurrent load waits on it, then finds it.
      const created = yield* sql`INSERT INTO esms_campaigns (name, id, file_fingerprint, size)
        VALUES (${name}, ${id}, ${fileFingerprint}, ${rows.length})
        ON CONFLICT (name) DO NOTHING
        RETURNING id`
      if (created.length === 0) {
        const existing = Option.getOrThrow(yield* find(name))
        if (existing.file_fingerprint !== fileFingerprint) {
          return yield* new CampaignFileMismatch({ name, size: existing.size, newSize: rows.length })
        }
        return handle(name, existing.id, existing.size, false)
      }
      for (let i = 0; i < rows.length; i += LOAD_CHUNK) {
        const chunk = rows.slice(i, i + LOAD_CHUNK).map((row) => ({
          campaign: name,
          line: row.line,
          request_id: Journal.requestIdOf(id, row.line),
          data: JSON.stringify(row.data ?? null)
        }))
        yield* sql`INSERT INTO esms_campaign_rows ${sql.insert(chunk)}`
      }
      return handle(name, id, rows.length, true)
    }).pipe(sql.withTransaction)

  const join = (name: string) =>
    Effect.flatMap(find(name), (found) =>
      Option.match(found, {
        onNone: () => Effect.fail(new CampaignNotFound({ name })),
        onSome: (c) => Effect.succeed(handle(name, c.id, c.size, false))
      }))

  return Campaign.of({ load, join })
})

/**
 * The `Campaign` service on the SQL client in context; provide `PgStore.layer`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<Campaign, never, SqlClient.SqlClient> = Layer.effect(Campaign, make)
