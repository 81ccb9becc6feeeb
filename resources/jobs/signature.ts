// Job Tasks are resources, so a client allowed to write Tasks could write one that looks like a job (an export
// with grants it does not have, say). Every job the server queues is signed (HMAC-SHA256 of its kind and
// input) with a key all nodes share, kept in the store's blob storage under a key no FHIR request can reach;
// a runner runs only jobs whose signature checks.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { TaskInput } from '@medplum/fhirtypes';
import type { ResourceStore } from '../store/port';

/** A colon is not allowed in FHIR ids, so no Binary can have this key. */
const KEY_ID = 'jobs:signing-key';
const KEY_VERSION = 1;

export class JobSigner {
  private key?: Promise<Buffer>;
  /** False when the store could not keep the key: it is this process's own, other nodes cannot check it. */
  private shared = true;

  constructor(private readonly store: ResourceStore) {}

  async sign(kind: string, input: TaskInput[] | undefined): Promise<string> {
    return mac(await this.currentKey(), kind, input);
  }

  async verify(kind: string, input: TaskInput[] | undefined, signature: string | undefined): Promise<boolean> {
    if (!signature) return false;
    if (matches(mac(await this.currentKey(), kind, input), signature)) return true;
    // Another node may have created the key at the same moment as this one and won: read it again, once.
    this.key = undefined;
    return matches(mac(await this.currentKey(), kind, input), signature);
  }

  /** True when other nodes check with the same key, so a mismatch means a job no server node queued. */
  async isShared(): Promise<boolean> {
    await this.currentKey();
    return this.shared;
  }

  private currentKey(): Promise<Buffer> {
    this.key ??= this.loadKey();
    return this.key;
  }

  /** The shared key, created on first use; without blob storage, a key for this process only. */
  private async loadKey(): Promise<Buffer> {
    const { store } = this;
    const existing = await store.readBinaryData?.(KEY_ID, KEY_VERSION);
    if (existing && existing.length > 0) return existing;
    try {
      await store.transaction(async (tx) => {
        if (!tx.writeBinaryData) throw new Error('no blob storage');
        await tx.writeBinaryData(KEY_ID, KEY_VERSION, randomBytes(32));
      });
      return (await store.readBinaryData?.(KEY_ID, KEY_VERSION)) as Buffer;
    } catch {
      // A MongoDB store opened without a bucket (tests): jobs still run, checked by this node only.
      this.shared = false;
      return randomBytes(32);
    }
  }
}

function mac(key: Buffer, kind: string, input: TaskInput[] | undefined): string {
  return createHmac('sha256', key)
    .update(`${kind}\n${JSON.stringify(input ?? [])}`)
    .digest('base64url');
}

function matches(expected: string, actual: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(actual);
  return a.length === b.length && timingSafeEqual(a, b);
}
