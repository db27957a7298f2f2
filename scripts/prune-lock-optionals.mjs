#!/usr/bin/env node
// The registry this project installs from carries only the platform packages it needs: rollup's
// optional binaries for Android, macOS, Windows… are missing. `npm install` then writes a lock
// whose rollup entry still lists them, and `npm ci` refuses that lock ("Missing: … from lock
// file"). Run this after any `npm install` that touches such a package: it drops from each
// package's optionalDependencies the names the lock holds no entry for.
import { readFileSync, writeFileSync } from 'node:fs';

const file = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(file, 'utf8'));
const present = new Set(Object.keys(lock.packages).map((k) => k.slice(k.lastIndexOf('node_modules/') + 'node_modules/'.length)));
let dropped = 0;
for (const [key, entry] of Object.entries(lock.packages)) {
  for (const name of Object.keys(entry.optionalDependencies ?? {})) {
    if (present.has(name)) continue;
    delete entry.optionalDependencies[name];
    dropped += 1;
    process.stderr.write(`${key}: dropped optional ${name} (not in the registry's lock)\n`);
  }
}
writeFileSync(file, JSON.stringify(lock, null, 2) + '\n');
process.stderr.write(`${dropped} optional dependencies dropped\n`);
