// The SQLite files of the embedded store under DATA_DIR: resources, auth records, HL7 messages. Backups, restores
// and rekeys treat them together.
import fs from 'node:fs';
import path from 'node:path';
import { AUTH_FILE_NAME } from './auth/records';
import { HL7_FILE_NAME } from '../integrations/hl7v2/message-store';
import { SQLITE_FILE_NAME } from '../resources/store';

export const DATA_FILES = [SQLITE_FILE_NAME, AUTH_FILE_NAME, HL7_FILE_NAME];

/** The data files that exist in `dataDir`. */
export function existingDataFiles(dataDir: string): string[] {
  return DATA_FILES.map((name) => path.join(dataDir, name)).filter((file) => fs.existsSync(file));
}
