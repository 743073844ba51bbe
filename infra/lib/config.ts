/**
 * The deployment's settings, read from CDK context (`-c key=value` or cdk.json) and checked
 * before anything is built: a bad value stops `cdk synth` with one message that says why.
 */

export type Stage = 'dev' | 'prod';
export type DbStorageType = 'gp2' | 'gp3' | 'io1' | 'io2';

export interface TokenLifetimes {
  /** Minutes. Cognito: 5 min .. 1 day. */
  idTokenMinutes: number;
  /** Minutes. Cognito: 5 min .. 1 day. */
  accessTokenMinutes: number;
  /** Days. Cognito: 1 h .. 10 years, and longer than both the ID and the access token. */
  refreshTokenDays: number;
  /** Minutes a login challenge session lives (Cognito: 3..15). */
  authSessionMinutes: number;
}

export interface DeploymentConfig {
  stage: Stage;
  account: string;
  region: string;
  availabilityZones: string[];
  vpcCidr: string;
  natGateways: number;
  db: {
    instanceType: string;
    storageType: DbStorageType;
    allocatedStorageGiB: number;
    /** Storage autoscaling ceiling (RDS MaxAllocatedStorage). */
    maxAllocatedStorageGiB: number;
    iops?: number;
    multiAz: boolean;
    backupRetentionDays: number;
    deletionProtection: boolean;
    poolMax: number;
  };
  tokens: TokenLifetimes;
  domainPrefix: string;
  callbackUrls: string[];
  logoutUrls: string[];
  corsOrigins: string[];
  certificateArn?: string;
  service: {
    cpu: number;
    memoryMiB: number;
    minTasks: number;
    maxTasks: number;
  };
  uploadMaxBytes: number;
  /** The issuer an authenticator app shows next to the account (TOTP_ISSUER). */
  totpIssuer: string;
  reconcileSchedule: string;
  logRetentionDays: number;
  alarmEmail?: string;
  /** The SES address the user pool sends from; none (dev only) keeps Cognito's own sender. */
  emailFrom?: string;
  /** The ADOT collector image, pinned by digest. */
  adotImage: string;
}

/**
 * The ADOT collector, pinned by digest (ECS pulls the digest; the tag is for the reader). The
 * digest is the one public deployments pin for v0.40.0 (the same build is published to Docker Hub
 * and ECR Public); it was looked up, not pulled, as the build machines have no registry access:
 * check it with `docker buildx imagetools inspect` before the first deploy.
 */
export const DEFAULT_ADOT_IMAGE =
  'public.ecr.aws/aws-observability/aws-otel-collector:v0.40.0@sha256:cdd2092033efbad8f4289eb53c2d729fdc2167b5395d71c175628f7eb1eb78aa';

/** What prod refuses to synthesize without, in the order it names the first one missing. */
export const PROD_REQUIRED_KEYS = ['callbackUrls', 'logoutUrls', 'corsOrigins', 'alarmEmail', 'emailFrom'] as const;

/** Reads one context value; `-c` gives strings, cdk.json may give numbers, booleans or arrays. */
export type ContextReader = (key: string) => unknown;

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

const STAGES: readonly Stage[] = ['dev', 'prod'];
const STORAGE_TYPES: readonly DbStorageType[] = ['gp2', 'gp3', 'io1', 'io2'];

/**
 * The IOPS each RDS storage type allows for PostgreSQL (RDS User Guide, "Amazon RDS DB instance
 * storage"): gp2 has none to set (3 IOPS/GiB baseline); gp3 accepts a value only from 400 GiB
 * (below, the baseline is a fixed 3,000), then 12,000..64,000 and at most 500 per GiB; io1 takes
 * 1,000..256,000 at 1..50 per GiB; io2 1,000..256,000 at 0.5..1,000 per GiB. io1/io2 need it.
 */
const IOPS_RULES: Record<
  DbStorageType,
  { min: number; max: number; minPerGiB: number; maxPerGiB: number; minStorage: number } | undefined
> = {
  gp2: undefined,
  gp3: { min: 12_000, max: 64_000, minPerGiB: 0, maxPerGiB: 500, minStorage: 400 },
  io1: { min: 1_000, max: 256_000, minPerGiB: 1, maxPerGiB: 50, minStorage: 100 },
  io2: { min: 1_000, max: 256_000, minPerGiB: 0.5, maxPerGiB: 1_000, minStorage: 100 },
};

