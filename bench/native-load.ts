/**
 * Closed-loop load on the identifier's native Handle interface (RFC 3652): RESOLUTION requests
 * for all public values of a handle, built by hand (the bench imports no app code), over UDP or
 * TCP, a fixed number in flight for a fixed time. Every answer is checked (request id, op code,
 * response code SUCCESS, the handle asked for, at least one value): the first one that is not
 * what was asked for fails the run rather than being counted.
 */
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { Socket, connect } from 'node:net';

export interface NativeLoadOptions {
  host: string;
  /** The node's native port (TCP and UDP share it). */
  port: number;
  transport: 'udp' | 'tcp';
  handles: string[];
  durationMs: number;
  /** Requests in flight in all (over TCP, spread over the connections). */
  concurrency: number;
  /** TCP connections, each pipelining its share of the requests in flight. */
  connections?: number;
  /** A UDP request unanswered this long is lost and replaced by a new one; over TCP no answer this long fails the run. */
  timeoutMs?: number;
}

/** The bench's Measured, plus the UDP requests that got no answer in time (also counted in errors). */
export interface NativeMeasured {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  lost: number;
}

const ENVELOPE = 20;
const HEADER = 24;
/** Body offset in a whole message (envelope + header). */
const BODY = ENVELOPE + HEADER;
const OP_RESOLUTION = 1;
const RC_SUCCESS = 1;
const FLAG_PUBLIC_ONLY = 0x01000000;
const ENV_TRUNCATED = 0x20;

/** A RESOLUTION request for every public value of `handle`, protocol 2.10; the request id (bytes 8-11) is set per send. */
export function resolutionRequest(handle: string): Buffer {
  const name = Buffer.from(handle, 'utf8');
  const bodyLength = 4 + name.length + 4 + 4; // handle, no indexes, no types
  const messageLength = HEADER + bodyLength + 4; // and an empty credential
  const b = Buffer.alloc(ENVELOPE + messageLength); // session id, message id, response code... stay 0
  b[0] = 2;
  b[1] = 10;
  b.writeInt32BE(messageLength, 16);
  b.writeInt32BE(OP_RESOLUTION, ENVELOPE);
  b.writeUInt32BE(FLAG_PUBLIC_ONLY, ENVELOPE + 8);
  b.writeInt32BE(bodyLength, ENVELOPE + 20);
  b.writeInt32BE(name.length, BODY);
  name.copy(b, BODY + 4);
  return b;
}

/** What is wrong with `answer` as the answer to request `id` for `name`, or undefined when it is a successful resolution. */
function problemWith(answer: Buffer, id: number, name: Buffer): string | undefined {
  if (answer.length < BODY + 4 || answer.readInt32BE(16) !== answer.length - ENVELOPE)
    return `a malformed answer of ${answer.length} bytes`;
  if (answer.readInt32BE(8) !== id) return `the answer to request ${answer.readInt32BE(8)} where ${id} was expected`;
  if (answer.readInt32BE(ENVELOPE) !== OP_RESOLUTION) return `op code ${answer.readInt32BE(ENVELOPE)}`;
  const code = answer.readInt32BE(ENVELOPE + 4);
  if (code !== RC_SUCCESS) {
    const length = answer.readInt32BE(BODY);
    return `response code ${code}: ${answer.toString('utf8', BODY + 4, Math.min(answer.length, BODY + 4 + length))}`;
  }
  const end = BODY + 4 + name.length;
  if (answer.readInt32BE(BODY) !== name.length || answer.length < end + 4 || !name.equals(answer.subarray(BODY + 4, end)))
    return 'an answer for another handle';
  if (answer.readInt32BE(end) < 1) return 'no values';
  return undefined;
}

/** One request in flight. */
interface Pending {
  id: number;
  handle: number;
  sent: number;
}

/**
 * Resolution load over UDP (one connected socket, answers matched by request id; a request
 * unanswered after timeoutMs is lost and replaced) or TCP (pipelined connections, answered in
 * order, so each connection's answers must come in the order of its requests). New requests go
 * out as answers come in; over TCP all answers read at once are replaced by one write. Answers
 * within durationMs are counted, those in flight then are checked but not counted.
 */
