// The benchmark suites `npm run bench -- <suite>` can run; a new suite is one file and one line here.
import type { BenchSuite } from '../suite';
import { crudSuite } from './crud';
import { hl7Suite } from './hl7';
import { searchSuite } from './search';
import { soakSuite } from './soak';

export const SUITES: Record<string, BenchSuite> = {
  [crudSuite.name]: crudSuite,
  [searchSuite.name]: searchSuite,
  [hl7Suite.name]: hl7Suite,
  [soakSuite.name]: soakSuite,
};

export const DEFAULT_SUITE = crudSuite.name;
