// Free TCP ports for servers a test starts on a port it must know in advance.
import net from 'node:net';

// Ports handed out come from below the kernel's ephemeral range (32768+ on Linux), where servers that bind port 0
// take theirs: a port chosen here and bound a moment later cannot meanwhile go to one of those. Each Jest worker
// draws from its own band, and a process never hands out the same port twice, so parallel tests cannot collide.
const PORT_BAND_START = 20_000;
const PORT_BAND_SIZE = 1_500;
const PORT_BANDS = 8;
const handedOut = new Set<number>();

/** A port free on `host` now and not handed out before by this process. */
export async function findFreePort(host = '127.0.0.1'): Promise<number> {
  const band = (Number(process.env.JEST_WORKER_ID ?? 0) % PORT_BANDS) * PORT_BAND_SIZE + PORT_BAND_START;
  for (let attempt = 0; attempt < PORT_BAND_SIZE; attempt++) {
    const port = band + Math.floor(Math.random() * PORT_BAND_SIZE);
    if (handedOut.has(port) || !(await canBind(host, port))) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error(`no free port in ${band}-${band + PORT_BAND_SIZE - 1} on ${host}`);
}

function canBind(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, host, () => probe.close(() => resolve(true)));
  });
}
