// Scheduling end to end over HTTP on the SQLite store.
import { startTestApp } from '../../support/app';
import { describeScheduling } from './scheduling-cases';

describeScheduling('SQLite', () => startTestApp());
