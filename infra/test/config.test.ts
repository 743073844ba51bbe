import { ConfigError, DEFAULT_TOKENS, loadConfig } from '../lib/config';
import { PROD_CONTEXT } from './support/synth';

const load = (context: Record<string, unknown> = {}) => loadConfig((key) => context[key]);
const refused = (context: Record<string, unknown>) => {
  try {
    load(context);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error(`accepted ${JSON.stringify(context)}`);
};

describe('stages', () => {
  it('defaults to dev: one AZ pair, single-AZ database, no deletion protection, one task', () => {
    const c = load();
    expect(c.stage).toBe('dev');
    expect(c.availabilityZones).toEqual(['ap-northeast-2a', 'ap-northeast-2b']);
    expect(c.db).toMatchObject({ multiAz: false, deletionProtection: false, storageType: 'gp3' });
    expect(c.service).toMatchObject({ minTasks: 1, maxTasks: 1 });
  });

  it('prod spans three zones with a Multi-AZ, protected, backed-up database and several tasks', () => {
    const c = load(PROD_CONTEXT);
    expect(c.availabilityZones).toHaveLength(3);
    expect(c.natGateways).toBe(3);
    expect(c.db).toMatchObject({ multiAz: true, deletionProtection: true, backupRetentionDays: 14 });
    expect(c.service.maxTasks).toBeGreaterThan(1);
  });

  it('refuses an unknown stage', () => {
    expect(refused({ stage: 'staging' })).toMatch(/"stage" must be one of dev, prod/);
  });

  it('refuses zones outside the region and a single zone', () => {
    expect(refused({ availabilityZones: 'us-east-1a,us-east-1b' })).toMatch(/not in region ap-northeast-2/);
    expect(refused({ availabilityZones: 'ap-northeast-2a' })).toMatch(/two or three zones/);
  });

  it('refuses a VPC CIDR that is malformed or too small for nine subnets', () => {
    expect(refused({ vpcCidr: '10.0.0.0/24' })).toMatch(/\/16 to \/20/);
    expect(refused({ vpcCidr: '10.300.0.0/16' })).toMatch(/vpcCidr/);
  });
});

describe('prod settings', () => {
  it('refuses prod without each required key, naming the first one missing', () => {
    const keys = ['callbackUrls', 'logoutUrls', 'corsOrigins', 'alarmEmail', 'emailFrom'];
    keys.forEach((key, i) => {
      const context: Record<string, unknown> = { stage: 'prod' };
      for (const k of keys.slice(0, i)) {
        context[k] = PROD_CONTEXT[k];
      }
      expect(refused(context)).toBe(`stage prod needs context "${key}" (${keys.join(', ')} have no prod default)`);
    });
    expect(load(PROD_CONTEXT).emailFrom).toBe('no-reply@ci.invalid');
  });

  it('refuses documentation placeholders (example.com and friends) in prod', () => {
    expect(refused({ ...PROD_CONTEXT, callbackUrls: 'https://app.example.com/auth/callback' })).toMatch(
      /"callbackUrls": "https:\/\/app.example.com\/auth\/callback" is a documentation placeholder/,
    );
    expect(refused({ ...PROD_CONTEXT, logoutUrls: 'https://example.com/' })).toMatch(/"logoutUrls"/);
    expect(refused({ ...PROD_CONTEXT, corsOrigins: 'https://www.example.org' })).toMatch(/"corsOrigins"/);
    expect(refused({ ...PROD_CONTEXT, alarmEmail: 'ops@example.com' })).toMatch(/"alarmEmail": "ops@example.com"/);
    expect(refused({ ...PROD_CONTEXT, emailFrom: 'no-reply@mail.example.net' })).toMatch(/"emailFrom"/);
    expect(load({ ...PROD_CONTEXT, callbackUrls: 'https://app.notexample.com/cb' }).callbackUrls).toEqual([
      'https://app.notexample.com/cb',
    ]);
  });

  it("keeps dev's defaults: localhost URLs, no alarm address, Cognito's own sender", () => {
    const c = load();
    expect(c.callbackUrls).toEqual(['http://localhost:8080/auth/callback']);
    expect(c.logoutUrls).toEqual(['http://localhost:8080/']);
    expect(c.corsOrigins).toEqual(['http://localhost:8080']);
    expect(c.alarmEmail).toBeUndefined();
    expect(c.emailFrom).toBeUndefined();
  });

  it('refuses an emailFrom that is not an address', () => {
    expect(refused({ emailFrom: 'no-reply' })).toMatch(/"emailFrom" is not an email address/);
  });

  it('refuses an ADOT image that is not pinned by digest', () => {
    expect(refused({ adotImage: 'public.ecr.aws/aws-observability/aws-otel-collector:latest' })).toMatch(
      /"adotImage" must be pinned by digest/,
    );
    expect(load().adotImage).toMatch(/@sha256:[0-9a-f]{64}$/);
  });

  it('storage autoscaling: a ceiling above the allocation, 100 GiB by default', () => {
    expect(load().db.maxAllocatedStorageGiB).toBe(100);
    expect(load({ dbAllocatedStorageGiB: '80' }).db.maxAllocatedStorageGiB).toBe(160);
    expect(refused({ dbAllocatedStorageGiB: '200', dbMaxAllocatedStorageGiB: '200' })).toMatch(/must be above "dbAllocatedStorageGiB"/);
  });
});

describe('database storage type and IOPS', () => {
  it('refuses magnetic storage, saying why', () => {
    expect(refused({ dbStorageType: 'standard' })).toMatch(/magnetic storage is refused/);
    expect(refused({ dbStorageType: 'magnetic' })).toMatch(/magnetic storage is refused/);
  });

  it('accepts gp2 without IOPS and refuses an IOPS value for it', () => {
    expect(load({ dbStorageType: 'gp2' }).db.iops).toBeUndefined();
    expect(refused({ dbStorageType: 'gp2', dbIops: '3000' })).toMatch(/gp2 storage takes no IOPS value/);
  });

  it('gp3: the baseline below 400 GiB, 12,000..64,000 IOPS from 400 GiB', () => {
    expect(load({ dbStorageType: 'gp3' }).db.iops).toBeUndefined();
    expect(refused({ dbStorageType: 'gp3', dbIops: '12000' })).toMatch(/gp3 below 400 GiB has a fixed 3,000 IOPS baseline/);
    expect(load({ dbStorageType: 'gp3', dbAllocatedStorageGiB: '400', dbIops: '12000' }).db.iops).toBe(12000);
    expect(refused({ dbStorageType: 'gp3', dbAllocatedStorageGiB: '400', dbIops: '11999' })).toMatch(
      /gp3 allows 12000..64000 IOPS, got 11999/,
    );
    expect(refused({ dbStorageType: 'gp3', dbAllocatedStorageGiB: '400', dbIops: '64001' })).toMatch(/gp3 allows 12000..64000 IOPS/);
  });

  it('io1 needs IOPS, 1,000..256,000, at 1..50 per GiB', () => {
    expect(refused({ dbStorageType: 'io1' })).toMatch(/io1 storage needs an IOPS value/);
    expect(load({ dbStorageType: 'io1', dbIops: '1000' }).db).toMatchObject({ iops: 1000, allocatedStorageGiB: 100 });
    expect(refused({ dbStorageType: 'io1', dbIops: '999' })).toMatch(/io1 allows 1000..256000 IOPS, got 999/);
    expect(refused({ dbStorageType: 'io1', dbIops: '6000' })).toMatch(/io1 allows 1..50 IOPS per GiB; 6000 IOPS on 100 GiB is 60 per GiB/);
    expect(refused({ dbStorageType: 'io1', dbAllocatedStorageGiB: '50', dbIops: '1000' })).toMatch(/io1 needs at least 100 GiB/);
  });

  it('io2 takes up to 1,000 IOPS per GiB and at most 256,000', () => {
    expect(load({ dbStorageType: 'io2', dbIops: '100000' }).db.iops).toBe(100000);
    expect(refused({ dbStorageType: 'io2', dbIops: '256001', dbAllocatedStorageGiB: '1000' })).toMatch(/io2 allows 1000..256000 IOPS/);
    expect(refused({ dbStorageType: 'io2', dbIops: '150000', dbAllocatedStorageGiB: '100' })).toMatch(/0.5..1000 IOPS per GiB/);
  });

  it('refuses an IOPS value that is not an integer', () => {
    expect(refused({ dbStorageType: 'io1', dbIops: 'lots' })).toMatch(/"dbIops" must be an integer/);
  });
});

describe('token lifetimes', () => {
  it('defaults to what the API expects: short ID token, access token as long, refresh token 30 days', () => {
    expect(load().tokens).toEqual(DEFAULT_TOKENS);
    expect(DEFAULT_TOKENS.accessTokenMinutes).toBeGreaterThanOrEqual(DEFAULT_TOKENS.idTokenMinutes);
    expect(DEFAULT_TOKENS.refreshTokenDays).toBe(30);
  });

  it('refuses a refresh token that is not longer than both other tokens, and says why', () => {
    const message = refused({ refreshTokenDays: '1', accessTokenMinutes: '1440' });
    expect(message).toMatch(/refreshTokenDays \(1 d\) must be longer than both the ID token \(60 min\) and the access token \(1440 min\)/);
    expect(message).toMatch(/cannot renew them/);
    expect(refused({ refreshTokenDays: '1', idTokenMinutes: '1440' })).toMatch(/must be longer than both/);
    expect(load({ refreshTokenDays: '1', accessTokenMinutes: '1439', idTokenMinutes: '1439' }).tokens.refreshTokenDays).toBe(1);
  });

  it('refuses an ID token that outlives the access token', () => {
    expect(refused({ idTokenMinutes: '120', accessTokenMinutes: '30' })).toMatch(
      /^idTokenMinutes \(120\) must not be longer than accessTokenMinutes \(30\)/,
    );
    expect(load({ idTokenMinutes: '30', accessTokenMinutes: '30' }).tokens.idTokenMinutes).toBe(30);
    expect(load({ idTokenMinutes: '15', accessTokenMinutes: '30' }).tokens.idTokenMinutes).toBe(15);
  });

  it("refuses lifetimes outside Cognito's limits", () => {
    expect(refused({ idTokenMinutes: '4' })).toMatch(/idTokenMinutes must be 5..1440 minutes \(Cognito allows/);
    expect(refused({ accessTokenMinutes: '1441' })).toMatch(/accessTokenMinutes must be 5..1440/);
    expect(refused({ refreshTokenDays: '3651' })).toMatch(/refreshTokenDays must be 1..3650 days/);
    expect(refused({ refreshTokenDays: '0' })).toMatch(/refreshTokenDays must be 1..3650 days/);
  });

  it('takes an auth session duration of 3..15 minutes only', () => {
    expect(load({ authSessionMinutes: '15' }).tokens.authSessionMinutes).toBe(15);
    expect(refused({ authSessionMinutes: '2' })).toMatch(/authSessionMinutes must be 3..15/);
    expect(refused({ authSessionMinutes: '16' })).toMatch(/authSessionMinutes must be 3..15/);
  });
});

describe('Hosted UI and origins', () => {
  it('takes callback and logout URLs from context, as a list or comma-separated', () => {
    const c = load({ callbackUrls: 'https://a.example/cb, https://b.example/cb', logoutUrls: ['https://a.example/'] });
    expect(c.callbackUrls).toEqual(['https://a.example/cb', 'https://b.example/cb']);
    expect(c.logoutUrls).toEqual(['https://a.example/']);
    expect(c.corsOrigins).toEqual(['https://a.example', 'https://b.example']);
  });

  it('refuses http callback URLs except for localhost, as Cognito does', () => {
    expect(refused({ callbackUrls: 'http://app.example/cb' })).toMatch(/Cognito requires https/);
    expect(load({ callbackUrls: 'http://localhost:5173/cb' }).callbackUrls).toEqual(['http://localhost:5173/cb']);
  });

  it("accepts a native app's own scheme, which gives no CORS origin", () => {
    const c = load({ callbackUrls: 'myapp://auth/cb,https://app.example/cb', logoutUrls: 'myapp://bye' });
    expect(c.callbackUrls).toEqual(['myapp://auth/cb', 'https://app.example/cb']);
    expect(c.corsOrigins).toEqual(['https://app.example']);
  });

  it('refuses a CORS entry that is not an origin', () => {
    expect(refused({ corsOrigins: 'https://app.example/path' })).toMatch(/is not an origin/);
  });

  it('refuses a Hosted UI prefix Cognito would refuse', () => {
    expect(refused({ domainPrefix: 'my-cognito-app' })).toMatch(/without "aws", "amazon" or "cognito"/);
    expect(refused({ domainPrefix: 'Upper' })).toMatch(/domainPrefix/);
  });
});

describe('other settings', () => {
  it('refuses maxTasks below minTasks', () => {
    expect(refused({ minTasks: '3', maxTasks: '2' })).toMatch(/"maxTasks" \(2\) must be at least "minTasks" \(3\)/);
  });

  it('refuses a log retention CloudWatch does not offer', () => {
    expect(refused({ logRetentionDays: '31' })).toMatch(/"logRetentionDays" must be one CloudWatch Logs accepts/);
  });

  it('names the TOTP issuer per stage, so an authenticator app tells dev from prod, and refuses a colon', () => {
    expect(load(PROD_CONTEXT).totpIssuer).toBe('cognito-nest-api');
    expect(load({ stage: 'dev' }).totpIssuer).toBe('cognito-nest-api (dev)');
    expect(load({ totpIssuer: 'Example' }).totpIssuer).toBe('Example');
    expect(refused({ totpIssuer: 'Example:Inc' })).toMatch(/"totpIssuer" "Example:Inc": at most 64 characters, without ":"/);
  });

  it('refuses a certificate that is not an ACM ARN', () => {
    expect(refused({ certificateArn: 'arn:aws:iam::123456789012:server-certificate/x' })).toMatch(/ACM certificate ARN/);
  });

  it('takes the account from the CLI credentials when the context has none, else a dummy', () => {
    expect(loadConfig(() => undefined, { CDK_DEFAULT_ACCOUNT: '210987654321' }).account).toBe('210987654321');
    expect(load().account).toBe('123456789012');
    expect(refused({ account: '12345' })).toMatch(/12-digit AWS account id/);
  });
});
