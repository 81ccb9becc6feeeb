// Where the delivery checkpoint lives: the store's blob storage, under keys no Binary can have, in two slots
// written in turn. Saved about once a second while events flow, it would make the job Task's history grow by
// a version a second; a blob is replaced in place. Each save empties the older slot and then writes it, so a
// crash between the two leaves the other slot's checkpoint (the highest sequence number of the two wins).
import type { ResourceStore } from '../store/port';
import { readCheckpoint, type DeliveryCheckpoint } from './checkpoint';

/** A colon is not allowed in FHIR ids: no Binary has these keys. */
const SLOTS = ['subscriptions:delivery-checkpoint:0', 'subscriptions:delivery-checkpoint:1'];
const VERSION = 1;

interface Saved {
  sequence: number;
  checkpoint: unknown;
}

export class CheckpointStore {
  private sequence = 0;

  constructor(private readonly store: ResourceStore) {}

  /**
   * The latest checkpoint saved, to write after; undefined when there is none (or the store keeps no blobs).
   * Only the delivering node reads it this way: the next write numbers on from it.
   */
  async read(): Promise<DeliveryCheckpoint | undefined> {
    const latest = await this.latest();
    this.sequence = latest?.sequence ?? 0;
    return latest && readCheckpoint(latest.checkpoint);
  }

  /** The latest checkpoint saved, for a node that does not deliver (what it reads changes no numbering). */
  async peek(): Promise<DeliveryCheckpoint | undefined> {
    const latest = await this.latest();
    return latest && readCheckpoint(latest.checkpoint);
  }

  private async latest(): Promise<Saved | undefined> {
    let latest: Saved | undefined;
    for (const key of SLOTS) {
      const saved = parse(await this.store.readBinaryData?.(key, VERSION));
      if (saved && (!latest || saved.sequence > latest.sequence)) latest = saved;
    }
    return latest;
  }

  /** Durable when this resolves. */
  async write(checkpoint: DeliveryCheckpoint): Promise<void> {
    const sequence = this.sequence + 1;
    const key = SLOTS[sequence % SLOTS.length];
    const bytes = Buffer.from(JSON.stringify({ sequence, checkpoint } satisfies Saved));
    // Emptied first in a transaction of its own: on MongoDB a blob delete runs after its transaction commits.
    await this.store.transaction(async (tx) => tx.deleteBinaryData?.(key, VERSION));
    await this.store.transaction(async (tx) => {
      if (!tx.writeBinaryData) throw new Error('This store keeps no blobs: it cannot hold the delivery checkpoint');
      await tx.writeBinaryData(key, VERSION, bytes);
    });
    this.sequence = sequence;
  }
}

function parse(bytes: Buffer | undefined): Saved | undefined {
  if (!bytes || bytes.length === 0) return undefined;
  try {
    const saved = JSON.parse(bytes.toString('utf8')) as Partial<Saved>;
    return Number.isSafeInteger(saved.sequence)
      ? { sequence: saved.sequence as number, checkpoint: saved.checkpoint }
      : undefined;
  } catch {
    return undefined;
  }
}
