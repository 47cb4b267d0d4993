/**
 * @since 0.1.0
 */
export * as CallbacksCommand from "./CallbacksCommand.js"
/**
 * @since 0.1.0
 */
export * as Cli from "./Cli.js"
/**
 * @since 0.1.0
 */
export * as Completions from "./Completions.js"
/**
 * @since 0.1.0
 */
export * as ExitStatus from "./ExitStatus.js"
/**
 * @since 0.1.0
 */
export * as Outcome from "./Outcome.js"
/**
 * @since 0.1.0
 */
export * as Overrides from "./Overrides.js"
/**
 * @since 0.1.0
 */
export * as SendImageCommand from "./SendImageCommand.js"
/**
 * @since 0.1.0
 */
export * as SimulatorCommand from "./SimulatorCommand.js"
/**
 * @since 0.1.0
 */
export * as StatusCommand from "./StatusCommand.js"
/**
 * @since 0.1.0
 */
export * as TerminalColour from "./TerminalColour.js"
/**
 * @since 0.1.0
 */
export * as TerminalText from "./TerminalText.js"