/** The API's token expectations (short ID token, access token as long, refresh token 30 days). */
export const DEFAULT_TOKENS: TokenLifetimes = {
  idTokenMinutes: 60,
  accessTokenMinutes: 60,
  refreshTokenDays: 30,
  authSessionMinutes: 3,
};

export function loadConfig(read: ContextReader, env: NodeJS.ProcessEnv = {}): DeploymentConfig {
  const stage = oneOf(read, 'stage', STAGES, 'dev');
  const prod = stage === 'prod';
  if (prod) {
    // prod has no defaults for what reaches users and operators: the URLs, the pager, the sender.
    const missing = PROD_REQUIRED_KEYS.find((key) => raw(read, key) === undefined);
    if (missing !== undefined) {
      throw new ConfigError(`stage prod needs context "${missing}" (${PROD_REQUIRED_KEYS.join(', ')} have no prod default)`);
    }
  }
  // Explicit account and region keep synth offline (no lookups). The account defaults to the one
  // of the CLI's credentials (CDK_DEFAULT_ACCOUNT), else a dummy so synth works without any (CI).
  // The region never comes from the CLI's default: a stage stays in the region it was made in.
  const account = text(read, 'account', env.CDK_DEFAULT_ACCOUNT ?? '123456789012');
  if (!/^[0-9]{12}$/.test(account)) {
    throw new ConfigError(`context "account" must be a 12-digit AWS account id, got "${account}"`);
  }
  const region = text(read, 'region', 'ap-northeast-2');
  if (!/^[a-z]{2}(-[a-z]+)+-[0-9]$/.test(region)) {
    throw new ConfigError(`context "region" must be an AWS region such as ap-northeast-2, got "${region}"`);
  }
  const availabilityZones = list(
    read,
    'availabilityZones',
    ['a', 'b', 'c'].slice(0, prod ? 3 : 2).map((s) => `${region}${s}`),
  );
  if (availabilityZones.length < 2 || availabilityZones.length > 3) {
    throw new ConfigError(`context "availabilityZones" needs two or three zones (RDS needs two), got ${availabilityZones.length}`);
  }
  for (const az of availabilityZones) {
    if (!az.startsWith(region)) {
      throw new ConfigError(`availability zone "${az}" is not in region ${region}`);
    }
  }
  const vpcCidr = text(read, 'vpcCidr', '10.0.0.0/16');
  const cidr = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(vpcCidr);
  if (!cidr || cidr.slice(1, 5).some((o) => Number(o) > 255) || Number(cidr[5]) < 16 || Number(cidr[5]) > 20) {
    throw new ConfigError(`context "vpcCidr" must be an IPv4 CIDR from /16 to /20 (room for 9 subnets), got "${vpcCidr}"`);
  }

  const storageType = oneOf(read, 'dbStorageType', STORAGE_TYPES, 'gp3', (v) =>
    v === 'standard' || v === 'magnetic'
      ? 'magnetic storage is refused: it is previous-generation, slow and cannot be encrypted at rest on current instance classes; use gp3'
      : undefined,
  );
  const allocatedStorageGiB = integer(read, 'dbAllocatedStorageGiB', storageType.startsWith('io') ? 100 : 20, 20, 65_536);
  const iops = optionalInteger(read, 'dbIops');
  checkIops(storageType, allocatedStorageGiB, iops);
  const maxAllocatedStorageGiB = integer(read, 'dbMaxAllocatedStorageGiB', Math.max(100, allocatedStorageGiB * 2), 21, 65_536);
  if (maxAllocatedStorageGiB <= allocatedStorageGiB) {
    throw new ConfigError(
      `context "dbMaxAllocatedStorageGiB" (${maxAllocatedStorageGiB}) must be above "dbAllocatedStorageGiB" (${allocatedStorageGiB}): it is the autoscaling ceiling`,
    );
  }

  const tokens: TokenLifetimes = {
    idTokenMinutes: integer(read, 'idTokenMinutes', DEFAULT_TOKENS.idTokenMinutes),
    accessTokenMinutes: integer(read, 'accessTokenMinutes', DEFAULT_TOKENS.accessTokenMinutes),
    refreshTokenDays: integer(read, 'refreshTokenDays', DEFAULT_TOKENS.refreshTokenDays),
    authSessionMinutes: integer(read, 'authSessionMinutes', DEFAULT_TOKENS.authSessionMinutes),
  };
  checkTokenLifetimes(tokens);

  // dev's defaults only: prod has none (checked above).
  const callbackUrls = list(read, 'callbackUrls', ['http://localhost:8080/auth/callback']);
  const logoutUrls = list(read, 'logoutUrls', ['http://localhost:8080/']);
  for (const u of [...callbackUrls, ...logoutUrls]) {
    checkRedirectUrl(u);
  }
  const corsOrigins = list(read, 'corsOrigins', webOrigins([...callbackUrls, ...logoutUrls]));
  for (const o of corsOrigins) {
    if (!/^https?:\/\/[^/]+$/.test(o)) {
      throw new ConfigError(`context "corsOrigins": "${o}" is not an origin (scheme://host[:port], no path)`);
    }
  }

  const domainPrefix = text(read, 'domainPrefix', `api-${stage}-${account}`);
  // Cognito's rule for prefix domains: lower-case letters, digits and hyphens, and no reserved words.
  if (!/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(domainPrefix) || /aws|amazon|cognito/.test(domainPrefix)) {
    throw new ConfigError(
      `context "domainPrefix" "${domainPrefix}": 1..63 lower-case letters, digits or inner hyphens, without "aws", "amazon" or "cognito"`,
    );
  }

  const totpIssuer = text(read, 'totpIssuer', prod ? 'cognito-nest-api' : `cognito-nest-api (${stage})`);
  // The issuer is the label of an otpauth:// URI: a colon would split it into issuer and account.
  if (totpIssuer.includes(':') || totpIssuer.length > 64) {
    throw new ConfigError(`context "totpIssuer" "${totpIssuer}": at most 64 characters, without ":"`);
  }

  const certificateArn = optionalText(read, 'certificateArn');
  if (certificateArn !== undefined && !/^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate\/[A-Za-z0-9-]+$/.test(certificateArn)) {
    throw new ConfigError(`context "certificateArn" must be an ACM certificate ARN, got "${certificateArn}"`);
  }

  const minTasks = integer(read, 'minTasks', prod ? 2 : 1, 1, 100);
  const maxTasks = integer(read, 'maxTasks', prod ? 6 : 1, 1, 100);
  if (maxTasks < minTasks) {
    throw new ConfigError(`context "maxTasks" (${maxTasks}) must be at least "minTasks" (${minTasks})`);
  }
  const adotImage = text(read, 'adotImage', DEFAULT_ADOT_IMAGE);
  if (!/^[^\s@]+@sha256:[0-9a-f]{64}$/.test(adotImage)) {
    throw new ConfigError(`context "adotImage" must be pinned by digest (<image>[:tag]@sha256:<64 hex>), got "${adotImage}"`);
  }
  const alarmEmail = optionalEmail(read, 'alarmEmail');
  const emailFrom = optionalEmail(read, 'emailFrom');
  if (prod) {
    const values: [string, string[]][] = [
      ['callbackUrls', callbackUrls],
      ['logoutUrls', logoutUrls],
      ['corsOrigins', corsOrigins],
      ['alarmEmail', [alarmEmail!]],
      ['emailFrom', [emailFrom!]],
    ];
    for (const [key, items] of values) {
      const placeholder = items.find(isPlaceholder);
      if (placeholder !== undefined) {
        throw new ConfigError(`context "${key}": "${placeholder}" is a documentation placeholder (example.com); prod needs the real value`);
      }
    }
  }

  return {
    stage,
    account,
    region,
    availabilityZones,
    vpcCidr,
    natGateways: integer(read, 'natGateways', prod ? availabilityZones.length : 1, 1, availabilityZones.length),
    db: {
      instanceType: text(read, 'dbInstanceType', prod ? 't4g.medium' : 't4g.micro'),
      storageType,
      allocatedStorageGiB,
      maxAllocatedStorageGiB,
      iops,
      multiAz: prod,
      backupRetentionDays: prod ? 14 : 1,
      deletionProtection: prod,
      poolMax: integer(read, 'dbPoolMax', 10, 1, 1000),
    },
    tokens,
    domainPrefix,
    callbackUrls,
    logoutUrls,
    corsOrigins,
    certificateArn,
    service: {
      cpu: integer(read, 'taskCpu', prod ? 512 : 256),
      memoryMiB: integer(read, 'taskMemoryMiB', prod ? 1024 : 512),
      minTasks,
      maxTasks,
    },
    uploadMaxBytes: integer(read, 'uploadMaxBytes', 10_485_760, 1, 5 * 1024 ** 3),
    totpIssuer,
    reconcileSchedule: text(read, 'reconcileSchedule', 'cron(0 3 * * ? *)'),
    logRetentionDays: retentionDays(read, prod ? 180 : 30),
    alarmEmail,
    emailFrom,
    adotImage,
  };
}

