import { z } from 'zod';
import { ConfigError, loadConfig, platformEnvSchema, port, redactConfig, secret } from './config';

describe('loadConfig', () => {
  const shape = {
    ...platformEnvSchema,
    HTTP_PORT: port(3100),
    SIGNING_SECRET: secret(z.string().min(16), 'SIGNING_SECRET'),
  };

  it('applies local defaults', () => {
    const cfg = loadConfig(shape, { SIGNING_SECRET: 'x'.repeat(16) });
    expect(cfg.HTTP_PORT).toBe(3100);
    expect(cfg.KAFKA_BROKERS).toEqual(['127.0.0.1:9092']);
    expect(cfg.DATABASE_URL).toBe('postgres://postgres@127.0.0.1:5432/iip');
  });

  it('names the bad variable and shows its value', () => {
    expect(() => loadConfig(shape, { HTTP_PORT: 'eighty', SIGNING_SECRET: 'x'.repeat(16) })).toThrow(/HTTP_PORT.*eighty/);
  });

  it('lists every bad variable at once', () => {
    try {
      loadConfig(shape, { HTTP_PORT: '99999', KAFKA_BROKERS: 'nohost' });
      throw new Error('expected ConfigError');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const vars = (err as ConfigError).problems.map((p) => p.variable).sort();
      expect(vars).toEqual(['HTTP_PORT', 'KAFKA_BROKERS', 'SIGNING_SECRET']);
    }
  });

  it('never echoes a secret value', () => {
    try {
      loadConfig(shape, { SIGNING_SECRET: 'short-secret' });
      throw new Error('expected ConfigError');
    } catch (err) {
      expect((err as Error).message).toContain('SIGNING_SECRET');
      expect((err as Error).message).not.toContain('short-secret');
    }
    const cfg = loadConfig(shape, { SIGNING_SECRET: 'a-very-long-secret-value' });
    expect(JSON.stringify(redactConfig(cfg))).not.toContain('a-very-long-secret-value');
  });

  it('hides passwords inside connection URLs when logging', () => {
    const cfg = loadConfig(shape, { DATABASE_URL: 'postgres://iip:hunter2@db:5432/iip', SIGNING_SECRET: 'x'.repeat(16) });
    const shown = JSON.stringify(redactConfig(cfg));
    expect(shown).not.toContain('hunter2');
    expect(shown).toContain('postgres://iip:***@db:5432/iip');
  });

  it('treats an empty value as unset', () => {
    expect(loadConfig(shape, { HTTP_PORT: '', SIGNING_SECRET: 'x'.repeat(16) }).HTTP_PORT).toBe(3100);
  });

  it('splits broker lists', () => {
    const cfg = loadConfig(shape, { KAFKA_BROKERS: 'a:9092, b:9093', SIGNING_SECRET: 'x'.repeat(16) });
    expect(cfg.KAFKA_BROKERS).toEqual(['a:9092', 'b:9093']);
  });
});
