// Subscriptions end to end over HTTP on the SQLite store.
import { startTestApp } from '../support/app';
import { describeSubscriptions } from './subscription-cases';

describeSubscriptions('SQLite', (services) => startTestApp({ services }));
