// Finds the JavaScript the build made of a module: a worker thread's script, or the generated schema validators.
// Under ts-jest the sources run from .ts files, so the build output (dist/, made by `npm test` first) is used.
import fs from 'node:fs';
import path from 'node:path';

/** `dir` is the caller's __dirname, `relative` the module's path from the project root without extension. */
export function builtScript(dir: string, relative: string): string | undefined {
  const local = path.join(dir, `${path.basename(relative)}.js`);
  if (fs.existsSync(local)) return local;
  let root = dir;
  while (!fs.existsSync(path.join(root, 'package.json')) && path.dirname(root) !== root) root = path.dirname(root);
  const built = path.join(root, 'dist', `${relative}.js`);
  return fs.existsSync(built) ? built : undefined;
}
