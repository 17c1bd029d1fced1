import { ConfigError } from '@iip/platform-config';
import { DEV_KEY_ENCRYPTION_SECRET, loadTenancyConfig } from './config';

describe('tenancy configuration', () => {
  it('runs locally with no variables set', () => {
    const cfg = loadTenancyConfig({});
    expect(cfg.TENANCY_HTTP_PORT).toBe(3100);
    expect(cfg.TENANCY_GRPC_PORT).toBe(50100);
    expect(cfg.TENANCY_KEY_ENCRYPTION_SECRET).toBe(DEV_KEY_ENCRYPTION_SECRET);
  });

  it('refuses the development key secret in production', () => {
    expect(() => loadTenancyConfig({ NODE_ENV: 'production' })).toThrow(/TENANCY_KEY_ENCRYPTION_SECRET/);
  });

  it('wants the operator client id and secret together', () => {
    expect(() => loadTenancyConfig({ OPERATOR_CLIENT_ID: 'operator' })).toThrow(/OPERATOR_CLIENT_SECRET/);
  });

  it('wants tokens to live no longer than the revocation window services read back', () => {
    expect(() => loadTenancyConfig({ ACCESS_TOKEN_TTL_SECONDS: '3600', AUTH_REVOCATION_WINDOW_S: '600' })).toThrow(
      /ACCESS_TOKEN_TTL_SECONDS: must not exceed AUTH_REVOCATION_WINDOW_S/,
    );
    expect(loadTenancyConfig({ ACCESS_TOKEN_TTL_SECONDS: '600', AUTH_REVOCATION_WINDOW_S: '600' }).AUTH_REVOCATION_WINDOW_S).toBe(600);
  });

  it('names a bad credit code and token lifetime', () => {
    try {
      loadTenancyConfig({ PLATFORM_CREDIT_CODE: '91350100M000100Y44', ACCESS_TOKEN_TTL_SECONDS: '5' });
      throw new Error('expected ConfigError');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).problems.map((p) => p.variable).sort()).toEqual(['ACCESS_TOKEN_TTL_SECONDS', 'PLATFORM_CREDIT_CODE']);
    }
  });
});
