import ExcelJS from 'exceljs';
import request from 'supertest';
import { ServiceRuntime } from '@iip/platform-runtime';
import { TestEnvironment, createTestEnvironment, waitFor } from '@iip/platform-testing';
import { CreatedTenant, RunningTenancy, clientToken, createTenant, operatorToken, startTestTenancy } from '@iip/tenancy-testing';
import { enterprisePrefixOf, startTestIdentifier } from '@iip/identifier-testing';
import { startTestDeviceRegistry } from '@iip/device-registry-testing';

const SCOPES = [
  'tenants:read',
  'tenants:write',
  'clients:write',
  'devices:read',
  'devices:write',
  'models:write',
  'identifiers:write',
  'renewal:read',
  'renewal:write',
];

const pumpModel = (name: string) => ({
  name,
  definition: { properties: { flow: { type: 'float', unit: 'm3/h', min: 0, max: 1000, access: 'read-only' } } },
});

type Values = Record<string, unknown>;
const valuesOf = (body: { values: { type: string; data: { value: unknown } }[] }): Values =>
  Object.fromEntries(body.values.map((v) => [v.type, v.data.value]));

/** supertest's parser for a binary body (the XLSX), whole. */
const binary = (res: request.Response, done: (err: Error | null, body: Buffer) => void) => {
  const stream = res as unknown as NodeJS.ReadableStream;
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  stream.on('end', () => done(null, Buffer.concat(chunks)));
};

/**
 * Renewal projects with tenancy, identifier and the registry running: a subsidiary's project runs
 * its whole flow, its replacement decommissions the old pump and links both identifiers, the
 * indicators move; a park sees its members' projects as summaries; the exports hold the API's numbers.
 */
