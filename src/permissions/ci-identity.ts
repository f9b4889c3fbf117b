/** The CI identity the trust documents name: options checked once, OIDC issuers and subjects derived from them. */
import { DeployModelError } from '../errors.js';
import { CI_PROVIDERS, type CiIdentity, type CiProvider, type CloudIds } from './types.js';

export const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com';

/** Placeholders printed where an option was not given; the documents say to replace them. */
export const PLACEHOLDERS = {
  github: 'OWNER/REPO',
  gitlab: 'GROUP/PROJECT',
  awsAccountId: 'ACCOUNT_ID',
  gcpProjectNumber: 'PROJECT_NUMBER',
} as const;

export interface CiIdentityInput {
  provider?: string;
  repo?: string;
  branch?: string;
  pullRequests?: boolean;
  gitlabUrl?: string;
}

function invalid(option: string, value: string, rule: string, fix: string): DeployModelError {
  return new DeployModelError('PERMISSIONS_OPTION_INVALID', `${option} ${JSON.stringify(value)}: ${rule}. Fix: ${fix}`, { kind: 'usage', details: { option, value } });
}

const NAME = '[A-Za-z0-9_.-]+';
const GITHUB_REPO = new RegExp(`^${NAME}/${NAME}$`);
const GITLAB_PROJECT = new RegExp(`^${NAME}(/${NAME})+$`);

/** Checks the CI options and fills in the defaults (GitHub, branch main) and placeholders. */
export function resolveCiIdentity(input: CiIdentityInput): CiIdentity {
  const provider = (input.provider ?? 'github') as CiProvider;
  if (!CI_PROVIDERS.includes(provider)) {
    throw invalid('--ci-provider', input.provider ?? '', `must be one of ${CI_PROVIDERS.join(', ')}`, 'pass --ci-provider github or --ci-provider gitlab.');
  }
  const repository = input.repo ?? PLACEHOLDERS[provider];
  if (input.repo !== undefined) {
    const ok = provider === 'github' ? GITHUB_REPO.test(input.repo) : GITLAB_PROJECT.test(input.repo);
    if (!ok) {
      throw invalid('--repo', input.repo, provider === 'github' ? 'a GitHub repository is owner/repo' : 'a GitLab project is group/project (subgroups allowed: group/sub/project)',
        provider === 'github' ? 'pass --repo OWNER/REPO as in the repository URL.' : 'pass --repo GROUP/PROJECT, the project path in its URL.');
    }
  }
  const branch = input.branch ?? 'main';
  if (!/^[^\s*?~^:\\]+$/.test(branch) || branch.startsWith('refs/')) {
    throw invalid('--branch', branch, 'must be one branch name, without refs/heads/ and without wildcards (the trust matches it exactly)',
      'pass the branch that deploys, e.g. --branch main; add --pull-requests to also trust the pipelines that run diff.');
  }
  const gitlabUrl = (input.gitlabUrl ?? 'https://gitlab.com').replace(/\/+$/, '');
  if (!/^https:\/\/[^/\s]+$/.test(gitlabUrl)) {
    throw invalid('--gitlab-url', input.gitlabUrl ?? '', 'must be the https:// URL of the GitLab instance, with no path', 'pass e.g. --gitlab-url https://gitlab.example.com.');
  }
  return { provider, repository, branch, pullRequests: Boolean(input.pullRequests), gitlabUrl };
}

/** Checks the cloud ids a config does not hold, and fills in placeholders. */
export function resolveCloudIds(input: { account?: string; projectNumber?: string }): CloudIds {
  if (input.account !== undefined && !/^\d{12}$/.test(input.account)) {
    throw invalid('--account', input.account, 'an AWS account id is 12 digits', 'pass the account id from `aws sts get-caller-identity --query Account --output text`.');
  }
  if (input.projectNumber !== undefined && !/^\d{1,20}$/.test(input.projectNumber)) {
    throw invalid('--project-number', input.projectNumber, 'a Google Cloud project number is digits only (not the project id)',
      'pass the number from `gcloud projects describe PROJECT_ID --format="value(projectNumber)"`.');
  }
  return { awsAccountId: input.account ?? PLACEHOLDERS.awsAccountId, gcpProjectNumber: input.projectNumber ?? PLACEHOLDERS.gcpProjectNumber };
}

/** The issuer URL of the provider's ID tokens. */
export function oidcIssuer(identity: CiIdentity): string {
  return identity.provider === 'github' ? GITHUB_ISSUER : identity.gitlabUrl;
}

/** The issuer without its scheme: how AWS names the OIDC provider and prefixes its condition keys. */
export function oidcHost(identity: CiIdentity): string {
  return oidcIssuer(identity).replace(/^https:\/\//, '');
}

/** The `sub` claim of a pipeline on the deploying branch. */
export function deploySubject(identity: CiIdentity): string {
  return identity.provider === 'github'
    ? `repo:${identity.repository}:ref:refs/heads/${identity.branch}`
    : `project_path:${identity.repository}:ref_type:branch:ref:${identity.branch}`;
}

/**
 * The `sub` claim of pull request pipelines: GitHub gives every pull_request run one subject; a
 * GitLab merge request pipeline runs on its source branch, so only a pattern over branches matches.
 */
export function pullRequestSubject(identity: CiIdentity): string {
  return identity.provider === 'github' ? `repo:${identity.repository}:pull_request` : `project_path:${identity.repository}:ref_type:branch:ref:*`;
}

/** The options that repeat this identity on a `deploy-model permissions` command line. */
export function identityArgs(identity: CiIdentity, extra: string[] = []): string {
  const args = [
    ...(identity.provider === 'github' ? [] : ['--ci-provider', identity.provider]),
    '--repo', identity.repository,
    ...(identity.branch === 'main' ? [] : ['--branch', identity.branch]),
    ...(identity.pullRequests ? ['--pull-requests'] : []),
    ...(identity.provider === 'gitlab' && identity.gitlabUrl !== 'https://gitlab.com' ? ['--gitlab-url', identity.gitlabUrl] : []),
    ...extra,
  ];
  return args.join(' ');
}

/** Placeholder values still in the output, for a note saying what to replace. */
export function placeholdersIn(values: readonly string[]): string[] {
  const all: string[] = Object.values(PLACEHOLDERS);
  return all.filter((p) => values.some((v) => v.includes(p)));
}
