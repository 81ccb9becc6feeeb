// The authorization server's own state (clients, users, signing keys, grants, tokens, codes, sessions, the
// client-assertion replay cache): small keyed records with an expiry, kept beside the resources in the
// configured store so that the CLI and every app node see the same state.

export interface AuthRecord<T> {
  key: string;
  value: T;
  /** Epoch ms after which the record no longer exists; absent: kept until deleted. */
  expiresAt?: number;
}

/** Atomic single use: the value, and whether this call was the first to consume it. */
export interface Consumed<T> {
  value: T;
  first: boolean;
}

export interface AuthRecords {
  /** Inserts the record; false (and nothing changes) when a live record with this key exists. */
  insert<T>(kind: string, record: AuthRecord<T>): Promise<boolean>;
  /** Inserts or replaces. */
  put<T>(kind: string, record: AuthRecord<T>): Promise<void>;
  /** The live record's value; undefined when there is none or it expired. */
  get<T>(kind: string, key: string): Promise<T | undefined>;
  /** Marks the live record consumed; `first` is true for exactly one caller. Undefined when there is none. */
  consume<T>(kind: string, key: string): Promise<Consumed<T> | undefined>;
  /** Deletes the record; false when there was none. */
  delete(kind: string, key: string): Promise<boolean>;
  /** Every live record of a kind, by key. */
  list<T>(kind: string): Promise<AuthRecord<T>[]>;
  /** Removes expired records. */
  purgeExpired(): Promise<number>;
  close(): Promise<void>;
}
