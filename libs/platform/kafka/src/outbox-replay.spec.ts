import { OutboxReplayInputError, parseReplayTime, parseReplayWindow } from './outbox-replay';
import { parseOutboxReplayArgs, runOutboxReplay } from './outbox-replay-cli';

const now = new Date('2026-12-10T00:00:00Z');

describe('replay window', () => {
  it.each([
    ['2026-12-01T00:00:00Z', '2026-12-01T00:00:00.000Z'],
    ['2026-12-01T08:00+08:00', '2026-12-01T00:00:00.000Z'],
    ['2026-12-01T00:00:00.123456Z', '2026-12-01T00:00:00.123Z'],
    ['2024-02-29T12:30:00-05:00', '2024-02-29T17:30:00.000Z'],
  ])('reads %s', (text, iso) => {
    expect(parseReplayTime('--since', text).toISOString()).toBe(iso);
  });

  it.each([
    ['no zone', '2026-12-01T00:00:00'],
    ['a date only', '2026-12-01'],
    ['words', 'yesterday'],
    ['a number', '1796083200'],
    ['a day that does not exist', '2026-02-30T00:00:00Z'],
    ['hour 24', '2026-12-01T24:00:00Z'],
    ['a leap second', '2026-12-31T23:59:60Z'],
    ['an empty string', ''],
  ])('refuses %s', (_what, text) => {
    expect(() => parseReplayTime('--since', text)).toThrow(OutboxReplayInputError);
  });

  it('needs since, refuses a future since and an until not after since', () => {
    expect(() => parseReplayWindow(undefined, undefined, now)).toThrow('--since is required');
    expect(() => parseReplayWindow('2026-12-11T00:00:00Z', undefined, now)).toThrow('in the future');
    expect(() => parseReplayWindow('2026-12-01T00:00:00Z', '2026-12-01T00:00:00Z', now)).toThrow('must be later than --since');
    expect(() => parseReplayWindow('2026-12-01T00:00:00Z', 'soon', now)).toThrow('--until must be an ISO 8601 time');
    expect(parseReplayWindow('2026-12-01T00:00:00Z', '2026-12-02T00:00:00Z', now)).toEqual({
      since: new Date('2026-12-01T00:00:00Z'),
      until: new Date('2026-12-02T00:00:00Z'),
    });
  });
});

describe('outbox:replay command line', () => {
  it('reads service, window and --dry-run', () => {
    expect(parseOutboxReplayArgs(['--service', 'tenancy', '--since', '2026-12-01T00:00:00Z', '--dry-run'], now)).toEqual({
      service: 'tenancy',
      window: { since: new Date('2026-12-01T00:00:00Z') },
      dryRun: true,
    });
    expect(parseOutboxReplayArgs(['--help'])).toBe('help');
  });

  it.each([
    ['no service', ['--since', '2026-12-01T00:00:00Z'], '--service is required'],
    ['no time', ['--service', 'tenancy'], '--since is required'],
    ['a bad time', ['--service', 'tenancy', '--since', '2026-13-01T00:00:00Z'], '--since'],
    ['an unknown option', ['--service', 'tenancy', '--since', '2026-12-01T00:00:00Z', '--force'], "Unknown option '--force'"],
    ['a stray argument', ['tenancy'], 'tenancy'],
  ])('exits 2 on %s, before touching the database', async (_what, argv, message) => {
    const err: string[] = [];
    // An unreachable database: any attempt to connect would fail with exit 1, not 2.
    const code = await runOutboxReplay(
      argv,
      { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' },
      { out: () => undefined, err: (l) => err.push(l) },
    );
    expect(code).toBe(2);
    expect(err.join('\n')).toContain(message);
    expect(err.join('\n')).toContain('usage: npm run outbox:replay');
  });

  it('exits 78 naming DATABASE_URL when it is not a URL', async () => {
    const err: string[] = [];
    const code = await runOutboxReplay(
      ['--service', 'tenancy', '--since', '2026-12-01T00:00:00Z'],
      { DATABASE_URL: 'not a url' },
      {
        out: () => undefined,
        err: (l) => err.push(l),
      },
    );
    expect(code).toBe(78);
    expect(err.join('\n')).toContain('DATABASE_URL');
  });
});
