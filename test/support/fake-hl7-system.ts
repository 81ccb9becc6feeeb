// A fake receiving system (lab, billing) for the outbound side of the HL7 bridge: an MllpListener on a free
// port (or a given one) on 127.0.0.1 that records every message it receives, in order, and answers each as
// scripted: AA by default, AE / AR with an ERR segment, CA, silence, a dropped connection, an ACK naming
// another control id (which the sender must ignore), or any of these after a delay. Its ACKs are written by
// hand, not with the bridge's own ACK builder, so a bug there cannot hide one in the sender.
import { MllpListener } from '../../integrations/hl7v2/mllp/listener';

export type Reply =
  | 'AA'
  | 'AE'
  | 'AR'
  | 'CA'
  /** Enhanced-mode commit error: "could not take it now, send it again". */
  | 'CE'
  /** Read the message and never answer. */
  | 'silent'
  /** Read the message and destroy the connection. */
  | 'drop'
  /** Answer AA, but with MSA-2 naming another control id. */
  | 'wrong-id'
  /** AE or AR with this ERR-8 text (and ERR-3 code, default 103). */
  | { code: 'AE' | 'AR'; text: string; errorCode?: string }
  | { delayMs: number; then: Reply };

export interface FakeHl7SystemOptions {
  /** Default: a free port. */
  port?: number;
  /** Answer when the script is used up (default AA). */
  reply?: Reply;
  /** MSH-3 / MSH-4 of the ACKs. */
  application?: string;
  facility?: string;
}

const DEFAULT_ERR_TEXT = 'Unknown test code';

class DropConnection extends Error {}

export class FakeHl7System {
  /** Every message received (text decoded per MSH-18, segments split by CR), in arrival order, answered or not. */
  readonly received: string[] = [];
  /** Answer when the script is empty. */
  reply: Reply;
  private readonly script: Reply[] = [];
  private readonly delays = new Set<() => void>();
  private acks = 0;
  private closing?: Promise<void>;

  private constructor(
    private readonly listener: MllpListener,
    private readonly options: FakeHl7SystemOptions,
  ) {
    this.reply = options.reply ?? 'AA';
  }

  static async start(options: FakeHl7SystemOptions = {}): Promise<FakeHl7System> {
    const holder: { fake?: FakeHl7System } = {};
    const listener = await MllpListener.start({
      host: '127.0.0.1',
      port: options.port ?? 0,
      maxFrameBytes: 1 << 22,
      idleTimeoutMs: 60_000,
      // The listener destroys a connection whose handler throws: that is how 'drop' is played.
      onFrame: (payload) => (holder.fake as FakeHl7System).handle(decode(payload)),
    });
    holder.fake = new FakeHl7System(listener, options);
    return holder.fake;
  }

  get port(): number {
    return this.listener.port;
  }

  /** Answers for the next messages, in order; then `reply` again. */
  next(...replies: Reply[]): this {
    this.script.push(...replies);
    return this;
  }

  /** MSH-10 of every message received, in order. */
  controlIds(): string[] {
    return this.received.map((m) => mshField(m, 10));
  }

  /** Resolves once `count` messages have been received (fails at the deadline with what came). */
  async waitFor(count: number, ms = 10_000): Promise<string[]> {
    await eventually(
      () => this.received.length >= count,
      `${count} messages at the fake system`,
      ms,
      () => {
        return `received ${this.received.length}: ${this.received.map((m) => mshField(m, 9)).join(', ')}`;
      },
    );
    return this.received.slice(0, count);
  }

  /** Stops listening; connections are closed and delayed replies are dropped. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const cancel of [...this.delays]) cancel();
      await this.listener.close(200);
    })();
    return this.closing;
  }

  private async handle(text: string): Promise<Buffer | undefined> {
    this.received.push(text.replace(/\r+$/, ''));
    const ack = await this.answer(text, this.script.shift() ?? this.reply);
    return ack === undefined ? undefined : Buffer.from(ack, 'utf8');
  }

  private async answer(text: string, reply: Reply): Promise<string | undefined> {
    if (typeof reply === 'object' && 'delayMs' in reply) {
      const completed = await this.delay(reply.delayMs);
      return completed ? this.answer(text, reply.then) : undefined;
    }
    if (this.closing) return undefined;
    if (reply === 'silent') return undefined;
    if (reply === 'drop') throw new DropConnection('scripted drop');
    if (reply === 'wrong-id') return this.ack(text, 'AA', `NOT-${mshField(text, 10)}`);
    if (reply === 'AE' || reply === 'AR') return this.ack(text, reply, mshField(text, 10), DEFAULT_ERR_TEXT, '103');
    if (typeof reply === 'object') return this.ack(text, reply.code, mshField(text, 10), reply.text, reply.errorCode);
    return this.ack(text, reply, mshField(text, 10));
  }

  /** True when the time passed, false when close() cut it short. */
  private delay(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const cancel = () => {
        clearTimeout(timer);
        this.delays.delete(cancel);
        resolve(false);
      };
      const timer = setTimeout(() => {
        this.delays.delete(cancel);
        resolve(true);
      }, ms);
      this.delays.add(cancel);
    });
  }

  private ack(text: string, code: string, answers: string, errText?: string, errCode = '103'): string {
    const trigger = mshField(text, 9).split('^')[1] ?? '';
    const version = mshField(text, 12) || '2.5.1';
    const msh = [
      'MSH',
      '^~\\&',
      this.options.application ?? 'LIS',
      this.options.facility ?? 'LAB',
      mshField(text, 3),
      mshField(text, 4),
      '20240101120000',
      '',
      `ACK^${trigger}^ACK`,
      `FAKEACK${++this.acks}`,
      mshField(text, 11) || 'P',
      version,
    ].join('|');
    const segments = [msh, `MSA|${code}|${answers}`];
    if (errText !== undefined) segments.push(`ERR||OBR^1^4|${errCode}^Table value not found^HL70357|E||||${errText}`);
    return segments.join('\r');
  }
}

/** The text of a frame as a receiver reads it: Latin-1 when MSH-18 says 8859/1, else UTF-8. */
function decode(payload: Buffer): string {
  const latin1 = payload.toString('latin1');
  return mshField(latin1, 18) === '8859/1' ? latin1 : payload.toString('utf8');
}

/** MSH-n of a message's first MSH segment, numbered as the standard does (MSH-1 is the field separator). */
export function mshField(text: string, n: number): string {
  const msh = text.split('\r').find((s) => s.startsWith('MSH')) ?? '';
  return n === 1 ? (msh[3] ?? '') : (msh.split('|')[n - 1] ?? '');
}

/** SEG-n of the first segment with that name (whole field, escapes kept); '' when absent. */
export function segmentField(text: string, name: string, n: number): string {
  if (name === 'MSH') return mshField(text, n);
  const found = text.split('\r').find((s) => s.startsWith(`${name}|`));
  return found?.split('|')[n] ?? '';
}

/** Names of the segments, in order. */
export const segmentNames = (text: string): string[] => text.split('\r').map((s) => s.slice(0, 3));

/** Polls `condition` every 20 ms until it holds; throws at the deadline, saying what was awaited. */
export async function eventually(
  condition: () => boolean | Promise<boolean>,
  what: string,
  ms = 10_000,
  explain?: () => string | Promise<string>,
): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) {
      const detail = explain ? ` (${await explain()})` : '';
      throw new Error(`Timed out after ${ms} ms waiting for ${what}${detail}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export { DropConnection };