export function checkIops(type: DbStorageType, storageGiB: number, iops: number | undefined): void {
  const rule = IOPS_RULES[type];
  if (rule === undefined) {
    if (iops !== undefined) {
      throw new ConfigError(
        `dbIops: ${type} storage takes no IOPS value (its IOPS grow with its size, 3 per GiB); use gp3, io1 or io2 to set IOPS`,
      );
    }
    return;
  }
  if (iops === undefined) {
    if (type === 'gp3') {
      return; // the 3,000 IOPS baseline (12,000 from 400 GiB)
    }
    throw new ConfigError(`dbIops: ${type} storage needs an IOPS value (${rule.min}..${rule.max})`);
  }
  if (storageGiB < rule.minStorage) {
    throw new ConfigError(
      type === 'gp3'
        ? `dbIops: gp3 below 400 GiB has a fixed 3,000 IOPS baseline; set dbAllocatedStorageGiB to 400 or more to provision ${iops}`
        : `dbIops: ${type} needs at least ${rule.minStorage} GiB of storage, got ${storageGiB}`,
    );
  }
  if (iops < rule.min || iops > rule.max) {
    throw new ConfigError(`dbIops: ${type} allows ${rule.min}..${rule.max} IOPS, got ${iops}`);
  }
  const perGiB = iops / storageGiB;
  if (perGiB < rule.minPerGiB || perGiB > rule.maxPerGiB) {
    throw new ConfigError(
      `dbIops: ${type} allows ${rule.minPerGiB}..${rule.maxPerGiB} IOPS per GiB; ${iops} IOPS on ${storageGiB} GiB is ${round(perGiB)} per GiB`,
    );
  }
}

