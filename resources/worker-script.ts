// Finds the compiled JavaScript of a worker-thread script. Under ts-jest the sources run from .ts files,
// which a worker cannot load, so the build output (dist/, made by `npm test` first) is used instead.
import fs from 'node:fs';
import path from 'node:path';

/** `dir` is the caller's __dirname, `relative` the script's path from the project root without extension. */
export function compiledWorkerScript(dir: string, relative: string): string | undefined {
  const local = path.join(dir, `${path.basename(relative)}.js`);
  if (fs.existsSync(local)) return local;
  let root = dir;
  while (!fs.existsSync(path.join(root, 'package.json')) && path.dirname(root) !== root) root = path.dirname(root);
  const built = path.join(root, 'dist', `${relative}.js`);
  return fs.existsSync(built) ? built : undefined;
}
