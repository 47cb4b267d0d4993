/**
 * @since 0.1.0
 */
export * as DeliveryReports from "./DeliveryReports.js"
/**
 * @since 0.1.0
 */
export * as Journal from "./Journal.js"
/**
 * @since 0.1.0
 */
export * as SentRequests from "./SentRequests.js"