/** Cognito's limits, and the API's rule that a refresh token outlives the tokens it renews. */
export function checkTokenLifetimes(t: TokenLifetimes): void {
  for (const [key, value] of [
    ['idTokenMinutes', t.idTokenMinutes],
    ['accessTokenMinutes', t.accessTokenMinutes],
  ] as const) {
    if (value < 5 || value > 1440) {
      throw new ConfigError(`${key} must be 5..1440 minutes (Cognito allows ID and access tokens from 5 minutes to 1 day), got ${value}`);
    }
  }
  if (t.refreshTokenDays < 1 || t.refreshTokenDays > 3650) {
    throw new ConfigError(
      `refreshTokenDays must be 1..3650 days (Cognito allows refresh tokens from 1 hour to 10 years), got ${t.refreshTokenDays}`,
    );
  }
  const refreshMinutes = t.refreshTokenDays * 1440;
  if (refreshMinutes <= Math.max(t.idTokenMinutes, t.accessTokenMinutes)) {
    throw new ConfigError(
      `refreshTokenDays (${t.refreshTokenDays} d) must be longer than both the ID token (${t.idTokenMinutes} min) and the access token (${t.accessTokenMinutes} min): ` +
        'a refresh token that expires first cannot renew them, and Cognito refuses the client',
    );
  }
  if (t.idTokenMinutes > t.accessTokenMinutes) {
    throw new ConfigError(
      `idTokenMinutes (${t.idTokenMinutes}) must not be longer than accessTokenMinutes (${t.accessTokenMinutes}): ` +
        'the ID token carries the profile and groups the API trusts, so it must not outlive the access token it is issued with',
    );
  }
  if (t.authSessionMinutes < 3 || t.authSessionMinutes > 15) {
    throw new ConfigError(
      `authSessionMinutes must be 3..15 (Cognito's range for the authentication flow session), got ${t.authSessionMinutes}`,
    );
  }
}

