/**
 * @since 0.1.0
 */
export * as CallbackReceiver from "./CallbackReceiver.js"
/**
 * @since 0.1.0
 */
export * as CallbackToken from "./CallbackToken.js"
/**
 * @since 0.1.0
 */
export * as DeliveryStatus from "./DeliveryStatus.js"
