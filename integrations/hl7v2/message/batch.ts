// HL7 batches (FHS [BHS {MSH...} BTS]* FTS), mostly billing file drops: split only where a segment starts
// with a batch or message header, and check BTS-1 / FTS-1 counts. Splitting on `MSH|` anywhere breaks
// messages whose field value is `MSH` or `BTS` (a blood-transfusion-service code).

export interface SplitBatch {
  messages: string[];
  /** Count mismatches found, empty when the batch is consistent. */
  problems: string[];
}

const BATCH_SEGMENTS = new Set(['FHS', 'BHS', 'BTS', 'FTS']);

export const isBatch = (text: string): boolean => /^(FHS|BHS)/.test(text.replace(/^[\r\n]+/, ''));

export function splitBatch(text: string): SplitBatch {
  const segments = text.split(/\r\n|\n\r|\r|\n/).filter((s) => s.trim() !== '');
  const messages: string[] = [];
  const problems: string[] = [];
  let current: string[] | undefined;
  let inBatch = 0;
  let batches = 0;
  const flush = () => {
    if (current) messages.push(current.join('\r'));
    current = undefined;
  };
  for (const segment of segments) {
    const name = segment.slice(0, 3);
    if (name === 'MSH') {
      flush();
      current = [segment];
      inBatch++;
    } else if (BATCH_SEGMENTS.has(name)) {
      flush();
      if (name === 'BHS') inBatch = 0;
      if (name === 'BTS') {
        batches++;
        checkCount(segment, inBatch, 'BTS-1 message count', 'the batch', problems);
        // The next batch counts from zero even when its BHS is missing.
        inBatch = 0;
      }
      if (name === 'FTS') checkCount(segment, batches, 'FTS-1 batch count', 'the file', problems);
    } else if (current) {
      current.push(segment);
    } else {
      problems.push(`A ${name} segment stands outside any message`);
    }
  }
  flush();
  return { messages, problems };
}

function checkCount(segment: string, actual: number, what: string, holder: string, problems: string[]): void {
  const declared = segment.split(segment[3] ?? '|')[1]?.trim();
  if (declared && Number.parseInt(declared, 10) !== actual) {
    problems.push(`${what} says ${declared}, ${holder} holds ${actual}`);
  }
}