/** Cognito accepts https, a native app's own scheme (myapp://cb), and http only for localhost. */
function checkRedirectUrl(value: string): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`"${value}" in callbackUrls/logoutUrls is not a URL`);
  }
  const localhost = url.hostname === 'localhost' || url.hostname === '127.0.0.1';
  if (url.protocol === 'http:' && !localhost) {
    throw new ConfigError(`"${value}" in callbackUrls/logoutUrls: Cognito requires https (http only for localhost)`);
  }
  if (url.hash !== '') {
    throw new ConfigError(`"${value}" in callbackUrls/logoutUrls: Cognito refuses a URL with a fragment`);
  }
}

function raw(read: ContextReader, key: string): unknown {
  const value = read(key);
  return value === undefined || value === null || value === '' ? undefined : value;
}

function optionalText(read: ContextReader, key: string): string | undefined {
  const value = raw(read, key);
  if (value === undefined) {
    return undefined;
  }
  if (typeof value !== 'string') {
    throw new ConfigError(`context "${key}" must be a string, got ${JSON.stringify(value)}`);
  }
  return value.trim();
}

function optionalEmail(read: ContextReader, key: string): string | undefined {
  const value = optionalText(read, key);
  if (value !== undefined && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(value)) {
    throw new ConfigError(`context "${key}" is not an email address: "${value}"`);
  }
  return value;
}

/** An RFC 2606 documentation domain (example.com, .net, .org and their subdomains). */
function isPlaceholder(value: string): boolean {
  const host = value.includes('@') ? value.slice(value.lastIndexOf('@') + 1) : safeHost(value);
  return host !== undefined && /(^|\.)example\.(com|net|org)$/i.test(host);
}

function safeHost(value: string): string | undefined {
  try {
    return new URL(value).hostname;
  } catch {
    return undefined;
  }
}

function text(read: ContextReader, key: string, fallback: string): string {
  return optionalText(read, key) ?? fallback;
}

function oneOf<T extends string>(
  read: ContextReader,
  key: string,
  allowed: readonly T[],
  fallback: T,
  explain?: (v: string) => string | undefined,
): T {
  const value = text(read, key, fallback);
  if (!(allowed as readonly string[]).includes(value)) {
    const why = explain?.(value);
    throw new ConfigError(`context "${key}" must be one of ${allowed.join(', ')}, got "${value}"${why ? `: ${why}` : ''}`);
  }
  return value as T;
}

function optionalInteger(read: ContextReader, key: string): number | undefined {
  const value = raw(read, key);
  if (value === undefined) {
    return undefined;
  }
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^-?[0-9]+$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n)) {
    throw new ConfigError(`context "${key}" must be an integer, got ${JSON.stringify(value)}`);
  }
  return n;
}

function integer(read: ContextReader, key: string, fallback: number, min = -Infinity, max = Infinity): number {
  const n = optionalInteger(read, key) ?? fallback;
  if (n < min || n > max) {
    throw new ConfigError(`context "${key}" must be ${min}..${max}, got ${n}`);
  }
  return n;
}

function list(read: ContextReader, key: string, fallback: string[]): string[] {
  const value = raw(read, key);
  if (value === undefined) {
    return fallback;
  }
  const items = Array.isArray(value) ? value : typeof value === 'string' ? value.split(',') : undefined;
  if (items === undefined || items.some((i) => typeof i !== 'string')) {
    throw new ConfigError(`context "${key}" must be a comma-separated list or an array of strings, got ${JSON.stringify(value)}`);
  }
  const out = (items as string[]).map((i) => i.trim()).filter((i) => i !== '');
  if (out.length === 0) {
    throw new ConfigError(`context "${key}" must not be empty`);
  }
  return out;
}

/** The values CloudWatch Logs accepts as a retention. */
const RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

function retentionDays(read: ContextReader, fallback: number): number {
  const days = integer(read, 'logRetentionDays', fallback);
  if (!RETENTION_DAYS.includes(days)) {
    throw new ConfigError(`context "logRetentionDays" must be one CloudWatch Logs accepts (${RETENTION_DAYS.join(', ')}), got ${days}`);
  }
  return days;
}

/** The browser origins among redirect URLs (a native app's scheme has none). */
function webOrigins(urls: string[]): string[] {
  return [
    ...new Set(
      urls
        .map((u) => new URL(u))
        .filter((u) => u.protocol === 'https:' || u.protocol === 'http:')
        .map((u) => u.origin),
    ),
  ];
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
