// Reading profile files: the project root from either the sources or the build, folders of resources and Bundles.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  bundledStructureDefinitions,
  profilesDir,
  projectRoot,
  readProfileResources,
  readProfileStructureDefinitions,
} from '../../profiles/loader';

const ROOT = path.resolve(__dirname, '../..');

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hms-profiles-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const write = (name: string, content: unknown): void =>
  fs.writeFileSync(path.join(dir, name), typeof content === 'string' ? content : JSON.stringify(content));

const sd = (id: string) => ({ resourceType: 'StructureDefinition', id, url: `http://x.org/${id}` });
const searchParameter = { resourceType: 'SearchParameter', id: 'sp', code: 'mrn' };

test('the project root is the folder with package.json, from the sources and from dist/', () => {
  expect(projectRoot()).toBe(ROOT);
  expect(projectRoot(path.join(ROOT, 'dist', 'profiles'))).toBe(ROOT);
  expect(profilesDir()).toBe(path.join(ROOT, 'profiles'));
});

test('no package.json above is an error', () => {
  expect(() => projectRoot(dir)).toThrow(`No package.json above ${dir}`);
});

test('reads resources and Bundles in file-name order, ignoring other files', () => {
  write('b.json', {
    resourceType: 'Bundle',
    type: 'collection',
    entry: [{ resource: sd('two') }, { resource: searchParameter }, {}],
  });
  write('a.json', sd('one'));
  write('notes.txt', 'not a profile');
  expect(readProfileResources(dir).map((r) => r.id)).toEqual(['one', 'two', 'sp']);
  expect(readProfileStructureDefinitions(dir).map((r) => r.id)).toEqual(['one', 'two']);
});

test('a broken file is a deployment error naming the file', () => {
  write('broken.json', '{ "resourceType": ');
  expect(() => readProfileResources(dir)).toThrow(`Cannot read profile file ${path.join(dir, 'broken.json')}`);
  fs.rmSync(path.join(dir, 'broken.json'));
  write('array.json', [sd('x')]);
  expect(() => readProfileResources(dir)).toThrow('is not a FHIR resource (no resourceType)');
});

test('a missing folder holds no profiles; the project folder reads', () => {
  expect(readProfileResources(path.join(dir, 'absent'))).toEqual([]);
  expect(Array.isArray(readProfileStructureDefinitions())).toBe(true);
});

test('US Core 5.0.1 ships with snapshots', () => {
  const bundled = bundledStructureDefinitions();
  expect(bundled.map((d) => d.url)).toContain('http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient');
  expect(bundled.every((d) => d.version === '5.0.1' && (d.snapshot?.element?.length ?? 0) > 0)).toBe(true);
});
