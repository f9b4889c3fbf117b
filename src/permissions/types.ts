/** What `deploy-model permissions` computes for one target: the documents, the setup commands, and why each permission is there. */

/** The CI systems whose OIDC tokens the trust documents accept. */
export const CI_PROVIDERS = ['github', 'gitlab'] as const;
export type CiProvider = (typeof CI_PROVIDERS)[number];

/** Who deploys: the CI provider, the repository and the branch whose pipelines may deploy. */
export interface CiIdentity {
  readonly provider: CiProvider;
  /** GitHub `owner/repo`, or GitLab `group[/subgroup]/project`. */
  readonly repository: string;
  /** The branch whose pipelines deploy. */
  readonly branch: string;
  /** Also trust pull request (GitHub) or merge request (GitLab) pipelines, which run `diff`. */
  readonly pullRequests: boolean;
  /** GitLab's URL: the issuer of its ID tokens (gitlab.com or a self-managed instance). */
  readonly gitlabUrl: string;
}

/** Values of the cloud accounts that a config does not hold; placeholders in CAPITALS when not given. */
export interface CloudIds {
  /** The AWS account id (12 digits). */
  readonly awsAccountId: string;
  /** The Google Cloud project number (not its id), which Workload Identity Federation names. */
  readonly gcpProjectNumber: string;
}

export interface PermissionsOptions {
  readonly identity: CiIdentity;
  readonly ids: CloudIds;
  /** The stage the plan was made for, so that the setup commands repeat it. */
  readonly stage: string;
}

/** One API action the CI identity calls itself, on which resource, and which command needs it. */
export interface PermissionAction {
  readonly action: string;
  readonly resource: string;
  readonly usedBy: string;
}

/** A document to hand to the cloud (an IAM policy, a role definition), printed alone by `--format <id>`. */
export interface PermissionDocument {
  /** What `--format` calls it: `policy`, `trust`, `bucket-role`. */
  readonly id: string;
  readonly title: string;
  readonly format: 'json' | 'yaml';
  readonly content: unknown;
}

export interface TargetPermissions {
  readonly target: string;
  readonly type: string;
  readonly cloud: 'aws' | 'gcp' | 'azure' | 'none';
  readonly summary: string;
  /** Each action the CI identity calls itself (not what a cloud service does on its behalf). */
  readonly actions: readonly PermissionAction[];
  readonly documents: readonly PermissionDocument[];
  /** Shell commands that create the identity, its trust and its permissions; placeholders in CAPITALS. */
  readonly setup: readonly string[];
  readonly notes: readonly string[];
}

/** An IAM policy document (identity or trust policy). */
export interface AwsPolicyDocument {
  readonly Version: '2012-10-17';
  readonly Statement: readonly AwsPolicyStatement[];
}

export interface AwsPolicyStatement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Principal?: Record<string, string | readonly string[]>;
  readonly Action: string | readonly string[];
  readonly Resource?: string | readonly string[];
  readonly Condition?: Record<string, Record<string, string | readonly string[]>>;
}

/** An Azure custom role definition, as `az role definition create --role-definition` takes it. */
export interface AzureRoleDefinition {
  readonly Name: string;
  readonly IsCustom: true;
  readonly Description: string;
  readonly Actions: readonly string[];
  readonly NotActions?: readonly string[];
  readonly DataActions?: readonly string[];
  readonly NotDataActions?: readonly string[];
  readonly AssignableScopes: readonly string[];
}
