/**
 * Ready production layers: `EsmsClient` on Node's undici-based `HttpClient`.
 *
 * @since 0.1.0
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import type * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Layer from "effect/Layer"
import * as EsmsClient from "./EsmsClient.js"

/**
 * `EsmsClient` from explicit options, on Node.
 *
 * @since 0.1.0
 */
export const layer = (
  options: EsmsClient.Options
): Layer.Layer<EsmsClient.EsmsClient, EsmsClient.InvalidConfiguration> =>
  EsmsClient.layer(options).pipe(Layer.provide(NodeHttpClient.layerUndici))

/**
 * `EsmsClient` from the `ESMS_*` environment variables (or the given config), on Node.
 *
 * @since 0.1.0
 */
export const layerConfig = (
  options?: Config.Config<EsmsClient.Options>
): Layer.Layer<EsmsClient.EsmsClient, ConfigError.ConfigError | EsmsClient.InvalidConfiguration> =>
  EsmsClient.layerConfig(options).pipe(Layer.provide(NodeHttpClient.layerUndici))
