/**
 * Ready production layers: `EsmsClient` on {@link UndiciHttpClient}, a lean keep-alive `HttpClient`
 * for Node.
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Layer from "effect/Layer"
import * as EsmsClient from "./EsmsClient.js"
import * as UndiciHttpClient from "./UndiciHttpClient.js"

/**
 * The `HttpClient` the production layers use, with a keep-alive pool sized by `transport`
 * ({@link UndiciHttpClient.defaults} when absent).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerHttpClient = (transport?: UndiciHttpClient.Options): Layer.Layer<HttpClient.HttpClient> =>
  UndiciHttpClient.layer(transport)

/**
 * `EsmsClient` from explicit options, on Node.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: EsmsClient.Options,
  transport?: UndiciHttpClient.Options
): Layer.Layer<EsmsClient.EsmsClient, EsmsClient.InvalidConfiguration> =>
  EsmsClient.layer(options).pipe(Layer.provide(layerHttpClient(transport)))

/**
 * `EsmsClient` from the `ESMS_*` environment variables (or the given config), on Node.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  options?: Config.Config<EsmsClient.Options>,
  transport?: UndiciHttpClient.Options
): Layer.Layer<EsmsClient.EsmsClient, ConfigError.ConfigError | EsmsClient.InvalidConfiguration> =>
  EsmsClient.layerConfig(options).pipe(Layer.provide(layerHttpClient(transport)))
