#!/usr/bin/env -S node --max-semi-space-size=64
// The `hms` admin command: runs the compiled CLI (`npm install` and `npm start` build it into dist/). Node
// runs with the young generation `npm start` gives the server (see the README's Run it).
const path = require('node:path');
const fs = require('node:fs');
const cli = path.join(__dirname, '..', 'dist', 'server', 'cli.js');
if (!fs.existsSync(cli)) {
  process.stderr.write('hms: not built yet; run `npm run build` first\n');
  process.exit(2);
}
require(cli)
  .main(process.argv.slice(2))
  .then((code) => {
    if (process.argv[2] !== 'serve') process.exit(code);
  });
