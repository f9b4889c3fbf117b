import { randomBytes, randomUUID } from 'node:crypto';
import type { FakeContext } from './_context.js';
import type { CfnStack } from './_cfn-model.js';
import { ecrFake } from './ecr.js';

export interface BootstrapOptions {
  /** @default '30' */
  readonly version?: number | string;
  /** @default 'hnb659fds' */
  readonly qualifier?: string;
  /** @default 'CDKToolkit' */
  readonly toolkitStackName?: string;
}

/**
 * What `cdk bootstrap` leaves behind, as far as a deploy looks: the staging bucket
 * `cdk-<qualifier>-assets-<account>-<region>`, the ECR repository
 * `cdk-<qualifier>-container-assets-<account>-<region>` (named by the stack's ImageRepositoryName
 * output, as the bootstrap template's ContainerAssetsRepository is), the SSM parameter
 * `/cdk-bootstrap/<qualifier>/version`, the five bootstrap roles and the `CDKToolkit` stack.
 */
export function bootstrapEnvironment(ctx: FakeContext, options: BootstrapOptions = {}): void {
  const qualifier = options.qualifier ?? 'hnb659fds';
  const version = String(options.version ?? 30);
  const { accountId, region } = ctx;
  const bucket = `cdk-${qualifier}-assets-${accountId}-${region}`;
  if (!ctx.state.s3.has(bucket)) ctx.state.s3.set(bucket, new Map());
  const repositoryName = `cdk-${qualifier}-container-assets-${accountId}-${region}`;
  const ecr = ecrFake(ctx.state);
  if (!ecr.repositories.has(repositoryName)) ecr.createRepository(ctx, repositoryName);
  const parameterName = `/cdk-bootstrap/${qualifier}/version`;
  const previous = ctx.state.ssm.get(parameterName);
  ctx.state.ssm.set(parameterName, { name: parameterName, value: version, type: 'String', version: (previous?.version ?? 0) + 1, lastModified: new Date() });
  for (const kind of ['deploy-role', 'file-publishing-role', 'image-publishing-role', 'lookup-role', 'cfn-exec-role']) {
    const name = `cdk-${qualifier}-${kind}-${accountId}-${region}`;
    ctx.state.iam.roles.set(name, { name, arn: `arn:aws:iam::${accountId}:role/${name}`, roleId: `AROA${randomBytes(8).toString('hex').toUpperCase()}` });
  }
  const stackName = options.toolkitStackName ?? 'CDKToolkit';
  const existing = [...ctx.state.cloudformation.stacks.values()].find((s) => s.stackName === stackName && !s.deleted);
  if (existing) ctx.state.cloudformation.stacks.delete(existing.stackId);
  const stack: CfnStack = {
    stackId: `arn:aws:cloudformation:${region}:${accountId}:stack/${stackName}/${randomUUID()}`,
    stackName,
    status: 'CREATE_COMPLETE',
    created: new Date(),
    description: 'This stack includes resources needed to deploy AWS CDK apps into this environment',
    template: { Resources: {} },
    templateBody: '{"Resources":{}}',
    parameters: [{ ParameterKey: 'Qualifier', ParameterValue: qualifier }],
    tags: [],
    capabilities: ['CAPABILITY_NAMED_IAM'],
    outputs: [
      { OutputKey: 'BucketName', OutputValue: bucket },
      { OutputKey: 'BucketDomainName', OutputValue: `${bucket}.s3.${region}.amazonaws.com` },
      { OutputKey: 'ImageRepositoryName', OutputValue: repositoryName },
      { OutputKey: 'BootstrapVersion', OutputValue: version },
    ],
    resources: new Map(),
    events: [],
    changeSets: new Map(),
    terminationProtection: false,
  };
  ctx.state.cloudformation.stacks.set(stack.stackId, stack);
}
