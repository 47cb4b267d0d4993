#!/usr/bin/env node
// The CLI is one bundled file (see bundle.mjs), run from V8's code cache (see load.js): it starts
// several times faster than the separate modules of dist/bin.js.
import { run } from "./load.js"

run()
