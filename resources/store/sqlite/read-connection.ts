// A read-only connection on the store file: the store's reader, and each search worker's. In a file of its own so
// a search worker does not load the whole store (writer, group commit, checkpointer) to open one.
import type Database from 'better-sqlite3-multiple-ciphers';
import { openDatabase } from './open-database';

export function openReadConnection(file: string, key: string | undefined): Database.Database {
  const db = openDatabase(file, { readonly: true, key });
  db.pragma('busy_timeout = 5000');
  db.pragma('cache_size = -65536');
  return db;
}
