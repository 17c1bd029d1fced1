import { Socket as UdpSocket, createSocket } from 'node:dgram';
import { IncomingMessage, Server as HttpServer, ServerResponse, createServer as createHttpServer } from 'node:http';
import { AddressInfo, Server as TcpServer, Socket, createServer as createTcpServer } from 'node:net';
import { once } from 'node:events';
import { AppLogger } from '@iip/platform-observability';
import { ENVELOPE_SIZE, MAX_MESSAGE_LENGTH, MAX_UDP_DATA, decodeEnvelope, encodeEnvelope } from './handle-wire';
import { NativeHandleProtocol, framed } from './native-handle.service';

export interface NativeListenOptions {
  host: string;
  /** TCP and UDP (the Handle System's 2641). 0: any free port (tests). */
  port: number;
  /** HTTP (the reference server's 8000). 0: any free port. */
  httpPort: number;
}

/** A TCP connection idle this long is closed. */
const IDLE_MS = 30_000;
/** Multi-packet UDP requests being reassembled at most, and how long one may take. */
const MAX_PENDING_UDP = 1_000;
const UDP_ASSEMBLY_MS = 5_000;
const HDL_MIME = 'application/x-hdl-message';

/**
 * The native Handle protocol's three transports (RFC 3652 §2.1): TCP and UDP on one port, and
 * the binary message POSTed over HTTP. Every message goes to the same protocol handler; a message
 * that cannot be framed closes its TCP connection (nothing can be answered), one that can is
 * answered with the protocol's error code.
 */
export class NativeHandleServer {
  private tcp?: TcpServer;
  private udp?: UdpSocket;
  private http?: HttpServer;
  private readonly sockets = new Set<Socket>();
  private readonly udpPending = new Map<string, { parts: Map<number, Buffer>; length: number; timer: NodeJS.Timeout }>();
  ports = { tcp: 0, udp: 0, http: 0 };

  constructor(
    private readonly protocol: NativeHandleProtocol,
    private readonly logger: AppLogger,
  ) {}

  async listen(options: NativeListenOptions): Promise<void> {
    // Half-open: a client that sends its request and ends its side still gets the answer.
    this.tcp = createTcpServer({ allowHalfOpen: true }, (socket) => this.onConnection(socket));
    this.tcp.listen(options.port, options.host);
    await once(this.tcp, 'listening');
    this.ports.tcp = (this.tcp.address() as AddressInfo).port;

    this.udp = createSocket(options.host.includes(':') ? 'udp6' : 'udp4');
    this.udp.on('message', (msg, rinfo) => this.onDatagram(msg, rinfo.address, rinfo.port));
    this.udp.on('error', (err) => this.logger.warn({ err }, 'native Handle UDP socket error'));
    this.udp.bind(this.ports.tcp, options.host);
    await once(this.udp, 'listening');
    this.ports.udp = this.udp.address().port;

    this.http = createHttpServer((req, res) => this.onHttp(req, res));
    this.http.listen(options.httpPort, options.host);
    await once(this.http, 'listening');
    this.ports.http = (this.http.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    for (const p of this.udpPending.values()) clearTimeout(p.timer);
    this.udpPending.clear();
    const closing = (server: { close(cb: () => void): unknown } | undefined) =>
      server ? new Promise<void>((resolve) => server.close(() => resolve())) : undefined;
    this.http?.closeAllConnections();
    await Promise.all([closing(this.tcp), closing(this.udp), closing(this.http)]);
  }

  /** TCP: envelope + message, repeatedly on one connection; answers in order. */
  private onConnection(socket: Socket): void {
    this.sockets.add(socket);
    let buffered: Buffer = Buffer.alloc(0);
    let queue = Promise.resolve();
    socket.setTimeout(IDLE_MS, () => socket.destroy());
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    // The client finished sending: answer what is complete, then close (a partial message is dropped).
    socket.on('end', () => void queue.then(() => socket.end()));
    socket.on('data', (chunk: Buffer) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      for (;;) {
        if (buffered.length < ENVELOPE_SIZE) return;
        let envelope;
        try {
          envelope = decodeEnvelope(buffered);
        } catch {
          socket.destroy(); // no length to frame by: nothing after it can be read
          return;
        }
        const total = ENVELOPE_SIZE + envelope.messageLength;
        if (buffered.length < total) return;
        const message = buffered.subarray(ENVELOPE_SIZE, total);
        buffered = buffered.subarray(total);
        queue = queue
          .then(() => this.protocol.answer(envelope, message, socket.remoteAddress))
          .then((answer) => void (socket.writable && socket.write(framed(answer))))
          .catch((err: unknown) => {
            this.logger.error({ err }, 'native Handle TCP answer failed');
            socket.destroy();
          });
      }
    });
  }

