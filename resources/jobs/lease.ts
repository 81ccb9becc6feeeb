// Leases and retries of jobs: when a requested job is due, when an in-progress one has lost its runner, and
// what a claim, a retry and a release change on the job's Task. Pure functions of the job state and the time.
import type { JobChange, JobState } from './job-task';

export interface RetryPolicy {
  /** Delay before the second attempt; each later one doubles it. */
  baseDelayMs: number;
  /** No retry waits longer than this. */
  maxDelayMs: number;
}

/** A requested job may be claimed once its backoff is over. */
export function isDue(job: JobState, now: number): boolean {
  return job.status === 'requested' && (job.notBefore === undefined || job.notBefore <= now);
}

/** An in-progress job whose lease ran out: its runner died (or hangs) and will not finish it. */
export function leaseExpired(job: JobState, now: number): boolean {
  return job.status === 'in-progress' && (job.leaseUntil === undefined || job.leaseUntil < now);
}

/** The claim of a due job by `owner`: one more attempt, under a lease until now + leaseMs. */
export function claim(job: JobState, owner: string, now: number, leaseMs: number): JobChange {
  return {
    status: 'in-progress',
    attempts: job.attempts + 1,
    owner,
    leaseUntil: now + leaseMs,
    notBefore: null,
    businessStatus: 'running',
  };
}

export function renewal(now: number, leaseMs: number): JobChange {
  return { leaseUntil: now + leaseMs };
}

/** Exponential backoff with a cap: the wait after `attempts` failed attempts. */
export function retryDelay(attempts: number, policy: RetryPolicy): number {
  const exponent = Math.max(0, attempts - 1);
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(exponent, 30));
}

/**
 * After a failed attempt (an error, or a lease that ran out): back to requested after the backoff, or failed
 * for good once the attempts are used up. The checkpoint stays, so the next attempt resumes from it.
 */
export function afterFailure(job: JobState, reason: string, now: number, policy: RetryPolicy): JobChange {
  const released = { owner: null, leaseUntil: null } as const;
  if (job.attempts >= job.maxAttempts) {
    const text = `${reason} (attempt ${job.attempts} of ${job.maxAttempts}; no more retries)`;
    return { ...released, status: 'failed', reason: text, businessStatus: 'failed' };
  }
  const notBefore = now + retryDelay(job.attempts, policy);
  const text = `${reason} (attempt ${job.attempts} of ${job.maxAttempts}; retrying)`;
  return { ...released, status: 'requested', notBefore, reason: text, businessStatus: 'waiting to retry' };
}

/** A runner that stops in good order hands its job back at once; the interrupted attempt does not count. */
export function release(job: JobState): JobChange {
  return {
    status: 'requested',
    attempts: Math.max(0, job.attempts - 1),
    owner: null,
    leaseUntil: null,
    businessStatus: 'queued',
  };
}
