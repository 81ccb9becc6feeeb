// MLLP framer: exact frame boundaries whatever the chunking, noise accounting, and the size limit.
import { CR, FS, FrameTooLargeError, MllpDecoder, VT, encodeFrame } from '../../../../integrations/hl7v2/mllp/framer';

const text = (frames: Buffer[]) => frames.map((frame) => frame.toString('latin1'));
const bytes = (...parts: (string | number)[]) =>
  Buffer.concat(parts.map((part) => (typeof part === 'number' ? Buffer.from([part]) : Buffer.from(part, 'latin1'))));

describe('encodeFrame', () => {
  it('wraps the payload in VT ... FS CR', () => {
    expect(encodeFrame('MSH|^~\\&')).toEqual(bytes(VT, 'MSH|^~\\&', FS, CR));
    expect(encodeFrame(Buffer.from([1, 2]))).toEqual(Buffer.from([VT, 1, 2, FS, CR]));
  });

  it('encodes a string with the given encoding', () => {
    expect(encodeFrame('é', 'latin1')).toEqual(Buffer.from([VT, 0xe9, FS, CR]));
    expect(encodeFrame('é')).toEqual(Buffer.from([VT, 0xc3, 0xa9, FS, CR]));
  });
});

describe('MllpDecoder', () => {
  it('returns every frame of one chunk, in order', () => {
    const decoder = new MllpDecoder(100);
    expect(text(decoder.push(Buffer.concat([encodeFrame('a'), encodeFrame('bb'), encodeFrame('')])))).toEqual([
      'a',
      'bb',
      '',
    ]);
    expect(decoder.noiseBytes).toBe(0);
  });

  it('rebuilds frames fed one byte at a time', () => {
    const decoder = new MllpDecoder(100);
    const stream = Buffer.concat([encodeFrame('MSH|1\rPID|x'), encodeFrame('MSH|2')]);
    const frames: Buffer[] = [];
    for (const byte of stream) frames.push(...decoder.push(Buffer.from([byte])));
    expect(text(frames)).toEqual(['MSH|1\rPID|x', 'MSH|2']);
  });

  it('completes a frame whose footer is split between chunks', () => {
    const decoder = new MllpDecoder(100);
    expect(decoder.push(bytes(VT, 'abc', FS))).toEqual([]);
    expect(text(decoder.push(bytes(CR, VT, 'd', FS)))).toEqual(['abc']);
    expect(text(decoder.push(bytes(CR)))).toEqual(['d']);
  });

  it('finds the same frames at every split point of a stream', () => {
    const stream = Buffer.concat([bytes('xx'), encodeFrame('one'), bytes(FS, CR), encodeFrame('t\x1cwo')]);
    for (let cut = 0; cut <= stream.length; cut++) {
      const decoder = new MllpDecoder(100);
      const frames = [...decoder.push(stream.subarray(0, cut)), ...decoder.push(stream.subarray(cut))];
      expect(text(frames)).toEqual(['one', 't\x1cwo']);
      expect(decoder.noiseBytes).toBe(4);
    }
  });

  it('discards and counts bytes outside frames', () => {
    const decoder = new MllpDecoder(100);
    const frames = decoder.push(bytes('noise', encodeFrame('a').toString('latin1'), '\r\n', CR));
    expect(text(frames)).toEqual(['a']);
    expect(decoder.noiseBytes).toBe(8);
    expect(decoder.push(bytes('more'))).toEqual([]);
    expect(decoder.noiseBytes).toBe(12);
  });

  it('restarts the frame at a VT inside it and counts the abandoned bytes as noise', () => {
    const decoder = new MllpDecoder(100);
    expect(decoder.push(bytes(VT, 'lost'))).toEqual([]);
    expect(text(decoder.push(bytes('!', VT, 'kept', FS, CR)))).toEqual(['kept']);
    expect(decoder.noiseBytes).toBe(6);
  });

  it('restarts at a VT right after a split FS', () => {
    const decoder = new MllpDecoder(100);
    decoder.push(bytes(VT, 'ab', FS));
    expect(text(decoder.push(bytes(VT, 'c', FS, CR)))).toEqual(['c']);
    expect(decoder.noiseBytes).toBe(4);
  });

  it('keeps FS not followed by CR as payload, also across chunks', () => {
    const decoder = new MllpDecoder(100);
    expect(text(decoder.push(bytes(VT, 'a', FS, 'b', FS, FS, CR)))).toEqual(['a\x1cb\x1c']);
    decoder.push(bytes(VT, 'c', FS));
    expect(text(decoder.push(bytes('d', FS, CR)))).toEqual(['c\x1cd']);
  });

  it('accepts a payload of exactly maxFrameBytes', () => {
    const decoder = new MllpDecoder(4);
    decoder.push(bytes(VT, 'abcd', FS));
    expect(text(decoder.push(bytes(CR)))).toEqual(['abcd']);
  });

  it('throws FrameTooLargeError once the payload exceeds maxFrameBytes', () => {
    const decoder = new MllpDecoder(4);
    decoder.push(bytes(VT, 'abc'));
    expect(() => decoder.push(bytes('de'))).toThrow(FrameTooLargeError);
    const splitFs = new MllpDecoder(4);
    splitFs.push(bytes(VT, 'abcd', FS));
    expect(() => splitFs.push(bytes('x'))).toThrow(FrameTooLargeError);
  });

  it('keeps a large frame in many chunks linear: no copying until it completes', () => {
    const decoder = new MllpDecoder(64 * 1024 * 1024);
    const chunk = Buffer.alloc(1024, 'a');
    const concat = jest.spyOn(Buffer, 'concat');
    decoder.push(Buffer.from([VT]));
    let early = 0;
    for (let i = 0; i < 20000; i++) early += decoder.push(chunk).length;
    expect(early).toBe(0);
    const [frame] = decoder.push(Buffer.from([FS, CR]));
    expect(concat).toHaveBeenCalledTimes(1);
    concat.mockRestore();
    expect(frame.length).toBe(20000 * 1024);
  });
});
