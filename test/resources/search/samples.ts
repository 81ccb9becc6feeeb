// R4 resources the search tests run over: HL7's examples from the FHIRPath test suite and one small Synthea
// patient with the organizations and practitioners it refers to (17 resource types in all).
import fs from 'node:fs';
import zlib from 'node:zlib';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { fixturePath } from '../../support/fixtures';

const EXAMPLES_DIR = ['fhir-test-cases', 'json', 'r4'];
const SYNTHEA_FILES = [
  '0-hospitalInformation1625911868739.json.gz',
  '0-practitionerInformation1625911868739.json.gz',
  'c0697745-be05-4abc-07e0-f78ca6cb7230.json.gz',
];

/** One of HL7's R4 example resources, e.g. `observation-example`. */
export function example<T extends Resource = Resource>(name: string): T {
  return JSON.parse(fs.readFileSync(fixturePath(...EXAMPLES_DIR, `${name}.json`), 'utf8')) as T;
}

function examples(): Resource[] {
  return fs
    .readdirSync(fixturePath(...EXAMPLES_DIR))
    .filter((name) => name.endsWith('.json'))
    .map((name) => example(name.replace(/\.json$/, '')));
}

function syntheaResources(file: string): Resource[] {
  const bundle = JSON.parse(zlib.gunzipSync(fs.readFileSync(fixturePath('synthea', file))).toString());
  return ((bundle as Bundle).entry ?? []).flatMap((entry) => (entry.resource ? [entry.resource] : []));
}

let all: Resource[] | undefined;

/** Every sample resource (~850), loaded once per test file. */
export function sampleResources(): Resource[] {
  all ??= [...examples(), ...SYNTHEA_FILES.flatMap(syntheaResources)];
  return all;
}

/** The sample resources grouped by type. */
export function samplesByType(): Map<string, Resource[]> {
  const byType = new Map<string, Resource[]>();
  for (const resource of sampleResources()) {
    byType.set(resource.resourceType, [...(byType.get(resource.resourceType) ?? []), resource]);
  }
  return byType;
}
