/**
 * @since 0.1.0
 */
export * as CallbackCollector from "./CallbackCollector.js"
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
