/**
 * @since 0.1.0
 */
export * as Credentials from "./Credentials.js"
/**
 * @since 0.1.0
 */
export * as DeliveryReport from "./DeliveryReport.js"
/**
 * @since 0.1.0
 */
export * as ImageError from "./ImageError.js"
/**
 * @since 0.1.0
 */
export * as Network from "./Network.js"
/**
 * @since 0.1.0
 */
export * as ResultCode from "./ResultCode.js"
/**
 * @since 0.1.0
 */
export * as SendRequest from "./SendRequest.js"
/**
 * @since 0.1.0
 */
export * as SendResponse from "./SendResponse.js"
/**
 * @since 0.1.0
 */
export * as ZaloMessage from "./ZaloMessage.js"
