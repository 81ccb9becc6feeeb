// The engine across a restart: an active Subscription stored before the server stopped is loaded again at
// start-up and notified of writes made after it, without a second handshake.
import http from 'node:http';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Subscription } from '@medplum/fhirtypes';
import { SYSTEM_ACCESS } from '../../../resources/access';
import { Repository } from '../../../resources/repository';
import { closeServices, openServices } from '../../../server/services';
import { tempDir } from '../../support/app';

test('an active subscription is loaded again after a restart and keeps notifying', async () => {
  const received: string[] = [];
  const server = http.createServer((req, res) => {
    received.push(`${req.method} ${req.url}`);
    req.resume();
    res.writeHead(200).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  const dataDir = tempDir('hms-subscription-restart-');
  const settings = { dataDir, sqliteSynchronous: 'NORMAL' as const };
  try {
    let services = await openServices(settings);
    const subscription: Subscription = {
      resourceType: 'Subscription',
      status: 'requested',
      reason: 'restart',
      criteria: 'Patient?gender=female',
      channel: { type: 'rest-hook', endpoint },
    };
    const { stored } = await new Repository(services, { actor: 'cli' }).create('Subscription', subscription);
    const statusOf = async () =>
      (JSON.parse((await services.store.readCurrent('Subscription', stored.id))!.json!) as Subscription).status;
    for (let i = 0; i < 200 && (await statusOf()) !== 'active'; i++) await new Promise((r) => setTimeout(r, 10));
    expect(await statusOf()).toBe('active');
    await closeServices(services);

    services = await openServices(settings);
    const repo = new Repository(services, SYSTEM_ACCESS);
    await repo.create('Patient', { resourceType: 'Patient', gender: 'male' });
    await repo.create('Patient', { resourceType: 'Patient', gender: 'female' });
    for (let i = 0; i < 200 && received.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    await closeServices(services);
    expect(received).toEqual(['POST /hook']);
  } finally {
    server.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
