/**
 * The `esms` executable.
 *
 * @since 0.1.0
 */
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeTerminal from "@effect/platform-node/NodeTerminal"
import { NodeEsmsClient } from "@esms-effect/http-client"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Cli from "./Cli.js"
import * as Scheduler from "./internal/scheduler.js"
import * as TerminalColour from "./TerminalColour.js"

// Only the services the commands use (not all of NodeContext): less to load at every start.
const MainLive = Layer.mergeAll(
  NodeFileSystem.layer,
  NodePath.layer,
  NodeTerminal.layer,
  NodeEsmsClient.layerHttpClient()
)

Cli.main(process.argv).pipe(
  // Colour codes only where the stream is a terminal (or FORCE_COLOR says so), not into a pipe or file.
  TerminalColour.apply(TerminalColour.ofProcess()),
  Effect.provide(MainLive),
  // The event loop gets its turn (timers, sockets) every 32 rounds of fiber work, not 2,048.
  Scheduler.fair,
  NodeRuntime.runMain({
    disableErrorReporting: false,
    // Cli.main logs to stderr itself; the pretty logger would write to stdout, beside the --json object.
    disablePrettyLogger: true,
    teardown: (exit, onExit) =>
      onExit(
        Exit.isSuccess(exit)
          ? Number(exit.value)
          : Exit.isInterrupted(exit)
          ? Cli.INTERRUPTED_EXIT_CODE
          : Cli.BUG_EXIT_CODE
      )
  })
)
