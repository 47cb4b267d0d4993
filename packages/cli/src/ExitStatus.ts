/**
 * The exit code a command decided on. Commands print their outcome and set it here; `bin.ts`
 * hands it to the process when the program ends.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Ref from "effect/Ref"

/** @since 0.1.0 @category services */
export class ExitStatus extends Context.Tag("@esms-effect/cli/ExitStatus")<ExitStatus, Ref.Ref<number>>() {}

/** A fresh status, 0 until a command says otherwise. @since 0.1.0 @category layers */
export const layer: Layer.Layer<ExitStatus> = Layer.effect(ExitStatus, Ref.make(0))

/** @since 0.1.0 @category accessors */
export const set = (code: number): Effect.Effect<void, never, ExitStatus> =>
  Effect.flatMap(ExitStatus, (ref) => Ref.set(ref, code))

/** @since 0.1.0 @category accessors */
export const get: Effect.Effect<number, never, ExitStatus> = Effect.flatMap(ExitStatus, Ref.get)
