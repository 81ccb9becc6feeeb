// The bare-HTTP ceiling: a child process that answers every request with one pre-serialized FHIR resource,
// so the same driver measures what Node's HTTP stack alone can do on this machine.
// Usage: node bare-server.js <port> <host> <body-file>
import { readFileSync } from 'node:fs';
import http from 'node:http';

function main(): void {
  const [port, host, bodyFile] = process.argv.slice(2);
  const body = readFileSync(bodyFile);
  const headers = {
    'Content-Type': 'application/fhir+json; charset=utf-8',
    'Content-Length': String(body.length),
    ETag: 'W/"1"',
    'Last-Modified': new Date().toUTCString(),
  };
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, headers);
      res.end(body);
    });
  });
  server.keepAliveTimeout = 65_000;
  server.listen(Number(port), host, () => {
    process.stdout.write(`${JSON.stringify({ level: 'info', msg: 'listening', port: Number(port) })}\n`);
  });
  process.on('SIGTERM', () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}

main();
