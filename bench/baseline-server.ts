/** The baseline of the identifier bench: a bare Node http server answering a fixed Handle-shaped JSON body. */
import { createServer } from 'node:http';

const body = JSON.stringify({
  responseCode: 1,
  handle: '88.100/BENCH-000001',
  values: [
    {
      index: 1,
      type: 'URL',
      data: { format: 'string', value: 'https://example.com/bench/1' },
      ttl: 86400,
      timestamp: '2026-01-01T00:00:00.000Z',
    },
  ],
});

const server = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
});
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${typeof address === 'object' && address ? address.port : 0}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
