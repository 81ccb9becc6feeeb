// A parsed HL7 v2 message with 1-based, unescaped accessors over @medplum/core's Hl7Message, and its
// header (MSH) read once into named fields.
import { Hl7Field, Hl7Message, type Hl7Segment } from '@medplum/core';
import { delimitersOf, unescapeValue, type Delimiters } from './escape';

export class V2Field {
  constructor(
    readonly raw: Hl7Field,
    private readonly delimiters: Delimiters,
    /** 0-based repetition. */
    readonly repetition = 0,
  ) {}

  /** Unescaped component (1-based) and sub-component (1-based, 0 = the whole component). */
  get(component = 1, subcomponent = 0): string {
    const value = this.raw.getComponent(component, subcomponent > 0 ? subcomponent - 1 : undefined, this.repetition);
    return unescapeValue(value ?? '', this.delimiters).trim();
  }

  /** The whole first component's sub-components, unescaped. */
  subcomponents(component: number): string[] {
    const value = this.raw.components[this.repetition]?.[component - 1] ?? '';
    return value.split(this.delimiters.subcomponent).map((s) => unescapeValue(s, this.delimiters).trim());
  }

  /** Number of components this repetition has. */
  get size(): number {
    return this.raw.components[this.repetition]?.length ?? 0;
  }

  get isEmpty(): boolean {
    return (this.raw.components[this.repetition] ?? []).every((c) => c.trim() === '' || c === '""');
  }

  /** The repetition as sent, escapes kept (for echoing in ACKs and stored diagnostics). */
  toString(): string {
    return (this.raw.components[this.repetition] ?? []).join(this.delimiters.component);
  }
}

export class V2Segment {
  constructor(
    readonly raw: Hl7Segment,
    private readonly delimiters: Delimiters,
    /** 0-based position in the message. */
    readonly position: number,
  ) {}

  get name(): string {
    return this.raw.name;
  }

  /** The field's first repetition; MSH numbering follows the standard (MSH-1 is the field separator). */
  field(index: number): V2Field {
    return new V2Field(this.rawField(index), this.delimiters);
  }

  /** Unescaped field.component[.subcomponent] of the first repetition. */
  get(field: number, component = 1, subcomponent = 0): string {
    return this.field(field).get(component, subcomponent);
  }

  private rawField(index: number): Hl7Field {
    return (this.raw.getField(index) as Hl7Field | undefined) ?? new Hl7Field([['']], this.raw.context);
  }

  /** Every non-empty repetition of a field. */
  repetitions(index: number): V2Field[] {
    const raw = this.rawField(index);
    return raw.components
      .map((_, repetition) => new V2Field(raw, this.delimiters, repetition))
      .filter((field) => !field.isEmpty);
  }
}

export interface V2Header {
  sendingApplication: string;
  sendingFacility: string;
  receivingApplication: string;
  receivingFacility: string;
  /** MSH-7 as sent. */
  time: string;
  /** MSH-9.1 and 9.2, e.g. ORU and R01; `type` is `ORU^R01`. */
  code: string;
  trigger: string;
  structure: string;
  type: string;
  controlId: string;
  /** MSH-11.1: P, T or D. */
  processingId: string;
  version: string;
  acceptAckType: string;
  applicationAckType: string;
  charset: string;
  profile: string;
}

export class V2Message {
  readonly segments: V2Segment[];
  readonly header: V2Header;

  private constructor(
    readonly raw: Hl7Message,
    readonly delimiters: Delimiters,
  ) {
    this.segments = raw.segments.map((segment, i) => new V2Segment(segment, delimiters, i));
    this.header = readHeader(this.segments[0]);
  }

  /**
   * Parses message text with CR, LF or CRLF segment terminators; blank (or whitespace-only) lines are
   * dropped. Throws V2ParseError on a missing MSH.
   */
  static parse(text: string): V2Message {
    const lines = text.split(/\r\n|\n\r|\r|\n/).filter((line) => line.trim() !== '');
    const cleaned = lines.join('\r');
    if (!cleaned.startsWith('MSH') || cleaned.length < 9) {
      throw new V2ParseError('The message does not start with an MSH segment');
    }
    let raw: Hl7Message;
    try {
      raw = Hl7Message.parse(cleaned);
    } catch (error) {
      throw new V2ParseError(`The message cannot be parsed: ${(error as Error).message}`);
    }
    return new V2Message(raw, delimitersOf(cleaned));
  }

  segment(name: string): V2Segment | undefined {
    return this.segments.find((s) => s.name === name);
  }

  all(name: string): V2Segment[] {
    return this.segments.filter((s) => s.name === name);
  }

  toString(): string {
    return this.raw.toString();
  }
}

export class V2ParseError extends Error {}

/** ADT A04, A08 and A13 use the ADT_A01 structure (v2-to-FHIR IG implementation considerations). */
const SHARED_STRUCTURES: Record<string, string> = { ADT_A04: 'ADT_A01', ADT_A08: 'ADT_A01', ADT_A13: 'ADT_A01' };

function readHeader(msh: V2Segment): V2Header {
  const code = msh.get(9, 1);
  const trigger = msh.get(9, 2);
  const derived = trigger ? `${code}_${trigger}` : code;
  return {
    sendingApplication: msh.get(3),
    sendingFacility: msh.get(4),
    receivingApplication: msh.get(5),
    receivingFacility: msh.get(6),
    time: msh.get(7),
    code,
    trigger,
    structure: msh.get(9, 3) || SHARED_STRUCTURES[derived] || derived,
    type: trigger ? `${code}^${trigger}` : code,
    controlId: msh.field(10).toString().trim(),
    processingId: msh.get(11, 1),
    version: msh.get(12, 1),
    acceptAckType: msh.get(15),
    applicationAckType: msh.get(16),
    charset: msh.get(18),
    profile: msh.get(21),
  };
}
