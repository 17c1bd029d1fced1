import request from 'supertest';
import { TestEnvironment, createTestEnvironment, waitFor } from '@iip/platform-testing';
import { RunningTenancy } from '../src/tenancy-app';
import { CreatedTenant, clientToken, createTenant, makeCreditCode, operatorToken, startTestTenancy } from './support';

describe('bulk onboarding of subsidiaries and park members', () => {
  let env: TestEnvironment;
  let app: RunningTenancy;
  let groupToken: string;
  let group: CreatedTenant;

  beforeAll(async () => {
    env = await createTestEnvironment('onboarding');
    app = await startTestTenancy(env);
    const op = await operatorToken(app);
    group = await createTenant(app, op, { kind: 'group' });
    groupToken = (await clientToken(app, op, group.id, ['tenants:read', 'tenants:write', 'clients:write'])).token;
  });

  afterAll(async () => {
    await app?.close();
    await env?.cleanup();
  });

  async function submit(contentType: string, body: string, parentId = group.id, token = groupToken) {
    return request(app.httpUrl)
      .post(`/v1/tenants/${parentId}/onboarding-jobs`)
      .auth(token, { type: 'bearer' })
      .set('Content-Type', contentType)
      .send(body);
  }

  async function finished(jobId: string) {
    return waitFor(
      async () => {
        const res = await request(app.httpUrl).get(`/v1/onboarding-jobs/${jobId}`).auth(groupToken, { type: 'bearer' });
        return res.body.status === 'completed' ? res.body : undefined;
      },
      30_000,
      'the job to complete',
    );
  }

  async function allResults(jobId: string) {
    const items: { line: number; status: string; tenantId: string | null; error: { code: string } | null }[] = [];
    let cursor: string | null = null;
    do {
      const res: request.Response = await request(app.httpUrl)
        .get(`/v1/onboarding-jobs/${jobId}/results?limit=2${cursor ? `&cursor=${cursor}` : ''}`)
        .auth(groupToken, { type: 'bearer' });
      expect(res.status).toBe(200);
      items.push(...res.body.items);
      cursor = res.body.nextCursor;
    } while (cursor);
    return items;
  }

  it('onboards NDJSON rows with a result per row, and a re-sent file creates nothing new', async () => {
    const a = makeCreditCode();
    const b = makeCreditCode();
    const ndjson = [
      JSON.stringify({ kind: 'subsidiary', name: 'Plant A', creditCode: a, contact: { email: 'a@example.com' } }),
      '{"kind": "subsidiary", "name": broken',
      JSON.stringify({ kind: 'subsidiary', name: 'Plant B', creditCode: b, quotas: { maxDevices: 20, maxTelemetryPointsPerSecond: 100 } }),
      JSON.stringify({ kind: 'subsidiary', name: 'Bad code', creditCode: '91350100M000100Y44' }),
      JSON.stringify({ kind: 'park-member', name: 'Wrong kind', creditCode: makeCreditCode() }),
      JSON.stringify({ kind: 'subsidiary', name: 'Plant A again', creditCode: a }),
    ].join('\n');

    const res = await submit('application/x-ndjson', ndjson);
    expect(res.status).toBe(202);
    expect(res.headers.location).toBe(`/v1/onboarding-jobs/${res.body.id}`);
    expect(res.body).toMatchObject({ total: 6, status: expect.stringMatching(/pending|running|completed/) });

    const job = await finished(res.body.id);
    expect(job).toMatchObject({ total: 6, processed: 6, created: 2, existing: 1, failed: 3 });
    const results = await allResults(res.body.id);
    expect(results.map((r) => [r.line, r.status, r.error?.code ?? null])).toEqual([
      [1, 'created', null],
      [2, 'failed', 'MALFORMED_ROW'],
      [3, 'created', null],
      [4, 'failed', 'VALIDATION_FAILED'],
      [5, 'failed', 'KIND_NOT_ALLOWED_UNDER_PARENT'],
      [6, 'existing', null],
    ]);
    expect(results[5].tenantId).toBe(results[0].tenantId);

    const plantB = await request(app.httpUrl).get(`/v1/tenants/${results[2].tenantId}`).auth(groupToken, { type: 'bearer' });
    expect(plantB.body).toMatchObject({ name: 'Plant B', parentId: group.id, quotas: { maxDevices: 20 } });

    // Re-sent after a timeout: nothing new is created, every row says what already exists.
    const again = await submit('application/x-ndjson', ndjson);
    const secondJob = await finished(again.body.id);
    expect(secondJob).toMatchObject({ created: 0, existing: 3, failed: 3 });
    const descendants = await request(app.httpUrl)
      .get(`/v1/tenants/${group.id}/descendants?limit=200`)
      .auth(groupToken, { type: 'bearer' });
    expect(descendants.body.items.filter((t: { creditCode: string }) => [a, b].includes(t.creditCode))).toHaveLength(2);

    // Each created tenant's TenantOnboarded event went through the outbox once.
    const events: { n: number }[] = await app.dataSource.query(
      `SELECT count(*)::int AS n FROM outbox WHERE envelope->>'type' = 'TenantOnboarded' AND envelope->'data'->>'creditCode' = ANY($1)`,
      [[a, b]],
    );
    expect(events[0].n).toBe(2);
  });

  it('onboards from CSV', async () => {
    const c1 = makeCreditCode();
    const c2 = makeCreditCode();
    const csv = `kind,name,creditCode,contactEmail,maxDevices,maxTelemetryPointsPerSecond\nsubsidiary,"Works, Ltd",${c1},ops@example.com,5,50\nsubsidiary,Second,${c2},,,\n`;
    const res = await submit('text/csv', csv);
    expect(res.status).toBe(202);
    const job = await finished(res.body.id);
    expect(job).toMatchObject({ total: 2, created: 2, failed: 0 });
    const results = await allResults(res.body.id);
    const works = await request(app.httpUrl).get(`/v1/tenants/${results[0].tenantId}`).auth(groupToken, { type: 'bearer' });
    expect(works.body).toMatchObject({
      name: 'Works, Ltd',
      creditCode: c1,
      contact: { email: 'ops@example.com' },
      quotas: { maxDevices: 5 },
    });
  });

  it('lets a park admit members in bulk but not a subsidiary onboard under its sibling', async () => {
    const op = await operatorToken(app);
    const park = await createTenant(app, op, { kind: 'park' });
    const parkToken = (await clientToken(app, op, park.id, ['tenants:read', 'tenants:write'])).token;
    const res = await submit(
      'application/x-ndjson',
      JSON.stringify({ kind: 'park-member', name: 'Member', creditCode: makeCreditCode() }),
      park.id,
      parkToken,
    );
    expect(res.status).toBe(202);

    const sub = await createTenant(app, groupToken, { kind: 'subsidiary' });
    const sibling = await createTenant(app, groupToken, { kind: 'subsidiary' });
    const subToken = (await clientToken(app, groupToken, sub.id, ['tenants:read', 'tenants:write'])).token;
    const denied = await submit(
      'application/x-ndjson',
      JSON.stringify({ kind: 'subsidiary', name: 'x', creditCode: makeCreditCode() }),
      sibling.id,
      subToken,
    );
    expect(denied.status).toBe(404);
    // Nor can it read the group's jobs.
    const jobOfGroup = await submit(
      'application/x-ndjson',
      JSON.stringify({ kind: 'subsidiary', name: 'y', creditCode: makeCreditCode() }),
    );
    const peek = await request(app.httpUrl).get(`/v1/onboarding-jobs/${jobOfGroup.body.id}`).auth(subToken, { type: 'bearer' });
    expect(peek.status).toBe(404);
  });
});
