import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import type { IncomingMessage, ServerResponse } from 'node:http';
import request from 'supertest';
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