describe('renewal projects: status flow, replacement with linked identifiers, indicators, exports', () => {
  let env: TestEnvironment;
  let tenancy: RunningTenancy;
  let node: ServiceRuntime;
  let registry: ServiceRuntime;
  let group: CreatedTenant;
  let groupToken: string;
  let sub: CreatedTenant;
  let subToken: string;
  let siblingToken: string;
  let park: CreatedTenant;
  let parkToken: string;
  let member: CreatedTenant;
  let memberToken: string;
  let oldModel: string;
  let newModel: string;
  let projectId: string;
  let memberPumpId: string;
  const year = new Date().getUTCFullYear();

  const api = () => request(registry.httpUrl);
  const as = (token: string) => ({
    get: (path: string) => api().get(path).auth(token, { type: 'bearer' }),
    post: (path: string, body: object) => api().post(path).auth(token, { type: 'bearer' }).send(body),
    patch: (path: string, body: object) => api().patch(path).auth(token, { type: 'bearer' }).send(body),
  });
  /** Retried while the registry has not yet heard of a just-onboarded tenant (503). */
  const post = (token: string, path: string, body: object) =>
    waitFor(
      async () => {
        const res = await as(token).post(path, body);
        return res.status === 503 ? undefined : res;
      },
      20_000,
      'the registry to know the tenant',
    );
  const device = async (token: string, body: object) => {
    const res = await post(token, '/v1/devices', body);
    expect(res.status).toBe(201);
    return res.body as { id: string };
  };
  const handleOf = (token: string, id: string) =>
    waitFor(
      async () => ((await as(token).get(`/v1/devices/${id}`)).body as { handle: string | null }).handle ?? undefined,
      15_000,
      'the device to get its handle',
    );
  const indicators = async (token: string, tenantId: string, children = false) => {
    const res = await as(token).get(`/v1/renewal/indicators?tenantId=${tenantId}${children ? '&children=true' : ''}`);
    expect(res.status).toBe(200);
    return res.body;
  };
  const model = async (name: string) => {
    const created = await post(groupToken, '/v1/models', pumpModel(name));
    expect(created.status).toBe(201);
    expect((await as(groupToken).post(`/v1/models/${created.body.id}/versions/1/publish`, {})).status).toBe(200);
    return created.body.id as string;
  };

  beforeAll(async () => {
    env = await createTestEnvironment('renewalproj');
    tenancy = await startTestTenancy(env);
    node = await startTestIdentifier(env, tenancy.httpUrl, { IDENTIFIER_NODE_PREFIX: '88.100' });
    registry = await startTestDeviceRegistry(env, tenancy.httpUrl, {
      DEVICE_REGISTRY_PUBLIC_URL: 'https://devices.example.com',
      DEVICE_REGISTRY_TENANCY_GRPC_URL: tenancy.grpcUrl,
    });
    const op = await operatorToken(tenancy);
    group = await createTenant(tenancy, op, { kind: 'group' });
    groupToken = (await clientToken(tenancy, op, group.id, SCOPES)).token;
    sub = await createTenant(tenancy, groupToken, { kind: 'subsidiary', parentId: group.id });
    const sibling = await createTenant(tenancy, groupToken, { kind: 'subsidiary', parentId: group.id });
    subToken = (await clientToken(tenancy, groupToken, sub.id, SCOPES)).token;
    siblingToken = (await clientToken(tenancy, groupToken, sibling.id, SCOPES)).token;
    park = await createTenant(tenancy, op, { kind: 'park' });
    parkToken = (await clientToken(tenancy, op, park.id, SCOPES)).token;
    member = await createTenant(tenancy, op, { kind: 'park-member', parentId: park.id });
    memberToken = (await clientToken(tenancy, op, member.id, SCOPES)).token;
    oldModel = await model('Centrifugal pump (1998 series)');
    newModel = await model('High-efficiency pump IE4');
  });

  afterAll(async () => {
    await registry?.close();
    await node?.close();
    await tenancy?.close();
    await env?.cleanup();
  });

  it('runs planned → approved → procured → installed → verified; the replacement decommissions the old pump, links both handles and moves the indicators', async () => {
    const prefix = await enterprisePrefixOf(node.httpUrl, subToken, "the subsidiary's prefix");
    const oldPump = await device(subToken, {
      name: 'Cooling water pump 1',
      manufacturer: 'Shanghai Pump Works',
      serial: 'SPW-1998-0001',
      model: { id: oldModel },
      status: 'active',
      profile: { category: 'pump', commissionedOn: '1998-06-01', efficiencyGrade: 3, keyProcess: true },
    });
    await device(subToken, {
      name: 'Feed motor',
      manufacturer: 'Wannan Motor',
      serial: 'WM-2021-0007',
      model: { id: oldModel },
      status: 'active',
      profile: { category: 'motor', commissionedOn: '2021-03-01', efficiencyGrade: 2 },
    });
    const oldHandle = await handleOf(subToken, oldPump.id);
    expect(oldHandle.toLowerCase()).toBe(`${prefix}/dev.${oldPump.id}`.toLowerCase());
    const before = await indicators(subToken, sub.id);
    // The motor is at the energy-saving level; the old pump (grade 3) is not.
    expect(before.indicators.energySavingShare).toMatchObject({ numerator: 1, denominator: 2 });
    const devicesBefore = before.devices as number;
    expect(before.indicators.investmentGrowth.numerator).toBe(0);

    // Bad input names the field.
    const body = { tenantId: sub.id, name: 'Pump renewal', deviceIds: [oldPump.id], modelIds: [newModel], estimatedInvestmentCny: 1 };
    for (const [patch, field] of [
      [{ estimatedInvestmentCny: 1.234 }, 'estimatedInvestmentCny'],
      [{ funding: [{ source: 'bank', amountCny: 1 }] }, 'funding.0.source'],
      [{ deviceIds: ['not-a-uuid'] }, 'deviceIds.0'],
      [{ name: undefined }, 'name'],
    ] as const) {
      const bad = await as(groupToken).post('/v1/renewal/projects', { ...body, ...patch });
      expect(bad.status).toBe(400);
      expect(bad.headers['content-type']).toContain('application/problem+json');
      expect(bad.body.errors).toEqual([expect.objectContaining({ field })]);
    }
    // A model the subsidiary may not use, or a device outside its subtree, is refused by name.
    const siblingDevice = await device(siblingToken, {
      name: 'Sibling pump',
      manufacturer: 'X',
      serial: 'S-1',
      model: { id: oldModel },
    });
    const foreign = await as(groupToken).post('/v1/renewal/projects', {
      tenantId: sub.id,
      name: 'Pump renewal',
      deviceIds: [oldPump.id, siblingDevice.id],
      modelIds: [newModel],
      estimatedInvestmentCny: 1,
    });
    expect(foreign.status).toBe(422);
    expect(foreign.body.details.problems).toEqual([
      { field: 'deviceIds.1', message: expect.stringContaining('is not a device of tenant') },
    ]);

    // The group opens the subsidiary's project.
    const created = await as(groupToken).post('/v1/renewal/projects', {
      tenantId: sub.id,
      name: '循环水泵节能改造 (cooling-water pump renewal)',
      deviceIds: [oldPump.id],
      modelIds: [newModel],
      estimatedInvestmentCny: 1_200_000,
      funding: [
        { source: 'central-budget', amountCny: 300_000 },
        { source: 'technical-renewal-reloan', amountCny: 500_000 },
        { source: 'tax-incentive', amountCny: 100_000.5 },
        { source: 'own-funds', amountCny: 299_999.5 },
      ],
    });
    expect(created.status).toBe(201);
    projectId = created.body.id;
    expect(created.body).toMatchObject({
      tenantId: sub.id,
      status: 'planned',
      view: 'full',
      deviceIds: [oldPump.id],
      modelIds: [newModel],
      deviceCount: 1,
      replacedCount: 0,
      estimatedInvestmentCny: 1_200_000,
      actualInvestmentCny: null,
      fundingTotalCny: 1_200_000,
      history: [{ status: 'planned', at: expect.any(String), by: expect.any(String) }],
    });
    // A device is renewed by one project at most.
    const twice = await as(subToken).post('/v1/renewal/projects', {
      name: 'Again',
      deviceIds: [oldPump.id],
      modelIds: [newModel],
      estimatedInvestmentCny: 1,
    });
    expect(twice.status).toBe(409);
    expect(twice.body.code).toBe('DEVICE_IN_ANOTHER_PROJECT');

    const step = (to: string, extra: object = {}) => as(subToken).post(`/v1/renewal/projects/${projectId}/transitions`, { to, ...extra });
    // Only the next step: skipping one, going back or a status that does not exist.
    const skipped = await step('procured');
    expect(skipped.status).toBe(409);
    expect(skipped.headers['content-type']).toContain('application/problem+json');
    expect(skipped.body).toMatchObject({ code: 'PROJECT_TRANSITION_NOT_ALLOWED', details: { status: 'planned', next: 'approved' } });
    expect((await step('cancelled')).body.errors).toEqual([expect.objectContaining({ field: 'to' })]);
    expect((await step('approved')).body.status).toBe('approved');
    expect((await step('planned')).status).toBe(409);

    // Replacing before procurement is refused.
    const sameOld = await device(subToken, {
      name: 'Spare old pump',
      manufacturer: 'Shanghai Pump Works',
      serial: 'SPW-1999-0009',
      model: { id: oldModel },
    });
    const early = await as(subToken).post(`/v1/renewal/projects/${projectId}/replacements`, {
      oldDeviceId: oldPump.id,
      newDeviceId: sameOld.id,
    });
    expect(early.status).toBe(409);
    expect(early.body.code).toBe('PROJECT_STATE_CONFLICT');
    expect((await step('procured')).body.status).toBe('procured');
    // A device of another subsidiary reads as missing; one of a model the project does not name is refused by field.
    const foreignNew = await as(subToken).post(`/v1/renewal/projects/${projectId}/replacements`, {
      oldDeviceId: oldPump.id,
      newDeviceId: siblingDevice.id,
    });
    expect(foreignNew.status).toBe(404);
    const wrongModel = await as(subToken).post(`/v1/renewal/projects/${projectId}/replacements`, {
      oldDeviceId: oldPump.id,
      newDeviceId: sameOld.id,
    });
    expect(wrongModel.status).toBe(422);
    expect(wrongModel.body).toMatchObject({ code: 'REPLACEMENT_INVALID', details: { problems: [{ field: 'newDeviceId' }] } });

    // The new pump is registered as usual and replaces the old one at once (most likely before identifier has registered its handle).
    const newPump = await device(subToken, {
      name: 'Cooling water pump 1 (IE4)',
      manufacturer: 'Shanghai Pump Works',
      serial: 'SPW-2026-0001',
      model: { id: newModel },
      status: 'active',
      profile: { category: 'pump', commissionedOn: '2026-01-15', efficiencyGrade: 1, keyProcess: true, ncCapable: true },
    });
    const replace = () =>
      as(subToken).post(`/v1/renewal/projects/${projectId}/replacements`, { oldDeviceId: oldPump.id, newDeviceId: newPump.id });
    const replaced = await replace();
    expect(replaced.status).toBe(201);
    expect(replaced.body).toMatchObject({ projectId, oldDeviceId: oldPump.id, newDeviceId: newPump.id, oldHandle, at: expect.any(String) });
    // The same replacement again answers the same; the old pump is decommissioned and both record the link.
    const again = await replace();
    expect(again.status).toBe(201);
    expect({ ...again.body, newHandle: undefined }).toEqual({ ...replaced.body, newHandle: undefined });
    expect((await as(subToken).get(`/v1/devices/${oldPump.id}`)).body).toMatchObject({ status: 'decommissioned', replacedBy: newPump.id });
    expect((await as(subToken).get(`/v1/devices/${newPump.id}`)).body).toMatchObject({ status: 'active', replaces: oldPump.id });
    const newHandle = await handleOf(subToken, newPump.id);

    // Both handles resolve at identifier with the link (the new one may not have been registered when the link was made).
    const resolved = (handle: string, expected: Values) =>
      waitFor(
        async () => {
          const r = await request(node.httpUrl).get(`/api/handles/${handle}`);
          const values = r.status === 200 ? valuesOf(r.body) : {};
          return Object.entries(expected).every(([k, v]) => String(values[k]).toLowerCase() === String(v).toLowerCase())
            ? values
            : undefined;
        },
        15_000,
        `${handle} to show the link`,
      );
    expect(await resolved(oldHandle, { STATUS: 'decommissioned', IIP_REPLACED_BY: newHandle })).toMatchObject({
      SERIAL: 'SPW-1998-0001',
    });
    expect(await resolved(newHandle, { STATUS: 'active', IIP_REPLACES: oldHandle })).not.toHaveProperty('IIP_REPLACED_BY');

    // Spending is recorded from installed on, per year.
    expect((await step('installed', { actualInvestments: [{ year: 2025, amountCny: 1 }] })).status).toBe(200);
    const corrected = await as(subToken).patch(`/v1/renewal/projects/${projectId}`, {
      actualInvestments: [{ year, amountCny: 1_150_000.5 }],
    });
    expect(corrected.status).toBe(200);
    expect(corrected.body).toMatchObject({ actualInvestmentCny: 1_150_000.5, actualInvestments: [{ year, amountCny: 1_150_000.5 }] });
    const investments = await as(subToken).get(`/v1/renewal/investments?tenantId=${sub.id}`);
    expect(investments.body.items).toEqual([expect.objectContaining({ year, source: 'project', projectId })]);
    const verified = await step('verified');
    expect(verified.status).toBe(200);
    expect(verified.body.history.map((h: { status: string }) => h.status)).toEqual([
      'planned',
      'approved',
      'procured',
      'installed',
      'verified',
    ]);
    for (const h of verified.body.history) expect(Number.isNaN(Date.parse(h.at))).toBe(false);
    const final = await step('verified');
    expect(final.status).toBe(409);
    expect(final.body.detail).toContain('last step');
    expect((await as(subToken).patch(`/v1/renewal/projects/${projectId}`, { name: 'Renamed' })).body.code).toBe('PROJECT_STATE_CONFLICT');

    // The indicators moved: the old pump is gone from the counts, the IE4 pump counts at the saving level, the spending is this year's.
    const after = await indicators(subToken, sub.id);
    // Three devices came (the IE4 pump, a spare, the sibling's is not counted here), one went.
    expect(after.devices).toBe(devicesBefore + 1);
    expect(after.indicators.energySavingShare).toMatchObject({ numerator: 2, denominator: 2, value: 1 });
    expect(after.indicators.investmentGrowth.numerator).toBe(1_150_000.5);
  });

  it("lets a park read its members' projects as summaries only; others get 404 as for a missing project", async () => {
    const own = await post(memberToken, '/v1/models', pumpModel('Member pump'));
    expect((await as(memberToken).post(`/v1/models/${own.body.id}/versions/1/publish`, {})).status).toBe(200);
    const memberPump = await device(memberToken, {
      name: 'Boiler feed pump',
      manufacturer: 'Dalian Pump',
      serial: 'DP-2009-0003',
      model: { id: own.body.id },
    });
    memberPumpId = memberPump.id;
    const created = await post(memberToken, '/v1/renewal/projects', {
      name: 'Boiler feed pump renewal',
      deviceIds: [memberPump.id],
      modelIds: [oldModel],
      estimatedInvestmentCny: 80_000,
      funding: [{ source: 'own-funds', amountCny: 80_000 }],
    });
    // The group's model belongs to another tree: not one the member may use.
    expect(created.status).toBe(422);
    expect(created.body.details.problems).toEqual([{ field: 'modelIds.0', message: expect.stringContaining('may use') }]);
    const project = await as(memberToken).post('/v1/renewal/projects', {
      name: 'Boiler feed pump renewal',
      deviceIds: [memberPump.id],
      modelIds: [own.body.id],
      estimatedInvestmentCny: 80_000,
      funding: [{ source: 'own-funds', amountCny: 80_000 }],
    });
    expect(project.status).toBe(201);

    const seen = await as(parkToken).get(`/v1/renewal/projects/${project.body.id}`);
    expect(seen.status).toBe(200);
    expect(seen.body).toMatchObject({ view: 'summary', deviceCount: 1, estimatedInvestmentCny: 80_000, fundingTotalCny: 80_000 });
    expect(seen.body).not.toHaveProperty('deviceIds');
    expect(seen.body).not.toHaveProperty('replacements');
    const listed = await as(parkToken).get('/v1/renewal/projects');
    expect(listed.body.items.map((p: { id: string; view: string }) => [p.id, p.view])).toEqual([[project.body.id, 'summary']]);
    const change = await as(parkToken).post(`/v1/renewal/projects/${project.body.id}/transitions`, { to: 'approved' });
    expect(change.status).toBe(403);

    // A sibling, the park for the group's project, and a missing id answer alike.
    const shape = (b: Record<string, unknown>) => ({ ...b, detail: undefined, instance: undefined, requestId: undefined });
    const missing = await as(siblingToken).get('/v1/renewal/projects/00000000-0000-4000-8000-000000000000');
    for (const [token, id] of [
      [siblingToken, projectId],
      [parkToken, projectId],
      [subToken, project.body.id],
    ]) {
      const res = await as(token).get(`/v1/renewal/projects/${id}`);
      expect(res.status).toBe(404);
      expect(shape(res.body)).toEqual(shape(missing.body));
    }
    expect((await as(siblingToken).get('/v1/renewal/projects')).body.items).toEqual([]);
  });

  it('exports the projects and the indicators as CSV and XLSX with the numbers the API answers; a park exports aggregates only', async () => {
    const project = (await as(groupToken).get(`/v1/renewal/projects/${projectId}`)).body;

    const xlsx = await as(groupToken).get('/v1/renewal/exports/projects.xlsx').buffer(true).parse(binary);
    expect(xlsx.status).toBe(200);
    expect(xlsx.headers['content-type']).toBe('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(xlsx.body as ArrayBuffer);
    const sheet = workbook.worksheets[0];
    const header = (sheet.getRow(1).values as unknown[]).slice(1) as string[];
    const rows = Array.from({ length: sheet.rowCount - 1 }, (_, i) => {
      const values = (sheet.getRow(i + 2).values as unknown[]).slice(1);
      return Object.fromEntries(header.map((h, j) => [h, values[j] ?? null]));
    });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      projectId,
      name: project.name,
      tenantId: sub.id,
      status: 'verified',
      plannedAt: project.history[0].at,
      verifiedAt: project.history[4].at,
      devices: project.deviceCount,
      devicesReplaced: project.replacedCount,
      estimatedInvestmentCny: project.estimatedInvestmentCny,
      actualInvestmentCny: project.actualInvestmentCny,
      'funding.central-budget': 300_000,
      'funding.technical-renewal-reloan': 500_000,
      'funding.tax-incentive': 100_000.5,
      'funding.own-funds': 299_999.5,
      fundingTotalCny: project.fundingTotalCny,
    });

    const csv = await as(groupToken).get(`/v1/renewal/exports/projects.csv?tenantId=${sub.id}`);
    expect(csv.status).toBe(200);
    expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
    const lines = csv.text
      .replace(/^\uFEFF/, '')
      .trimEnd()
      .split('\r\n');
    expect(lines[0].split(',')).toEqual(header);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain(`${projectId},循环水泵节能改造 (cooling-water pump renewal),${sub.id},verified,${project.history[0].at},`);
    expect(lines[1]).toContain(',1,1,1200000,1150000.5,300000,500000,100000.5,299999.5,1200000');

    // The group's indicators with a row per subsidiary, as GET /v1/renewal/indicators?children=true answers them.
    const api = await indicators(groupToken, group.id, true);
    const ixlsx = await as(groupToken).get(`/v1/renewal/exports/indicators.xlsx?tenantId=${group.id}`).buffer(true).parse(binary);
    const ibook = new ExcelJS.Workbook();
    await ibook.xlsx.load(ixlsx.body as ArrayBuffer);
    const isheet = ibook.worksheets[0];
    const iheader = (isheet.getRow(1).values as unknown[]).slice(1) as string[];
    const irows = Array.from({ length: isheet.rowCount - 1 }, (_, i) => {
      const values = (isheet.getRow(i + 2).values as unknown[]).slice(1);
      return Object.fromEntries(iheader.map((h, j) => [h, values[j] ?? null]));
    });
    const expected = [api, ...api.children];
    expect(irows.map((r) => r.tenantId)).toEqual(expected.map((r: { tenantId: string }) => r.tenantId));
    for (const [i, r] of irows.entries()) {
      expect(r.devices).toBe(expected[i].devices);
      for (const k of ['keyProcessNcRate', 'networkingRate', 'energySavingShare', 'overAgeShare', 'investmentGrowth']) {
        const ind = expected[i].indicators[k];
        expect([r[`${k}.numerator`], r[`${k}.denominator`], r[`${k}.value`], r[`${k}.target`]]).toEqual([
          ind.numerator,
          ind.denominator,
          ind.value,
          ind.target,
        ]);
      }
    }
    const subRow = irows.find((r) => r.tenantId === sub.id);
    expect(subRow).toMatchObject({
      'energySavingShare.numerator': 2,
      'energySavingShare.denominator': 2,
      'investmentGrowth.numerator': 1_150_000.5,
    });

    // A park: its own figures and one row per member, aggregates only; its project export holds summaries, no device ids.
    const pcsv = await as(parkToken).get(`/v1/renewal/exports/indicators.csv?tenantId=${park.id}`);
    expect(pcsv.status).toBe(200);
    const plines = pcsv.text
      .replace(/^\uFEFF/, '')
      .trimEnd()
      .split('\r\n');
    expect(plines.map((l) => l.split(',')[0]).slice(1)).toEqual([park.id, member.id]);
    const pprojects = await as(parkToken).get('/v1/renewal/exports/projects.csv');
    expect(pprojects.text).toContain(member.id);
    expect(pprojects.text).not.toContain(memberPumpId);
    expect(pprojects.text).not.toContain('dev.');
    // Someone else's tenant is a 404, as elsewhere.
    const foreign = await as(siblingToken).get(`/v1/renewal/exports/indicators.xlsx?tenantId=${group.id}`);
    expect(foreign.status).toBe(404);
    expect(foreign.headers['content-type']).toContain('application/problem+json');
  });
});
