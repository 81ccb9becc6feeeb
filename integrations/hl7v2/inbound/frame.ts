// The listener's frame handler: a batch file or a single message in, the encoded ACK out.
import { isBatch } from '../message/batch';
import { encodeText } from '../message/charset';
import { receiveBatch } from './batch-receiver';
import { receiveMessage, type ReceiverDeps } from './receiver';

export async function receiveFrame(payload: Buffer, deps: ReceiverDeps): Promise<Buffer | undefined> {
  const batch = isBatch(payload.subarray(0, 8).toString('latin1'));
  const received = batch ? await receiveBatch(payload, deps) : await receiveMessage(payload, deps);
  return received.reply === undefined ? undefined : encodeText(received.reply, received.charset);
}
