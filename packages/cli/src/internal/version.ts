// Written by scripts/version.mjs from package.json (`pnpm changeset:version`): do not edit.
export const moduleVersion = "0.1.0"
