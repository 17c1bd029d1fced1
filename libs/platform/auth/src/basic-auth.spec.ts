import { basicCredentialsFrom } from './basic-auth';

const basic = (raw: string) => `Basic ${Buffer.from(raw, 'utf8').toString('base64')}`;

describe('Basic credentials', () => {
  it('splits user and password at the first colon: the password may hold more', () => {
    expect(basicCredentialsFrom(basic('300%3A88.100.1000%2FADMIN:s3:cr:et'))).toEqual({
      user: '300%3A88.100.1000%2FADMIN',
      password: 's3:cr:et',
    });
    expect(basicCredentialsFrom(`basic  ${Buffer.from('u:').toString('base64')}`)).toEqual({ user: 'u', password: '' });
  });

  it('leaves other schemes to the bearer check', () => {
    expect(basicCredentialsFrom(undefined)).toBeUndefined();
    expect(basicCredentialsFrom('Bearer abc.def.ghi')).toBeUndefined();
    expect(basicCredentialsFrom('Basically')).toBeUndefined();
  });

  it.each([
    ['no credentials', 'Basic'],
    ['no colon', basic('300%3A88.100.1000%2FADMIN')],
    ['an empty user', basic(':secret')],
    ['not base64', 'Basic !!!!'],
    ['base64 of the wrong length', 'Basic YWJj='],
  ])('calls a Basic header with %s malformed', (_case, header) => {
    expect(basicCredentialsFrom(header)).toBe('malformed');
  });
});
