#!/usr/bin/env node
// The installed command runs the compiled build (npm run build); in a checkout, `npx tsx src/cli/main.ts` needs no build.
import '../dist/cli/main.js';
