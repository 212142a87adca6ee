#!/usr/bin/env node
// Entry point of the built CLI; `npm run build` produces dist/.
import '../dist/src/cli/payctl.js';
