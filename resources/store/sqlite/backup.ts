// Online backup of the SQLite files of a data directory into a backup directory, and its restore. Each file is
// copied with VACUUM INTO on a connection of its own: one read transaction, so the copy is the state of one moment
// even while the server goes on writing (WAL mode lets a reader and the writer work at once), and the copy is
// encrypted with the key of the source. (SQLite's backup API, better-sqlite3's db.backup, refuses an encrypted
// source, and restarts whenever another connection writes during the copy.)
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { StoreConfigError } from '../config-error';
import { checkFile } from './rekey';
import { DatabaseInUseError, isInUse, openDatabase } from './open-database';

export const MANIFEST_FILE = 'manifest.json';
const FORMAT = 'hms-sqlite-backup';
/** The live file's name plus this is where a restore keeps the file it replaced. */
export const BEFORE_RESTORE = '.before-restore';
/** A live file's companions, which belong to it and move with it. */
const COMPANIONS = ['', '-wal', '-shm'];

export interface BackupManifest {
  format: typeof FORMAT;
  version: 1;
  createdAt: string;
  /** Whether the files are encrypted (with the key the data directory had). */
  encrypted: boolean;
  files: { name: string; bytes: number; sha256: string }[];
}

/**
 * Copies each of `names` that exists in `dataDir` into the new directory `target`, checks each copy, and writes the
 * manifest last: a directory without one is an unfinished backup. Throws when `target` exists and is not empty.
 */
export function backupDataDir(
  dataDir: string,
  target: string,
  names: string[],
  key: string | undefined,
): BackupManifest {
  if (fs.existsSync(target) && fs.readdirSync(target).length > 0) {
    throw new StoreConfigError(`${target} exists and is not empty: give a new directory for the backup`);
  }
  fs.mkdirSync(target, { recursive: true, mode: 0o700 });
  const files: BackupManifest['files'] = [];
  for (const name of names) {
    const source = path.join(dataDir, name);
    if (!fs.existsSync(source)) continue;
    const copy = path.join(target, name);
    copyConsistently(source, copy, key);
    checkFile(copy, key, 'integrity_check');
    files.push({ name, bytes: fs.statSync(copy).size, sha256: sha256(copy) });
  }
  if (files.length === 0)
    throw new StoreConfigError(`${dataDir} holds none of ${names.join(', ')}: nothing to back up`);
  const manifest: BackupManifest = {
    format: FORMAT,
    version: 1,
    createdAt: new Date().toISOString(),
    encrypted: key !== undefined,
    files,
  };
  writeDurably(path.join(target, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/**
 * Replaces the files `names` of `dataDir` with those of the backup in `source`. Refuses, changing nothing, unless
 * every file of the backup is intact (checksum and SQLite's integrity_check with `key`) and no live file is in
 * use. Each live file replaced (or absent from the backup) is kept beside it as NAME.before-restore.
 */
export function restoreDataDir(source: string, dataDir: string, names: string[], key: string | undefined): string[] {
  const manifest = readManifest(source, names, key);
  const live = names.map((name) => path.join(dataDir, name));
  for (const file of live) if (isInUse(file)) throw new DatabaseInUseError(file);
  for (const file of live) {
    if (fs.existsSync(file) && fs.existsSync(file + BEFORE_RESTORE)) {
      throw new StoreConfigError(`${file + BEFORE_RESTORE} is left from an earlier restore: move it away first`);
    }
  }
  fs.mkdirSync(dataDir, { recursive: true });
  for (const file of live) {
    for (const suffix of COMPANIONS) moveIfPresent(file + suffix, file + BEFORE_RESTORE + suffix);
  }
  for (const { name } of manifest.files) {
    const partial = path.join(dataDir, `${name}.restoring`);
    fs.copyFileSync(path.join(source, name), partial);
    syncFile(partial);
    fs.renameSync(partial, path.join(dataDir, name));
  }
  syncFile(dataDir);
  return manifest.files.map((f) => f.name);
}

/** VACUUM INTO a temporary name, renamed once complete, so no half-written copy ever carries the final name. */
function copyConsistently(source: string, copy: string, key: string | undefined): void {
  const partial = `${copy}.partial`;
  fs.rmSync(partial, { force: true });
  const db = openDatabase(source, { key });
  try {
    db.prepare('VACUUM INTO ?').run(partial);
  } finally {
    db.close();
  }
  // The copy holds what the store holds; only its owner reads it (SQLite creates files for everyone to read).
  fs.chmodSync(partial, 0o600);
  syncFile(partial);
  fs.renameSync(partial, copy);
}

function readManifest(source: string, names: string[], key: string | undefined): BackupManifest {
  const file = path.join(source, MANIFEST_FILE);
  if (!fs.existsSync(file)) throw new StoreConfigError(`${source} is not a finished backup (no ${MANIFEST_FILE})`);
  const manifest = JSON.parse(fs.readFileSync(file, 'utf8')) as BackupManifest;
  if (manifest.format !== FORMAT || manifest.version !== 1 || !Array.isArray(manifest.files)) {
    throw new StoreConfigError(`${file} is not a manifest of this server's backups`);
  }
  if (manifest.encrypted && key === undefined) {
    throw new StoreConfigError('the backup is encrypted: set HMS_DATA_KEY to the key it was made with');
  }
  if (!manifest.encrypted && key !== undefined) {
    throw new StoreConfigError(
      'the backup is not encrypted: restore it without HMS_DATA_KEY, then encrypt it with `hms rekey`',
    );
  }
  for (const { name, sha256: expected } of manifest.files) {
    if (!names.includes(name)) throw new StoreConfigError(`${file} lists an unknown file ${name}`);
    const copy = path.join(source, name);
    if (!fs.existsSync(copy) || sha256(copy) !== expected) {
      throw new StoreConfigError(`${copy} is missing or damaged (its checksum differs from the manifest's)`);
    }
    checkFile(copy, key, 'integrity_check');
  }
  return manifest;
}

function moveIfPresent(from: string, to: string): void {
  if (fs.existsSync(from)) fs.renameSync(from, to);
}

/** Read in chunks: a store file can be larger than a Buffer may be. */
function sha256(file: string): string {
  const hash = createHash('sha256');
  const chunk = Buffer.alloc(1024 * 1024);
  const fd = fs.openSync(file, 'r');
  try {
    for (let n = fs.readSync(fd, chunk); n > 0; n = fs.readSync(fd, chunk)) hash.update(chunk.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest('hex');
}

function writeDurably(file: string, text: string): void {
  fs.writeFileSync(file, text, { mode: 0o600 });
  syncFile(file);
  syncFile(path.dirname(file));
}

/** fsync of a file or a directory (a rename is durable once its directory is synced). */
function syncFile(file: string): void {
  const fd = fs.openSync(file, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
