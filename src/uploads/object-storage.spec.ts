import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { ObjectStorage } from './object-storage';

const KEY = 'uploads/3f0c1a52-7d0e-4c36-9a51-0b8e9f6f2a10/9e1d4c2b-55aa-4f7e-8d0e-3c1b2a4f6e7d';

describe('ObjectStorage.presignGet', () => {
  // Credentials: the emulators' (EMULATOR_AWS_ENV), set for the whole run by the jest global setup.
  it.each([
    ['AWS (virtual-host style)', undefined, 'https://media-bucket.s3.eu-west-1.amazonaws.com'],
    ['an emulator (path style)', 'http://127.0.0.1:4568', 'http://127.0.0.1:4568/media-bucket'],
  ])('signs the URL the SDK would sign for %s, valid 15 minutes, without a checksum', async (_name, endpoint, base) => {
    const storage = new ObjectStorage({ bucket: 'media-bucket', region: 'eu-west-1', endpoint, uploadMaxBytes: 1 });
    const client = new S3Client({
      region: 'eu-west-1',
      endpoint,
      forcePathStyle: endpoint !== undefined,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    try {
      const ours = new URL(await storage.presignGet(KEY));
      const sdk = new URL(await getSignedUrl(client, new GetObjectCommand({ Bucket: 'media-bucket', Key: KEY }), { expiresIn: 900 }));
      expect(`${ours.origin}${ours.pathname}`).toBe(`${base}/${KEY}`);
      expect(ours.searchParams.get('X-Amz-Expires')).toBe('900');
      expect([...ours.searchParams.keys()].filter((k) => /checksum/i.test(k))).toEqual([]);
      // Same signed request as the SDK's full path, minus its x-id marker (a query parameter the SDK adds for routing).
      const params = (url: URL, drop: string[]): Record<string, string> =>
        Object.fromEntries([...url.searchParams].filter(([k]) => !drop.includes(k)));
      const volatile = ['X-Amz-Signature', 'X-Amz-Date', 'x-id'];
      expect(params(ours, volatile)).toEqual(params(sdk, volatile));
    } finally {
      client.destroy();
      storage.onModuleDestroy();
    }
  });

  it('signs each key once a 5-minute window: the same URL within it, 10 to 15 minutes of validity left', async () => {
    const storage = new ObjectStorage({
      bucket: 'media-bucket',
      region: 'eu-west-1',
      endpoint: 'http://127.0.0.1:4568',
      uploadMaxBytes: 1,
    });
    const windowStart = Date.UTC(2026, 11, 1, 12, 5, 0);
    const amzDate = (url: string): string | null => new URL(url).searchParams.get('X-Amz-Date');
    try {
      const first = await storage.presignGet(KEY, windowStart + 1_000);
      expect(await storage.presignGet(KEY, windowStart + 299_999)).toBe(first);
      expect(amzDate(first)).toBe('20261201T120500Z');
      // Valid until windowStart + 900 s: at most 15 minutes, and at least 10, after any moment of the window.
      expect(new URL(first).searchParams.get('X-Amz-Expires')).toBe('900');
      const other = await storage.presignGet(`${KEY}x`, windowStart + 2_000);
      expect(other).not.toBe(first);
      const next = await storage.presignGet(KEY, windowStart + 300_000);
      expect(amzDate(next)).toBe('20261201T121000Z');
    } finally {
      storage.onModuleDestroy();
    }
  });
});
