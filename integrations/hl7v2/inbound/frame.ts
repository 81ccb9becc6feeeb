// The listener's frame handler: a batch file or a single message in, the encoded ACK out.
import { isBatch } from '../message/batch';
import { encodeText } from '../message/charset';
import { receiveBatch } from './batch-receiver';
import { receiveMessage, type ReceiverDeps } from './receiver';

const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);

export async function receiveFrame(framed: Buffer, deps: ReceiverDeps): Promise<Buffer | undefined> {
  // Some senders write a UTF-8 byte-order mark before MSH; it is not part of the message.
  const payload = framed.subarray(0, 3).equals(UTF8_BOM) ? framed.subarray(3) : framed;
  const batch = isBatch(payload.subarray(0, 8).toString('latin1'));
  const received = batch ? await receiveBatch(payload, deps) : await receiveMessage(payload, deps);
  return received.reply === undefined ? undefined : encodeText(received.reply, received.charset);
}
