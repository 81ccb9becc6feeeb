// Scheduling end to end over HTTP on the MongoDB adapter (on mingo), with the same expectations as on SQLite.
import { MongoStore } from '../../../resources/store/mongo/mongo-store';
import { startTestApp } from '../../support/app';
import { MingoDatabase } from '../../support/mingo-database';
import { describeScheduling } from './scheduling-cases';

describeScheduling('the MongoDB adapter', () => startTestApp({ store: new MongoStore(new MingoDatabase()) }));
