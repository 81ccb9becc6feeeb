// HL7 v2 test helpers: the sample messages under test/fixtures/hl7 and a mapping context like a channel's.
import fs from 'node:fs';
import path from 'node:path';
import type { MappingContext } from '../../integrations/hl7v2/mappings/context';
import { V2Message } from '../../integrations/hl7v2/message/v2-message';

export const HL7_FIXTURES = path.join(__dirname, '..', 'fixtures', 'hl7');

/** Every sample message file name (`oru_r01_01.hl7`, ...). */
export const hl7FixtureNames = (): string[] =>
  fs
    .readdirSync(HL7_FIXTURES)
    .filter((f) => f.endsWith('.hl7'))
    .sort();

/** A sample's bytes, as an analyser would send them. */
export const hl7FixtureBytes = (name: string): Buffer => fs.readFileSync(path.join(HL7_FIXTURES, name));

export const hl7Fixture = (name: string): string => hl7FixtureBytes(name).toString('utf8');

export const parseFixture = (name: string): V2Message => V2Message.parse(hl7Fixture(name));

export function testMappingContext(overrides: Partial<MappingContext> = {}): MappingContext {
  return {
    channel: 'test',
    sender: 'LAB',
    tables: {},
    timezone: '+0000',
    ownNamespace: 'HMS',
    messageId: 'msg-1',
    ...overrides,
  };
}
