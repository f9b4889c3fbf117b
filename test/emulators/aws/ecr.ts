// ECR for the AWS fake: repositories (JSON 1.1) with a real registry behind them, the local one on 127.0.0.1:5000 standing in for `<account>.dkr.ecr.<region>.amazonaws.com`.
import type { FakeContext } from './_context.js';
import { jsonErrorReply, parseJsonBody, type AwsServiceModule } from './_service.js';
import { AwsError, type WireReply } from './_wire.js';
import type { FakeState } from './state.js';

export interface EcrRepository {
  readonly name: string;
  readonly arn: string;
  /** `<account>.dkr.ecr.<region>.amazonaws.com/<name>`, as ECR answers it. */
  readonly uri: string;
  readonly created: Date;
}

/** The fake's ECR: repositories by name, and the registry that holds their images. */
export interface EcrFake {
  readonly repositories: Map<string, EcrRepository>;
  /**
   * The registry images are pushed to and pulled from, `host:port`: GetAuthorizationToken answers
   * it as the proxy endpoint, and the fake's Lambda pulls `<account>.dkr.ecr...` images from it.
   * @default DEPLOY_MODEL_TEST_REGISTRY, else '127.0.0.1:5000'
   */
  registry: string;
  createRepository(ctx: Pick<FakeContext, 'accountId' | 'region'>, name: string): EcrRepository;
}

const fakes = new WeakMap<FakeState, EcrFake>();

/** The ECR state of a fake, created on first use. */
export function ecrFake(state: FakeState): EcrFake {
  let fake = fakes.get(state);
  if (!fake) {
    const repositories = new Map<string, EcrRepository>();
    fake = {
      repositories,
      registry: process.env.DEPLOY_MODEL_TEST_REGISTRY ?? '127.0.0.1:5000',
      createRepository({ accountId, region }, name) {
        const repo = { name, arn: `arn:aws:ecr:${region}:${accountId}:repository/${name}`, uri: `${accountId}.dkr.ecr.${region}.amazonaws.com/${name}`, created: new Date() };
        repositories.set(name, repo);
        return repo;
      },
    };
    fakes.set(state, fake);
  }
  return fake;
}

function reply(value: unknown): WireReply {
  return { status: 200, headers: { 'content-type': 'application/x-amz-json-1.1' }, body: JSON.stringify(value) };
}

function describe(ctx: FakeContext, r: EcrRepository): Record<string, unknown> {
  return {
    repositoryArn: r.arn, registryId: ctx.accountId, repositoryName: r.name, repositoryUri: r.uri,
    createdAt: r.created.getTime() / 1000, imageTagMutability: 'IMMUTABLE', imageScanningConfiguration: { scanOnPush: true },
    encryptionConfiguration: { encryptionType: 'AES256' },
  };
}

/**
 * ECR's control plane as a deploy uses it (the JSON 1.1 API `AmazonEC2ContainerRegistry_V20150921`):
 * DescribeRepositories answers RepositoryNotFoundException for a name it does not hold, as ECR does
 * (https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_DescribeRepositories.html);
 * GetAuthorizationToken answers a base64 `AWS:<password>` token and the registry to log in to
 * (https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_GetAuthorizationToken.html) —
 * here the local registry, where ECR answers `https://<account>.dkr.ecr.<region>.amazonaws.com`.
 */
export const ecr: AwsServiceModule = {
  name: 'ecr',
  signingNames: ['ecr', 'api.ecr'],
  targetPrefixes: ['AmazonEC2ContainerRegistry_V20150921'],
  parse(req) {
    const target = String(req.headers['x-amz-target'] ?? '');
    return { action: target.slice(target.indexOf('.') + 1), params: parseJsonBody(req) };
  },
  async handle(call, _req, ctx) {
    const p = call.params as Record<string, any>;
    const fake = ecrFake(ctx.state);
    switch (call.action) {
      case 'DescribeRepositories': {
        const names = (p.repositoryNames as string[] | undefined) ?? [...fake.repositories.keys()];
        const found: EcrRepository[] = [];
        for (const name of names) {
          const repo = fake.repositories.get(name);
          if (!repo) throw new AwsError('RepositoryNotFoundException', `The repository with name '${name}' does not exist in the registry with id '${ctx.accountId}'`);
          found.push(repo);
        }
        return reply({ repositories: found.map((r) => describe(ctx, r)) });
      }
      case 'CreateRepository': {
        const name = String(p.repositoryName ?? '');
        if (fake.repositories.has(name)) throw new AwsError('RepositoryAlreadyExistsException', `The repository with name '${name}' already exists in the registry with id '${ctx.accountId}'`);
        return reply({ repository: describe(ctx, fake.createRepository(ctx, name)) });
      }
      case 'DeleteRepository': {
        const repo = fake.repositories.get(String(p.repositoryName ?? ''));
        if (!repo) throw new AwsError('RepositoryNotFoundException', `The repository with name '${String(p.repositoryName)}' does not exist in the registry with id '${ctx.accountId}'`);
        fake.repositories.delete(repo.name);
        return reply({ repository: describe(ctx, repo) });
      }
      case 'GetAuthorizationToken':
        return reply({
          authorizationData: [{
            authorizationToken: Buffer.from('AWS:fake-ecr-password').toString('base64'),
            expiresAt: Date.now() / 1000 + 12 * 3600,
            proxyEndpoint: `http://${fake.registry}`,
          }],
        });
      default:
        throw new AwsError('UnknownOperationException', `The fake does not implement ECR ${call.action}`);
    }
  },
  errorReply: jsonErrorReply,
  throttlingError: () => new AwsError('ThrottlingException', 'Rate exceeded'),
};
