/**
 * The `esms` executable.
 *
 * @since 0.1.0
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { NodeEsmsClient } from "@esms-effect/http-client"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Cli from "./Cli.js"

const MainLive = Layer.mergeAll(NodeContext.layer, NodeEsmsClient.layerHttpClient())

Cli.main(process.argv).pipe(
  Effect.provide(MainLive),
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