  /** UDP: one packet, or the packets of a truncated message reassembled by request id. */
  private onDatagram(packet: Buffer, address: string, port: number): void {
    let envelope;
    try {
      envelope = decodeEnvelope(packet);
    } catch {
      return; // not a Handle message: no request id to answer to
    }
    const data = packet.subarray(ENVELOPE_SIZE);
    let message: Buffer | undefined;
    if (!envelope.truncated) {
      message = data; // a length that does not match is answered as the protocol error it is
    } else {
      message = this.reassemble(`${address}|${port}|${envelope.requestId}`, envelope.messageId, envelope.messageLength, data);
      if (!message) return;
    }
    const send = (buf: Buffer) => this.udp?.send(buf, port, address);
    this.protocol
      .answer(envelope, message, address)
      .then((first) => {
        for (const answer of [first, ...(first.continued ?? [])]) {
          const packets = Math.max(1, Math.ceil(answer.message.length / MAX_UDP_DATA));
          for (let i = 0; i < packets; i++) {
            const env = encodeEnvelope({ ...answer.envelope, truncated: packets > 1, messageId: i });
            send(Buffer.concat([env, answer.message.subarray(i * MAX_UDP_DATA, (i + 1) * MAX_UDP_DATA)]));
          }
        }
      })
      .catch((err: unknown) => this.logger.error({ err }, 'native Handle UDP answer failed'));
  }

  private reassemble(key: string, part: number, length: number, data: Buffer): Buffer | undefined {
    const parts = Math.ceil(length / MAX_UDP_DATA);
    if (part < 0 || part >= parts || data.length > MAX_UDP_DATA) return undefined;
    let pending = this.udpPending.get(key);
    if (!pending) {
      if (this.udpPending.size >= MAX_PENDING_UDP) return undefined;
      pending = { parts: new Map(), length, timer: setTimeout(() => this.udpPending.delete(key), UDP_ASSEMBLY_MS) };
      pending.timer.unref();
      this.udpPending.set(key, pending);
    }
    if (pending.length !== length) return undefined;
    pending.parts.set(part, data);
    if (pending.parts.size < parts) return undefined;
    clearTimeout(pending.timer);
    this.udpPending.delete(key);
    const chunks = [...pending.parts.entries()].sort((a, b) => a[0] - b[0]).map(([, chunk]) => chunk);
    const message = Buffer.concat(chunks);
    return message.length === length ? message : undefined;
  }

  /** HTTP: POST of envelope + message, answered with envelope + message. */
  private onHttp(req: IncomingMessage, res: ServerResponse): void {
    const refuse = (status: number, text: string) => {
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' });
      res.end(`${text}\n`);
    };
    if (req.method !== 'POST') {
      refuse(405, `The native Handle interface takes POST of ${HDL_MIME} messages; the REST API is /api/handles on the API port`);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > ENVELOPE_SIZE + MAX_MESSAGE_LENGTH) {
        refuse(413, `A Handle message is at most ${MAX_MESSAGE_LENGTH} bytes`);
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (res.headersSent) return;
      const body = Buffer.concat(chunks);
      let envelope;
      try {
        envelope = decodeEnvelope(body);
      } catch (err) {
        refuse(400, (err as Error).message);
        return;
      }
      this.protocol
        .answer(envelope, body.subarray(ENVELOPE_SIZE), req.socket.remoteAddress)
        .then((answer) => {
          const out = framed(answer);
          res.writeHead(200, { 'content-type': HDL_MIME, 'content-length': out.length });
          res.end(out);
        })
        .catch((err: unknown) => {
          this.logger.error({ err }, 'native Handle HTTP answer failed');
          refuse(500, 'Internal error');
        });
    });
  }
}
