// A version's place in the SQLite write log: its `seq`, zero-padded so that positions compare as strings in
// write order (the port's promise, which MongoDB's time-and-counter keys keep too).
export function logPosition(seq: number): string {
  return String(seq).padStart(16, '0');
}
