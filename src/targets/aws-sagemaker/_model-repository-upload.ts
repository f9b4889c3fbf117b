/** Connects the publishing of a model kept in S3 to the deploying identity: its account's bootstrap bucket, an S3 client as toolkit-lib makes one. */
import { endpointOverride } from '../../kits/aws/endpoint-override.js';
import { publishRepository, type PublishRepositoryResult } from './_publish-repository.js';
import type { RepositoryInS3 } from './_repository-in-s3.js';
import type { SageMakerContext } from './build.js';

/**
 * Fills `s3://cdk-hnb659fds-assets-<account>-<region>/<prefix>` (the bucket the stack's role
 * policy and ModelDataSource name) for the deploying identity's account.
 */
export async function publishModelRepository(ctx: SageMakerContext, repository: RepositoryInS3): Promise<PublishRepositoryResult & { s3Uri: string }> {
  const [{ STSClient, GetCallerIdentityCommand }, { S3Client }] = await Promise.all([import('@aws-sdk/client-sts'), import('@aws-sdk/client-s3')]);
  const { region } = ctx.plan;
  const sts = new STSClient({ region });
  // An emulator on an IP or localhost has no per-bucket host names.
  const s3 = new S3Client({ region, followRegionRedirects: true, forcePathStyle: endpointOverride('S3') !== undefined });
  try {
    const { Account } = await sts.send(new GetCallerIdentityCommand({}));
    const bucket = `cdk-hnb659fds-assets-${Account}-${region}`;
    const result = await publishRepository({ s3, bucket, repository, io: ctx.io });
    return { ...result, s3Uri: `s3://${bucket}/${repository.prefix}` };
  } finally {
    sts.destroy();
    s3.destroy();
  }
}
