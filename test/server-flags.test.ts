// The server's Node options live in package.json's start script; `hms` and the bench must run it the same way.
import fs from 'node:fs';
import path from 'node:path';
import { startScriptNodeFlags } from './bench/server-process';

test('npm start, the hms command and the bench give Node the same options', () => {
  const flags = startScriptNodeFlags();
  expect(flags).toContain('--max-semi-space-size=64');
  const shebang = fs.readFileSync(path.join(__dirname, '..', 'bin', 'hms.js'), 'utf8').split('\n')[0];
  expect(shebang).toBe(`#!/usr/bin/env -S node ${flags.join(' ')}`);
});
