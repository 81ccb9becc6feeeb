// Subscription delivery as a job of the job runner: one resident job per store under a fixed Task id, so that
// the runner's lease makes exactly one node deliver, its checkpoint survives restarts, and its Task shows
// progress (active subscriptions, events delivered). The engine does the work (engine.ts `deliver`).
import type { TaskOutput } from '@medplum/fhirtypes';
import type { JobContext, JobHandler } from '../jobs/handler';
import type { JobQueue } from '../jobs/queue';
import type { SubscriptionEngine } from './engine';

export const SUBSCRIPTION_DELIVERY_KIND = 'subscription-delivery';
/** The job's Task id: one per store. */
export const SUBSCRIPTION_DELIVERY_TASK = 'subscription-delivery';
/** Runs without a checkpoint saved in between before the job fails (a save resets the count). */
const ATTEMPTS_WITHOUT_PROGRESS = 20;

export class SubscriptionDeliveryJob implements JobHandler {
  readonly kind = SUBSCRIPTION_DELIVERY_KIND;
  readonly resident = true;

  constructor(private readonly engine: SubscriptionEngine) {}

  run(context: JobContext): Promise<TaskOutput[]> {
    return this.engine.deliver(context);
  }
}

/**
 * Registers the handler; once the engine runs a subscription, makes sure the job exists and has not ended
 * (re-armed at each start, so a job an admin cancelled comes back with the next start).
 */
export function startSubscriptionDelivery(jobs: JobQueue, engine: SubscriptionEngine): void {
  jobs.register(new SubscriptionDeliveryJob(engine));
  engine.onFirstSubscription(() =>
    jobs.ensureResident(SUBSCRIPTION_DELIVERY_TASK, {
      kind: SUBSCRIPTION_DELIVERY_KIND,
      label: 'subscription delivery',
      maxAttempts: ATTEMPTS_WITHOUT_PROGRESS,
    }),
  );
}
