// Probes for orchestrators and load balancers, without a token: /healthz says the process answers;
// /readyz says it can serve, i.e. the store answers a trivial read and the worker pools have workers.
import type { Express, Request, Response } from 'express';
import type { RepositoryServices } from '../../resources/repository';
import type { MonitoredStore, WorkerLoad } from '../../resources/store/store-monitor';

/** A store that does not answer a read by id within this is not ready. */
const STORE_PROBE_TIMEOUT_MS = 2000;
/** An id no resource has (ids are at most 64 characters): the probe reads nothing. */
const PROBE_ID = 'hms-readiness-probe-'.padEnd(65, '0');

export const HEALTH_PATHS = new Set(['/healthz', '/readyz']);

interface Check {
  ok: boolean;
  detail: string;
}

export function mountHealth(app: Express, services: RepositoryServices, lifecycle?: { stopping: boolean }): void {
  app.get('/healthz', (_req: Request, res: Response) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req: Request, res: Response) => {
    if (lifecycle?.stopping) return void res.status(503).json({ status: 'not ready', reason: 'stopping' });
    const checks = {
      store: await storeCheck(services),
      validationWorkers: poolCheck(preparerLoad(services)),
      searchWorkers: poolCheck((services.store as MonitoredStore).searchWorkerLoad?.()),
    };
    const failed = Object.entries(checks).filter(([, check]) => !check.ok);
    const details = Object.fromEntries(Object.entries(checks).map(([name, check]) => [name, check.detail]));
    if (failed.length === 0) return void res.json({ status: 'ready', checks: details });
    const reason = failed.map(([name, check]) => `${name}: ${check.detail}`).join('; ');
    res.status(503).json({ status: 'not ready', reason, checks: details });
  });
}

async function storeCheck(services: RepositoryServices): Promise<Check> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<Check>((resolve) => {
    timer = setTimeout(
      () => resolve({ ok: false, detail: `no answer within ${STORE_PROBE_TIMEOUT_MS} ms` }),
      STORE_PROBE_TIMEOUT_MS,
    );
  });
  const read = services.store.readCurrent('Patient', PROBE_ID).then(
    (): Check => ({ ok: true, detail: 'ok' }),
    // The error's class only: a store's message may quote a URL or a path.
    (error: unknown): Check => ({ ok: false, detail: `read failed (${(error as Error)?.name ?? 'error'})` }),
  );
  try {
    return await Promise.race([read, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function preparerLoad(services: RepositoryServices): WorkerLoad | undefined {
  const preparer = services.preparer as { load?: () => WorkerLoad };
  return preparer.load?.();
}

/** No pool (work runs on the event loop) is ready; a pool is ready while it has a worker. */
function poolCheck(load: WorkerLoad | undefined): Check {
  if (!load) return { ok: true, detail: 'on the event loop' };
  if (load.workers === 0) return { ok: false, detail: 'no worker is running' };
  return { ok: true, detail: `${load.workers} workers` };
}
