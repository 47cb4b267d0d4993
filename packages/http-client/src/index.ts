/**
 * @since 0.1.0
 */
export * as EsmsClient from "./EsmsClient.js"
/**
 * @since 0.1.0
 */
export * as ImageCheck from "./ImageCheck.js"
/**
 * @since 0.1.0
 */
export * as NodeEsmsClient from "./NodeEsmsClient.js"
/**
 * @since 0.1.0
 */
export * as TransportError from "./TransportError.js"
/**
 * @since 0.1.0
 */
export * as UndiciHttpClient from "./UndiciHttpClient.js"
/**
 * @since 0.1.0
 */
export * as BatchOutcome from "./BatchOutcome.js"
/**
 * @since 0.1.0
 */
export * as SendStatus from "./SendStatus.js"
/**
 * @since 0.2.0
 */
export * as RateLimiter from "./RateLimiter.js"
