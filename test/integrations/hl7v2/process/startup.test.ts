// A server that cannot start must not leave its HL7 bridge behind: when the HTTP port is taken, startServer
// rejects, and the MLLP listener it had already opened (with the stores under it) must be closed again, or an
// embedding process (tests, a supervisor retrying) keeps a listener that ACKs messages nobody will serve.
import fs from 'node:fs';
import net from 'node:net';
import { loadConfig } from '../../../../server/config';
import { createLogger } from '../../../../server/log';
import { startServer } from '../../../../server/main';
import { tempDir } from '../../../support/app';
import { findFreePort } from '../../../support/ports';

const listen = (server: net.Server, port: number) =>
  new Promise<string>((resolve) => {
    server.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? String(error)));
    server.listen(port, '127.0.0.1', () => resolve('listening'));
  });

/** Servers in this process listening on `port` (what a leaked listener would be), closed here. */
async function closeLeakedListeners(port: number): Promise<number> {
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
  const leaked = handles.filter(
    (h): h is net.Server => h instanceof net.Server && (h.address() as net.AddressInfo | null)?.port === port,
  );
  await Promise.all(leaked.map((s) => new Promise((resolve) => s.close(resolve))));
  return leaked.length;
}

// A failed HTTP listen closes what start-up had opened: the HL7 bridge's listener, auth and the stores.
test('the HTTP port in use: startServer rejects and frees the MLLP port it had opened', async () => {
  const blocker = net.createServer();
  const dataDir = tempDir('hms-hl7-startup-');
  const mllpPort = await findFreePort();
  try {
    expect(await listen(blocker, 0)).toBe('listening');
    const httpPort = (blocker.address() as net.AddressInfo).port;
    const config = loadConfig({
      PORT: String(httpPort),
      HL7_MLLP_PORT: String(mllpPort),
      DATA_DIR: dataDir,
      VALIDATION_WORKERS: '0',
      SEARCH_WORKERS: '0',
    });
    await expect(startServer(config, createLogger('silent'))).rejects.toThrow(/EADDRINUSE/);
    const probe = net.createServer();
    const result = await listen(probe, mllpPort);
    await new Promise((resolve) => probe.close(resolve));
    expect(result).toBe('listening');
  } finally {
    await closeLeakedListeners(mllpPort);
    await new Promise((resolve) => blocker.close(resolve));
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
