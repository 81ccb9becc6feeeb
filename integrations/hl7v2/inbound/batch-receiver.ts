// A batch file in one frame (FHS/BHS ... BTS/FTS): each message is received on its own, in order, and the
// batch gets one ACK: the worst of the messages' codes, MSA-2 the batch's control id, an ERR per failure.
import { buildAck, ERROR_CODES, type AckCode, type AckError } from '../message/ack';
import { splitBatch } from '../message/batch';
import { V2Message } from '../message/v2-message';
import { receiveMessage, type Received, type ReceiverDeps } from './receiver';

const SEVERITY: AckCode[] = ['AA', 'CA', 'AE', 'CE', 'AR', 'CR'];

export async function receiveBatch(payload: Buffer, deps: ReceiverDeps): Promise<Received> {
  // Latin-1 maps bytes to characters one to one, so each message's bytes are exactly what was sent.
  const { messages, problems } = splitBatch(payload.toString('latin1'));
  const errors: AckError[] = problems.map((text) => ({ code: ERROR_CODES.segmentSequence, location: 'BTS', text }));
  let worst: AckCode = 'AA';
  let first: Received | undefined;
  for (const [index, text] of messages.entries()) {
    const received = await receiveMessage(Buffer.from(text, 'latin1'), deps);
    first ??= received;
    const code = (/\rMSA\|(\w\w)/.exec(received.reply ?? '')?.[1] ?? 'AA') as AckCode;
    if (SEVERITY.indexOf(code) > SEVERITY.indexOf(worst)) worst = code;
    if (code !== 'AA' && code !== 'CA')
      errors.push({
        code: errorCode(received.reply),
        location: `MSH^${index + 1}`,
        text: `Message ${index + 1} of the batch: ${code}`,
      });
  }
  if (errors.length > 0 && worst === 'AA') worst = 'AE';
  const header = batchHeader(payload, messages[0]);
  return { reply: buildAck(header, { code: worst, errors }), charset: first?.charset ?? '' };
}

function errorCode(reply: string | undefined): string {
  return /\rERR\|[^|]*\|[^|]*\|(\d+)/.exec(reply ?? '')?.[1] ?? ERROR_CODES.internalError;
}

/** The ACK answers the batch: addressed from its first message, MSA-2 the batch control id (BHS-11 / FHS-11). */
function batchHeader(payload: Buffer, firstMessage: string | undefined) {
  const text = payload.toString('latin1');
  const batchSegment = /(?:^|[\r\n])(BHS|FHS)(\|[^\r\n]*)/.exec(text);
  const fields = batchSegment ? `${batchSegment[1]}${batchSegment[2]}`.split('|') : [];
  const base = firstMessage ? V2Message.parse(firstMessage).header : undefined;
  return {
    sendingApplication: base?.sendingApplication ?? fields[2] ?? '',
    sendingFacility: base?.sendingFacility ?? fields[3] ?? '',
    receivingApplication: base?.receivingApplication ?? fields[4] ?? '',
    receivingFacility: base?.receivingFacility ?? fields[5] ?? '',
    trigger: '',
    controlId: fields[10] || base?.controlId || '',
    processingId: base?.processingId ?? 'P',
    version: base?.version ?? '2.5',
  };
}
