#!/usr/bin/env node
// `npm ci` runs this (the "install" script): it builds native/tftp_pump.c with node-gyp
// (binding.gyp), the data phase of TFTP reads. polyprov runs without it, TFTP reads then run in
// TypeScript at about half the lock-step speed, so a missing compiler is a warning here, not a
// failed install; `polyprov serve` repeats the warning, and CI's test of the pump fails loudly.
import { spawnSync } from 'node:child_process';

// Inside npm, npm_config_node_gyp is npm's own node-gyp and npm_config_nodedir (if set) its headers.
const gyp = process.env.npm_config_node_gyp;
const [command, args] = gyp ? [process.execPath, [gyp, 'rebuild']] : ['node-gyp', ['rebuild']];
const r = spawnSync(command, args, { stdio: 'inherit' });
if (r.status !== 0) {
  process.stderr.write(
    '\npolyprov: the native TFTP pump was not built (node-gyp needs python3, make and a C compiler).\n' +
      'polyprov works without it; TFTP reads run in TypeScript, about half as fast lock-step.\n' +
      'To build it later: install g++ and make, then run `npm rebuild polyprov` (or `npm ci`).\n\n',
  );
}
