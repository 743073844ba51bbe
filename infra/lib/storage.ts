import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { DeploymentConfig } from './config';
import { ATTACHMENTS_PREFIX, UPLOADS_PREFIX } from './permissions';

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
    const removal = prod ? { removalPolicy: RemovalPolicy.RETAIN } : { removalPolicy: RemovalPolicy.DESTROY };

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
          // The copies attached posts serve: the sweep deletes those of deleted posts.
          id: 'deleted-attachments',
          prefix: ATTACHMENTS_PREFIX,
          noncurrentVersionExpiration: Duration.days(prod ? 7 : 1),
          expiredObjectDeleteMarker: true,
        },
      ],
      ...removal,
    });
  }
}
