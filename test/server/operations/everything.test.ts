// $everything end to end over HTTP on the default SQLite store (the cases are in everything-cases.ts).
import { startTestApp } from '../../support/app';
import { describeEverything } from './everything-cases';

describeEverything('SQLite', () => startTestApp());
