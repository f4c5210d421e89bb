#!/usr/bin/env node
// The CLI shim: all of the CLI lives in the built dist/cli module.
require('../dist/cli/index.js').main(process.argv)
