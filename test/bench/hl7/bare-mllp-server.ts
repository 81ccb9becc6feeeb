// The bare-MLLP ceiling: a child process running the bridge's own MllpListener that answers every frame with
// one fixed, minimal ACK (no parsing, no store), so the same driver measures what framing and Node's sockets
// alone can do on this machine.
// Usage: node bare-mllp-server.js <port> <host>
import { MllpListener } from '../../../integrations/hl7v2/mllp/listener';

const FIXED_ACK = Buffer.from(
  'MSH|^~\\&|HMS|HOSPITAL|BENCHLAB|BENCHFAC|20260101000000+0000||ACK^R01^ACK|BARE|P|2.5.1\rMSA|AA|BARE',
  'utf8',
);

async function main(): Promise<void> {
  const [port, host] = process.argv.slice(2);
  const listener = await MllpListener.start({
    host,
    port: Number(port),
    maxFrameBytes: 10 * 1024 * 1024,
    idleTimeoutMs: 3_600_000,
    onFrame: () => Promise.resolve(FIXED_ACK),
  });
  process.stdout.write(`${JSON.stringify({ level: 'info', msg: 'listening', port: listener.port })}\n`);
  process.on('SIGTERM', () => {
    void listener.close(1000).then(() => process.exit(0));
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