export async function nativeLoad(o: NativeLoadOptions): Promise<NativeMeasured> {
  const templates = o.handles.map(resolutionRequest);
  const names = o.handles.map((h) => Buffer.from(h, 'utf8'));
  const timeoutMs = o.timeoutMs ?? 1000;
  const latencies: number[] = [];
  let lost = 0;
  let nextId = 1;
  let nextHandle = 0;
  let running = true;
  let inFlight = 0;
  const request = (): { pending: Pending; bytes: Buffer } => {
    const handle = nextHandle++ % templates.length;
    const bytes = Buffer.from(templates[handle]);
    const pending = { id: nextId++, handle, sent: performance.now() };
    bytes.writeInt32BE(pending.id, 8);
    inFlight++;
    return { pending, bytes };
  };

  let settle: (err?: Error) => void = () => undefined;
  const done = new Promise<void>((resolve, reject) => (settle = (err) => (err ? reject(err) : resolve())));
  done.catch(() => undefined); // a failure while still connecting is thrown where `done` is awaited
  const answered = (answer: Buffer, pending: Pending | undefined): boolean => {
    const problem = pending ? problemWith(answer, pending.id, names[pending.handle]) : 'an answer to no request in flight';
    if (problem || !pending) {
      settle(new Error(`native ${o.transport}: ${problem} (request for ${pending ? o.handles[pending.handle] : '?'})`));
      return false;
    }
    inFlight--;
    if (running) latencies.push(performance.now() - pending.sent);
    else if (inFlight === 0) settle();
    return true;
  };

  const closers: (() => void)[] = [];
  let sweeper: NodeJS.Timeout | undefined;
  let stop: NodeJS.Timeout | undefined;
  let sweep: () => void;
  try {
    if (o.transport === 'udp') {
      const socket = createSocket(o.host.includes(':') ? 'udp6' : 'udp4');
      closers.push(() => socket.close());
      const pending = new Map<number, Pending>(); // in sending order, so the oldest come first
      const send = () => {
        const r = request();
        pending.set(r.pending.id, r.pending);
        socket.send(r.bytes);
      };
      socket.on('error', (err) => settle(err));
      socket.on('message', (packet: Buffer) => {
        if (packet.length >= ENVELOPE && packet[2] & ENV_TRUNCATED) {
          settle(new Error('native udp: an answer spans several packets; the bench keeps records to one'));
          return;
        }
        const id = packet.length >= 12 ? packet.readInt32BE(8) : 0;
        const p = pending.get(id);
        if (!p && id > 0 && id < nextId) return; // a late answer to a request already counted as lost
        pending.delete(id);
        if (answered(packet, p) && running) send();
      });
      socket.connect(o.port, o.host);
      await once(socket, 'connect');
      sweep = () => {
        const now = performance.now();
        for (const [id, p] of pending) {
          if (now - p.sent < timeoutMs) break;
          pending.delete(id);
          inFlight--;
          lost++;
          if (running) send();
        }
        if (!running && inFlight === 0) settle();
      };
      for (let k = 0; k < o.concurrency; k++) send();
    } else {
      const connections = o.connections ?? 4;
      const queues: Pending[][] = [];
      const sockets: Socket[] = [];
      for (let c = 0; c < connections; c++) {
        const socket = connect(o.port, o.host);
        socket.setNoDelay(true);
        sockets.push(socket);
        closers.push(() => socket.destroy());
        await once(socket, 'connect');
      }
      sockets.forEach((socket, c) => {
        const queue: Pending[] = [];
        queues.push(queue);
        const send = (count: number) => {
          const batch: Buffer[] = [];
          for (let k = 0; k < count; k++) {
            const r = request();
            queue.push(r.pending);
            batch.push(r.bytes);
          }
          socket.write(batch.length === 1 ? batch[0] : Buffer.concat(batch));
        };
        let buffered: Buffer = Buffer.alloc(0);
        socket.on('error', (err) => settle(err));
        socket.on('close', () => settle(new Error('native tcp: the server closed a connection')));
        socket.on('data', (chunk: Buffer) => {
          buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
          let count = 0;
          while (buffered.length >= ENVELOPE) {
            const total = ENVELOPE + buffered.readInt32BE(16);
            if (buffered.length < total) break;
            if (!answered(buffered.subarray(0, total), queue.shift())) return;
            buffered = buffered.subarray(total);
            count++;
          }
          if (running && count > 0) send(count);
        });
        send(Math.floor(o.concurrency / connections) + (c < o.concurrency % connections ? 1 : 0));
      });
      sweep = () => {
        const now = performance.now();
        if (queues.some((q) => q.length > 0 && now - q[0].sent > timeoutMs))
          settle(new Error(`native tcp: no answer within ${timeoutMs} ms`));
      };
    }

    sweeper = setInterval(() => sweep(), Math.max(10, timeoutMs / 4));
    stop = setTimeout(() => (running = false), o.durationMs);
    await done;
  } finally {
    clearInterval(sweeper);
    clearTimeout(stop);
    running = false;
    for (const close of closers) close();
  }
  latencies.sort((a, b) => a - b);
  const at = (q: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))] * 10) / 10;
  return { rps: latencies.length / (o.durationMs / 1000), p50: at(0.5), p99: at(0.99), errors: lost, lost };
}
