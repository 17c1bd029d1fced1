import { Body, Controller, Get, Module, Post, Query } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AddressInfo, connect } from 'node:net';
import request from 'supertest';
import { HttpProblemFilter, InputSafetyGuard } from '@iip/platform-errors';
import { Metrics, createLogger } from '@iip/platform-observability';
import { setupHttp } from './http-app';

@Controller()
class SampleController {
  @Get('fast') fast() {
    return { from: 'framework' };
  }
  @Get('boom') boom() {
    return { from: 'framework' };
  }
}

@Module({ controllers: [SampleController] })
class SampleModule {}

describe('setupHttp fast path', () => {
  let app: NestExpressApplication;
  const seen: string[] = [];

  beforeAll(async () => {
    app = await NestFactory.create<NestExpressApplication>(SampleModule, { logger: false, bodyParser: false });
    setupHttp(app, {
      logger: createLogger('http-test', 'silent'),
      metrics: new Metrics('http-test'),
      fastPath: (req: IncomingMessage, res: ServerResponse) => {
        seen.push(req.url ?? '');
        if (req.url === '/boom') throw new Error('a bug in the fast path');
        if (req.url !== '/fast') return false;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ from: 'fast path' }));
        return true;
      },
    });
    await app.init();
  });

  afterAll(async () => {
    await app.close();
  });

  it('answers what it takes, passes on what it declines, and hands the framework whatever it fails on', async () => {
    expect((await request(app.getHttpServer()).get('/fast')).body).toEqual({ from: 'fast path' });
    const declined = await request(app.getHttpServer()).get('/nowhere');
    expect(declined.status).toBe(404);
    const failed = await request(app.getHttpServer()).get('/boom');
    expect(failed.status).toBe(200);
    expect(failed.body).toEqual({ from: 'framework' });
    expect(seen).toEqual(['/fast', '/nowhere', '/boom']);
  });
});

@Controller('echo')
class EchoController {
  @Post() echo(@Body() body: unknown, @Query() query: unknown) {
    return { body, query };
  }
}

@Module({
  controllers: [EchoController],
  providers: [
    { provide: APP_GUARD, useClass: InputSafetyGuard },
    { provide: APP_FILTER, useValue: new HttpProblemFilter(createLogger('http-test', 'silent')) },
  ],
})
class EchoModule {}

/** Sends raw bytes and reads the whole answer: what a client sees when Node's parser refuses a request. */
function rawExchange(port: number, head: string): Promise<{ status: number; contentType?: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (data += chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      const [headers, body = ''] = data.split('\r\n\r\n');
      resolve({
        status: Number(/^HTTP\/1\.1 (\d{3})/.exec(headers)?.[1] ?? 0),
        contentType: /content-type: ([^\r\n]+)/i.exec(headers)?.[1],
        body,
      });
    });
    socket.write(head);
  });
}

describe('setupHttp refuses bad input with problem+json', () => {
  let app: NestExpressApplication;
  let port: number;

  beforeAll(async () => {
    app = await NestFactory.create<NestExpressApplication>(EchoModule, { logger: false, bodyParser: false });
    setupHttp(app, { logger: createLogger('http-test', 'silent'), metrics: new Metrics('http-test') });
    await app.listen(0, '127.0.0.1');
    port = (app.getHttpServer().address() as AddressInfo).port;
  });

  afterAll(async () => {
    await app.close();
  });

  it('bounds JSON depth while parsing (10,000 levels answer 400, not a stack overflow)', async () => {
    const res = await request(app.getHttpServer())
      .post('/echo')
      .set('content-type', 'application/json')
      .send(`{"a":${'['.repeat(10_000)}${']'.repeat(10_000)}}`);
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.body.code).toBe('BODY_TOO_DEEP');
    const ok = await request(app.getHttpServer())
      .post('/echo')
      .send({ a: [[[1]]] });
    expect(ok.status).toBe(201);
  });

  it.each([
    ['a U+0000 in the body', '/echo', '{"name":"a\\u0000"}', 'name'],
    ['a lone surrogate in the body', '/echo', '{"list":["ok","\\ud800"]}', 'list[1]'],
    ['a U+0000 in the query', '/echo?cursor=a%00', '{}', 'cursor'],
  ])('refuses %s, naming the field', async (_name, path, body, field) => {
    const res = await request(app.getHttpServer()).post(path).set('content-type', 'application/json').send(body);
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
  });

  it.each([
    ['a 100 KB header', `GET /echo HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(100_000)}\r\n\r\n`, 431],
    ['a 100,000-character URL', `GET /echo?q=${'a'.repeat(100_000)} HTTP/1.1\r\nHost: x\r\n\r\n`, 431],
    ['bad framing', 'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n', 400],
    ['an unknown Expect', 'POST /echo HTTP/1.1\r\nHost: x\r\nExpect: teapot\r\nContent-Length: 2\r\n\r\n{}', 417],
  ])('answers %s with a problem+json status instead of a bare line or a reset', async (_name, head, status) => {
    const res = await rawExchange(port, head);
    expect(res.status).toBe(status);
    expect(res.contentType).toMatch(/application\/problem\+json/);
    expect(JSON.parse(res.body)).toEqual(expect.objectContaining({ status }));
  });
});
