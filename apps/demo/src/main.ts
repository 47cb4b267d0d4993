/**
 * `pnpm demo`: runs the story and exits (0 when it was told to the end).
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Demo from "./Demo.js"

Demo.main.pipe(NodeRuntime.runMain({ disableErrorReporting: true }))
