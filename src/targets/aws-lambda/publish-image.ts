/** Pushes the aws-lambda container image to the environment's CDK bootstrap ECR repository, after checking the repository is there. */
import { DescribeRepositoriesCommand, ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { DeployModelError } from '../../errors.js';
import type { IoHelper } from '../../io/io-host.js';
import { describeStack } from '../../kits/aws/describe-stack.js';
import { detectBuilder, planLogin, planPush, planTag } from '../../kits/container/builders.js';
import { runOrThrow } from '../../kits/container/exec.js';
import type { LambdaImageArtifact } from './build-image.js';

/** The stack `cdk bootstrap` creates, and its output naming the container-assets repository. */
export const BOOTSTRAP_STACK = 'CDKToolkit';
export const BOOTSTRAP_IMAGE_REPOSITORY_OUTPUT = 'ImageRepositoryName';

export interface PublishedImage {
  readonly repositoryName: string;
  /** `<registry>/<repository>:<tag>`, as pushed. */
  readonly pushedRef: string;
}

export interface PublishLambdaImageOptions {
  readonly image: LambdaImageArtifact;
  readonly region: string;
  /** Named in the error's fix. */
  readonly targetName: string;
  readonly io: IoHelper;
}

const bootstrapFix = (region: string) => `Bootstrap the environment with \`cdk bootstrap aws://ACCOUNT/${region}\` (its ${BOOTSTRAP_IMAGE_REPOSITORY_OUTPUT} repository takes the function's image), then deploy again`;

/**
 * Finds the repository the environment's bootstrap stack names, checks it exists (ECR
 * DescribeRepositories), logs the builder in with an ECR authorization token and pushes the image.
 * Throws LAMBDA_IMAGE_REPOSITORY_MISSING before anything is pushed or deployed when the bootstrap
 * stack, its output or the repository is missing: Lambda only takes images from a repository of the
 * function's own account and region.
 */
export async function publishLambdaImage(options: PublishLambdaImageOptions): Promise<PublishedImage> {
  const { image, region, io, targetName } = options;
  const toolkit = await describeStack({ stackName: BOOTSTRAP_STACK, region });
  const repositoryName = toolkit?.outputs[BOOTSTRAP_IMAGE_REPOSITORY_OUTPUT];
  if (!repositoryName) {
    throw new DeployModelError('LAMBDA_IMAGE_REPOSITORY_MISSING', `Target '${targetName}' ships its function as a container image, but ${toolkit ? `the bootstrap stack ${BOOTSTRAP_STACK} in ${region} has no ${BOOTSTRAP_IMAGE_REPOSITORY_OUTPUT} output` : `${region} has no bootstrap stack ${BOOTSTRAP_STACK}`}: there is no ECR repository to push it to. ${bootstrapFix(region)}.`, {
      details: { target: targetName, region, stack: BOOTSTRAP_STACK },
    });
  }
  const ecr = new ECRClient({ region });
  try {
    let repositoryUri: string | undefined;
    try {
      const found = await ecr.send(new DescribeRepositoriesCommand({ repositoryNames: [repositoryName] }));
      repositoryUri = found.repositories?.[0]?.repositoryUri;
    } catch (e) {
      if ((e as { name?: string }).name !== 'RepositoryNotFoundException') throw e;
    }
    if (!repositoryUri) {
      throw new DeployModelError('LAMBDA_IMAGE_REPOSITORY_MISSING', `Target '${targetName}' ships its function as a container image, but the ECR repository ${repositoryName} that ${BOOTSTRAP_STACK} names does not exist in ${region}. ${bootstrapFix(region)}; nothing was pushed or deployed.`, {
        details: { target: targetName, region, repositoryName },
      });
    }
    const auth = (await ecr.send(new GetAuthorizationTokenCommand({}))).authorizationData?.[0];
    // The token is base64 `AWS:<password>`; the proxy endpoint is the registry to log in to and push to.
    const registry = (auth?.proxyEndpoint ?? `https://${repositoryUri.split('/')[0]}`).replace(/^https?:\/\//, '');
    const [username, password] = Buffer.from(auth?.authorizationToken ?? '', 'base64').toString('utf8').split(/:(.*)/s);
    const builder = await detectBuilder({ preferred: image.builder, io });
    if (username && password) {
      await runOrThrow(planLogin(builder, registry, username), `Logging in to ${registry}`, { stdin: password, io });
    }
    const pushedRef = `${registry}/${repositoryName}:${image.tag}`;
    await runOrThrow(planTag(builder, image.localRef, pushedRef), `Tagging ${image.localRef}`, { io });
    await runOrThrow(planPush(builder, pushedRef), `Pushing ${pushedRef}`, { io, timeoutMs: 1_800_000 });
    io.info('DM_LAMBDA_IMAGE_PUSHED', `Pushed the Lambda image to ${pushedRef}`, { image: pushedRef, repository: repositoryName });
    return { repositoryName, pushedRef };
  } finally {
    ecr.destroy();
  }
}
