#!/usr/bin/env node
// The whole CLI bundled in one file (see bundle.mjs): it starts several times faster than dist/bin.js.
import "../dist/esms.js"
