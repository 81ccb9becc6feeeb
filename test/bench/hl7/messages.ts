// The HL7 v2 messages the hl7 suite sends: ADT^A04 registrations for the patients, and ORU^R01 lab results
// of one OBR with 10 numeric OBX (LOINC codes, UCUM units, reference ranges), each with its own control id
// (MSH-10) and filler order number (OBR-3), about one of the registered patients.
import { Random } from '../random';
import { FAMILY_NAMES, FEMALE_GIVEN, LAB_PANELS, MALE_GIVEN, type LabTest } from '../tables';

export const SENDING_APPLICATION = 'BENCHLAB';
export const SENDING_FACILITY = 'BENCHFAC';
/** PID-3.4 assigning authority: ADT and ORU name it alike, so results resolve to the registered patient. */
const MRN_AUTHORITY = 'BENCHHOSP';
/** OBR-3.2 namespace of the filler order numbers. */
const FILLER_NAMESPACE = 'BENCHLAB';
/** OBR-4: "Laboratory report" (LOINC), the battery the 10 results belong to. */
const REPORT_CODE = '11502-2^Laboratory report^LN';
export const OBX_PER_ORU = 10;
/** Resources one ORU^R01 writes: the DiagnosticReport and one Observation per OBX. */
export const RESOURCES_PER_ORU = OBX_PER_ORU + 1;

export interface BenchPatient {
  mrn: string;
  family: string;
  given: string;
  sex: 'M' | 'F';
  birthDate: string;
}

/** `count` patients with distinct MRNs, the same for the same seed. */
export function benchPatients(seed: number, count: number): BenchPatient[] {
  const rng = new Random(seed);
  return Array.from({ length: count }, (_, i) => {
    const sex = rng.chance(0.5) ? 'F' : 'M';
    const year = rng.int(1935, 2015);
    const month = String(rng.int(1, 12)).padStart(2, '0');
    const day = String(rng.int(1, 28)).padStart(2, '0');
    return {
      mrn: `BM${String(seed).slice(-4)}${String(i + 1).padStart(6, '0')}`,
      family: rng.pick(FAMILY_NAMES),
      given: rng.pick(sex === 'F' ? FEMALE_GIVEN : MALE_GIVEN),
      sex,
      birthDate: `${year}${month}${day}`,
    };
  });
}

/** v2 DTM to the second with an offset, e.g. `20260101080000+0000`. */
export function v2Time(date: Date): string {
  return `${date.toISOString().slice(0, 19).replace(/[-:T]/g, '')}+0000`;
}

function msh(type: string, controlId: string, time: string): string {
  return `MSH|^~\\&|${SENDING_APPLICATION}|${SENDING_FACILITY}|HMS|HOSPITAL|${time}||${type}|${controlId}|P|2.5.1`;
}

function pid(patient: BenchPatient): string {
  const name = `${patient.family}^${patient.given}`;
  return `PID|1||${patient.mrn}^^^${MRN_AUTHORITY}^MR||${name}||${patient.birthDate}|${patient.sex}`;
}

/** ADT^A04 (register a patient) with an outpatient visit-less PV1. */
export function adtA04(patient: BenchPatient, controlId: string, time: string): string {
  return [msh('ADT^A04^ADT_A01', controlId, time), `EVN|A04|${time}`, pid(patient), 'PV1|1|O'].join('\r');
}

/** The 10 tests every ORU carries: the CBC panel and the first five of the basic metabolic panel. */
export const ORU_TESTS: readonly LabTest[] = LAB_PANELS.flatMap((panel) => panel.tests).slice(0, OBX_PER_ORU);

/**
 * ORU^R01 factory: the constant parts of each segment are built once, the varying ones (control id, filler
 * number, patient, times, values) per message. Values are drawn from a seeded source inside each test's range.
 */
export class OruFactory {
  private readonly rng: Random;
  private readonly obxParts: { head: string; tail: string; test: LabTest }[];

  constructor(
    seed: number,
    private readonly patients: readonly BenchPatient[],
    /** distinguishes the runs of one suite (ceiling and bridge phases), so control ids never repeat */
    private readonly prefix: string,
  ) {
    if (patients.length === 0) throw new Error('OruFactory needs at least one patient');
    if (ORU_TESTS.length !== OBX_PER_ORU) throw new Error(`tables.ts has fewer than ${OBX_PER_ORU} lab tests`);
    this.rng = new Random(seed);
    this.obxParts = ORU_TESTS.map((test, i) => ({
      test,
      head: `OBX|${i + 1}|NM|${test.code}^${test.display}^LN||`,
      tail: `|${test.ucum}^${test.ucum}^UCUM|${test.low}-${test.high}|`,
    }));
  }

  /** Message number `n` (0-based): control id `<prefix>-<n>`, filler number `F<prefix>-<n>`, patient n mod N. */
  build(n: number, now = new Date()): { controlId: string; text: string } {
    const controlId = `${this.prefix}-${n}`;
    const patient = this.patients[n % this.patients.length];
    const time = v2Time(now);
    const segments = [
      msh('ORU^R01^ORU_R01', controlId, time),
      pid(patient),
      `OBR|1||F${controlId}^${FILLER_NAMESPACE}|${REPORT_CODE}|||${time}||||||||||||||${time}|||F`,
    ];
    for (const { head, tail, test } of this.obxParts) {
      const value = this.rng.decimal(test.low * 0.8, test.high * 1.2, test.decimals);
      const flag = value < test.low ? 'L' : value > test.high ? 'H' : 'N';
      segments.push(`${head}${value.toFixed(test.decimals)}${tail}${flag}|||F|||${time}`);
    }
    return { controlId, text: segments.join('\r') };
  }
}

/** MSA-1 (acknowledgment code) and MSA-2 (control id answered) of an ACK, and its ERR-8 texts if any. */
export function readAck(ack: string): { code: string; controlId: string; errors: string[] } {
  const segments = ack.split(/\r\n?|\n/);
  const msa = (segments.find((s) => s.startsWith('MSA|')) ?? '').split('|');
  const errors = segments.filter((s) => s.startsWith('ERR|')).map((s) => s.split('|')[8] ?? s);
  return { code: msa[1] ?? '', controlId: msa[2] ?? '', errors };
}
