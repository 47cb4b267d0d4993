/**
 * @since 0.1.0
 */
export * as Campaign from "./Campaign.js"
/**
 * @since 0.1.0
 */
export * as PgDeliveryReports from "./PgDeliveryReports.js"
/**
 * @since 0.1.0
 */
export * as PgJournal from "./PgJournal.js"
/**
 * @since 0.1.0
 */
export * as PgRateLimiter from "./PgRateLimiter.js"
/**
 * @since 0.1.0
 */
export * as PgSentRequests from "./PgSentRequests.js"
/**
 * @since 0.1.0
 */
export * as PgStore from "./PgStore.js"
