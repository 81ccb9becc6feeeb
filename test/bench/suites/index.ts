// The benchmark suites `npm run bench -- <suite>` can run; a new suite is one file and one line here.
import type { BenchSuite } from '../suite';
import { crudSuite } from './crud';
import { exportSuite } from './export';
import { everythingSuite } from './everything';
import { hl7Suite } from './hl7';
import { matchSuite } from './match';
import { schedulingSuite } from './scheduling';
import { searchSuite } from './search';
import { soakSuite } from './soak';
import { subscriptionsSuite } from './subscriptions';
import { terminologySuite } from './terminology';

export const SUITES: Record<string, BenchSuite> = {
  [crudSuite.name]: crudSuite,
  [searchSuite.name]: searchSuite,
  [hl7Suite.name]: hl7Suite,
  [soakSuite.name]: soakSuite,
  [exportSuite.name]: exportSuite,
  [terminologySuite.name]: terminologySuite,
  [matchSuite.name]: matchSuite,
  [everythingSuite.name]: everythingSuite,
  [subscriptionsSuite.name]: subscriptionsSuite,
  [schedulingSuite.name]: schedulingSuite,
};

export const DEFAULT_SUITE = crudSuite.name;
