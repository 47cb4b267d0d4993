/* global URL */
/**
 * The bench scripts live outside the workspace packages, so bare imports ("effect", "undici",
 * "@esms-effect/http-client") are resolved as from packages/http-client, which depends on all of them:
 * the bench then loads the very module instances the client uses.
 */
const PARENT = new URL("../packages/http-client/package.json", import.meta.url).href
const BENCH = new URL("./", import.meta.url).href

export const resolve = (specifier, context, next) =>
  context.parentURL?.startsWith(BENCH) && !/^(\.|\/|node:|file:|data:)/.test(specifier)
    ? next(specifier, { ...context, parentURL: PARENT })
    : next(specifier, context)
