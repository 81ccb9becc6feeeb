// The hospital's shared directory for generated data: the hospital, its departments, the payers and the
// practitioners. Patient records refer to these, so they are created once before any patient record.
import type { Address, ContactPoint, Organization, Practitioner, Resource } from '@medplum/fhirtypes';
import { asciiSlug, concept, referenceTo } from './fhir-values';
import { Random } from './random';
import {
  CITIES,
  DEPARTMENTS,
  FAMILY_NAMES,
  FEMALE_GIVEN,
  MALE_GIVEN,
  PAYERS,
  SPECIALTIES,
  STREET_NAMES,
  SYSTEM,
} from './tables';

export const HOSPITAL_NAME = 'HMS General Hospital';
export const HOSPITAL_EMAIL_DOMAIN = 'hms-general.example.org';
const DIRECTORY_STREAM = 0x7fffffff;

export interface Directory {
  hospital: Organization;
  /** in the order of DEPARTMENTS */
  departments: Organization[];
  payers: Organization[];
  practitioners: Practitioner[];
  /** every resource above, referenced ones first */
  resources: Resource[];
}

export function generateDirectory(seed: number, practitionerCount = 40): Directory {
  const rng = Random.derive(seed, DIRECTORY_STREAM);
  const hospital = organization(rng, HOSPITAL_NAME, 'prov', 'Healthcare Provider');
  const departments = DEPARTMENTS.map(([name]) => ({
    ...organization(rng, `${HOSPITAL_NAME} - ${name}`, 'dept', 'Hospital Department'),
    partOf: referenceTo(hospital, HOSPITAL_NAME),
  }));
  const payers = PAYERS.map((name) => organization(rng, name, 'pay', 'Payer'));
  const practitioners = Array.from({ length: practitionerCount }, () => practitioner(rng));
  return {
    hospital,
    departments,
    payers,
    practitioners,
    resources: [hospital, ...departments, ...payers, ...practitioners],
  };
}

function organization(rng: Random, name: string, typeCode: string, typeDisplay: string): Organization {
  return {
    resourceType: 'Organization',
    id: rng.uuid(),
    identifier: [{ system: SYSTEM.npi, value: `1${rng.digits(9)}` }],
    active: true,
    type: [concept(SYSTEM.organizationType, typeCode, typeDisplay)],
    name,
    telecom: [{ system: 'phone', value: phoneNumber(rng, '617'), use: 'work' }],
    address: [address(rng, 'work')],
  };
}

function practitioner(rng: Random): Practitioner {
  const gender = rng.chance(0.5) ? 'female' : 'male';
  const given = rng.pick(gender === 'female' ? FEMALE_GIVEN : MALE_GIVEN);
  const family = rng.pick(FAMILY_NAMES);
  const specialty = rng.pick(SPECIALTIES);
  return {
    resourceType: 'Practitioner',
    id: rng.uuid(),
    identifier: [{ system: SYSTEM.npi, value: `1${rng.digits(9)}` }],
    active: true,
    name: [{ use: 'official', family, given: [given], prefix: ['Dr.'] }],
    telecom: [
      { system: 'phone', value: phoneNumber(rng, '617'), use: 'work' },
      { system: 'email', value: `${asciiSlug(given)}.${asciiSlug(family)}@${HOSPITAL_EMAIL_DOMAIN}`, use: 'work' },
    ],
    gender,
    qualification: [
      { code: concept(SYSTEM.practitionerQualification, 'MD', 'Doctor of Medicine') },
      { code: concept(SYSTEM.snomed, specialty.code, specialty.display) },
    ],
  };
}

export function phoneNumber(rng: Random, areaCode: string): string {
  return `(${areaCode}) 555-${rng.digits(4)}`;
}

export function address(rng: Random, use: Address['use']): Address {
  const [city, state, zipPrefix] = rng.pick(CITIES);
  return {
    use,
    type: 'physical',
    line: [`${rng.int(1, 9999)} ${rng.pick(STREET_NAMES)}`],
    city,
    state,
    postalCode: `${zipPrefix}${rng.digits(2)}`,
    country: 'US',
  };
}

export function homeTelecom(rng: Random, given: string, family: string): ContactPoint[] {
  const telecom: ContactPoint[] = [
    {
      system: 'phone',
      value: phoneNumber(rng, rng.pick(['617', '508', '413', '401'])),
      use: rng.pick(['home', 'mobile']),
    },
  ];
  if (rng.chance(0.7)) {
    const domain = rng.pick(['example.com', 'example.net', 'mail.example.org']);
    telecom.push({ system: 'email', value: `${asciiSlug(given)}.${asciiSlug(family)}${rng.digits(2)}@${domain}` });
  }
  return telecom;
}
