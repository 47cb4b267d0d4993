/**
 * @since 0.1.0
 */
export * as CallbackReceiver from "./CallbackReceiver.js"
/**
 * @since 0.1.0
 */
export * as DeliveryCallback from "./DeliveryCallback.js"
/**
 * @since 0.1.0
 */
export * as Fault from "./Fault.js"
/**
 * @since 0.1.0
 */
export * as Images from "./Images.js"
/**
 * @since 0.1.0
 */
export * as Simulator from "./Simulator.js"
