// The key of the SQLite files this process opens (HMS_DATA_KEY). The resource store, the auth records and the
// HL7 messages are opened in many places (the server, each `hms` command, tests); the entry point sets the key
// once and every opener takes it from here instead of having it passed through each layer. Worker threads get it
// in their workerData, since they do not share this module.
let current: string | undefined;

/** Sets the key for every SQLite file opened from now on; undefined: files are not encrypted. */
export function useDataKey(key: string | undefined): void {
  current = key;
}

export function dataKey(): string | undefined {
  return current;
}
