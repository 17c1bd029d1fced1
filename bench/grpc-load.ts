import * as http2 from 'node:http2';

export interface GrpcMeasured {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

/** What a grpc-js client sends with a unary call, so the servers parse what they would in production. */
function callHeaders(path: string, extra: Record<string, string>): http2.OutgoingHttpHeaders {
  return {
    [http2.constants.HTTP2_HEADER_METHOD]: 'POST',
    [http2.constants.HTTP2_HEADER_PATH]: path,
    'content-type': 'application/grpc',
    te: 'trailers',
    'grpc-accept-encoding': 'identity,deflate,gzip',
    'accept-encoding': 'identity',
    'user-agent': 'iip-bench grpc-load',
    ...extra,
  };
}

/** A gRPC length-prefixed message: uncompressed flag, 4-byte big-endian length, the protobuf bytes. */
export function grpcFrame(message: Uint8Array): Buffer {
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, 5);
  return frame;
}

/** One unary call on an HTTP/2 session: the decoded answer, or undefined unless it ended with grpc-status 0 and decodes. */
export function grpcCall<T>(
  session: http2.ClientHttp2Session,
  path: string,
  frame: Buffer,
  decode: (bytes: Uint8Array) => T,
  headers: Record<string, string> = {},
): Promise<T | undefined> {
  return new Promise((resolve) => {
    const stream = session.request(callHeaders(path, headers));
    const chunks: Buffer[] = [];
    let status: unknown;
    const readStatus = (h: http2.IncomingHttpHeaders) => {
      if (h['grpc-status'] !== undefined) status = h['grpc-status'];
    };
    stream.on('response', readStatus); // a trailers-only answer (an error) carries it here
    stream.on('trailers', readStatus);
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('error', () => undefined); // 'close' follows and counts it
    stream.on('close', () => {
      if (status !== '0') return resolve(undefined);
      const body = Buffer.concat(chunks);
      try {
        resolve(decode(body.subarray(5, 5 + body.readUInt32BE(1))));
      } catch {
        resolve(undefined);
      }
    });
    stream.end(frame);
  });
}

/**
 * Closed-loop gRPC load: `inFlight` calls for `durationS` over `channels` HTTP/2 connections,
 * latencies recorded. It speaks gRPC over node:http2 itself (requests encoded once, answers
 * checked for grpc-status 0) rather than through a grpc-js client: on this 2-core machine a
 * grpc-js client spent about 2.5 times the CPU per call of the bare grpc-js server it drove, so
 * it, not the server, set the numbers. This one costs less than the server per call, but it too
 * is the limit once a server answers as cheaply as a bare one: a ratio near 1 means "reaches the
 * generator's ceiling". Every gRPC row, the baselines' included, is measured with it.
 */
export async function closedLoopGrpc(
  url: string,
  path: string,
  frames: Buffer[],
  options: { durationS: number; inFlight: number; channels: number; headers?: Record<string, string> },
): Promise<GrpcMeasured> {
  const sessions = Array.from({ length: options.channels }, () => http2.connect(`http://${url}`));
  for (const session of sessions) session.on('error', () => undefined); // its streams fail and are counted
  const latencies: number[] = [];
  let errors = 0;
  let i = 0;
  const deadline = Date.now() + options.durationS * 1000;
  const worker = async (w: number) => {
    const session = sessions[w % sessions.length];
    while (Date.now() < deadline) {
      const frame = frames[i++ % frames.length];
      const started = performance.now();
      if ((await grpcCall(session, path, frame, () => true, options.headers)) === undefined) errors++;
      latencies.push(performance.now() - started);
    }
  };
  await Promise.all(Array.from({ length: options.inFlight }, (_, w) => worker(w)));
  for (const session of sessions) session.close();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))] * 10) / 10;
  return { rps: latencies.length / options.durationS, p50: at(0.5), p99: at(0.99), errors };
}
