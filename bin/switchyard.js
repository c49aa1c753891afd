#!/usr/bin/env node
// The installed command: runs the bundled engine (npm run build makes dist/engine.js).
require('../dist/engine.js');
