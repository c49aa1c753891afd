#!/usr/bin/env node
// The installed command: runs the bundled engine's CLI (npm run build makes dist/engine.js). The
// bundle runs its CLI by itself only as the main module, so the bin calls it.
const { main } = require('../dist/engine.js');
main(process.argv.slice(2)).then((code) => process.exit(code));
