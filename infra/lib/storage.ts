import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { DeploymentConfig } from './config';
import { ATTACHMENTS_PREFIX, UPLOADS_PREFIX } from './permissions';

/** The folder the identity pool's role could once write to. */
export const IDENTITY_PREFIX = 'identity/';

/**
 * The uploads bucket (private, encrypted, TLS only, CORS for the app's origins) and the bucket
 * that receives its access logs and the load balancer's.
 */
export class Storage extends Construct {
  readonly uploads: s3.Bucket;
  readonly logs: s3.Bucket;

  constructor(scope: Construct, id: string, config: DeploymentConfig) {
    super(scope, id);
    const prod = config.stage === 'prod';
    // dev: `cdk destroy` empties the buckets (every version) and deletes them; prod keeps them.
    const removal = prod ? { removalPolicy: RemovalPolicy.RETAIN } : { removalPolicy: RemovalPolicy.DESTROY, autoDeleteObjects: true };

    this.logs = new s3.Bucket(this, 'Logs', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      // SSE-S3: the only encryption ALB access logs support.
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ id: 'expire-logs', expiration: Duration.days(config.logRetentionDays) }],
      ...removal,
    });
    Validations.of(this.logs).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This is the access-log bucket itself: logging it into itself would loop, and into another bucket only moves the question.',
    });

    this.uploads = new s3.Bucket(this, 'Uploads', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      serverAccessLogsBucket: this.logs,
      serverAccessLogsPrefix: 's3-uploads/',
      cors:
        config.corsOrigins.length === 0
          ? undefined
          : [
              {
                // Presigned POST from the browser, presigned GET read by fetch().
                allowedOrigins: config.corsOrigins,
                allowedMethods: [s3.HttpMethods.POST, s3.HttpMethods.GET, s3.HttpMethods.HEAD],
                allowedHeaders: ['*'],
                exposedHeaders: ['ETag'],
                maxAge: 3600,
              },
            ],
      lifecycleRules: [
        {
          // S3 cannot tell an orphaned upload from an attached one (same key); the API's sweep
          // deletes uploads never attached within 24 h and the objects of deleted posts. These
          // rules make those deletions final and clear what an interrupted upload left behind.
          id: 'orphaned-uploads',
          prefix: UPLOADS_PREFIX,
          abortIncompleteMultipartUploadAfter: Duration.days(1),
          noncurrentVersionExpiration: Duration.days(prod ? 7 : 1),
          expiredObjectDeleteMarker: true,
        },
        {
          // What the identity pool's role could write before it was narrowed: nothing reads it.
          id: 'legacy-identity-folder',
          prefix: IDENTITY_PREFIX,
          expiration: Duration.days(1),
          noncurrentVersionExpiration: Duration.days(1),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
        {
          // The copies attached posts serve: the sweep deletes those of deleted posts.
          id: 'deleted-attachments',
          prefix: ATTACHMENTS_PREFIX,
          noncurrentVersionExpiration: Duration.days(prod ? 7 : 1),
          expiredObjectDeleteMarker: true,
        },
      ],
      ...removal,
    });
    // No principal writes outside uploads/ (presigned POSTs) and attachments/ (the API's copies
    // of attached uploads): the API's role is scoped there already, and this keeps any other
    // grant (a future identity-pool policy, a console user) from reopening the rest.
    this.uploads.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'OnlyUploadsPrefixIsWritable',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:PutObject'],
        notResources: [this.uploads.arnForObjects(`${UPLOADS_PREFIX}*`), this.uploads.arnForObjects(`${ATTACHMENTS_PREFIX}*`)],
      }),
    );
  }
}
