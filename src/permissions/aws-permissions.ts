/**
 * Least permissions of a CI role that deploys a target as a CDK stack (aws-lambda, aws-sagemaker,
 * web on host 'aws'). toolkit-lib
 * deploys through the CDK bootstrap roles (assets through the file-publishing role, CloudFormation
 * through the deploy role, which hands the stack to the execution role), so the CI role needs
 * sts:AssumeRole on those, plus what deploy-model's own code calls outside CloudFormation: the
 * stack's status and deletion, the smoke test's Invoke / InvokeEndpoint, SageMaker's endpoint
 * reads and clean-up, the web site's rollback to its previous template. Names come from the plan; resources CloudFormation names are matched by the
 * tags the plan puts on them.
 */
import { createHash } from 'node:crypto';
import type { AwsLambdaPlan } from '../targets/aws-lambda/index.js';
import type { AwsSageMakerPlan } from '../targets/aws-sagemaker/index.js';
import type { WebPlan, WebStackPlan } from '../targets/web/index.js';
import { actionsOf, statementsOf, type Grant } from './_grants.js';
import { deploySubject, identityArgs, oidcHost, oidcIssuer, placeholdersIn, pullRequestSubject } from './ci-identity.js';
import type { AwsPolicyDocument, AwsPolicyStatement, CiIdentity, PermissionsOptions, TargetPermissions } from './types.js';

/** The AWS partition of a region: aws, aws-cn or aws-us-gov. */
export function awsPartition(region: string): string {
  return region.startsWith('cn-') ? 'aws-cn' : region.startsWith('us-gov-') ? 'aws-us-gov' : 'aws';
}

export interface BootstrapRoles {
  readonly qualifier: string;
  readonly deploy: string;
  readonly filePublishing: string;
  readonly lookup: string;
  /** The role CloudFormation acts with: the CI role never assumes it. */
  readonly cloudFormationExecution: string;
}

/**
 * The bootstrap roles the synthesised stacks name: the stacks use CDK's DefaultStackSynthesizer
 * with its default qualifier (src/kits/aws/synth-stack.ts sets none), so the ARNs are its templates.
 */
export async function bootstrapRoles(account: string, region: string): Promise<BootstrapRoles> {
  const { DefaultStackSynthesizer: S } = await import('aws-cdk-lib');
  const qualifier = S.DEFAULT_QUALIFIER;
  const arn = (template: string) => template
    .replaceAll('${AWS::Partition}', awsPartition(region)).replaceAll('${AWS::AccountId}', account)
    .replaceAll('${AWS::Region}', region).replaceAll('${Qualifier}', qualifier);
  return {
    qualifier, deploy: arn(S.DEFAULT_DEPLOY_ROLE_ARN), filePublishing: arn(S.DEFAULT_FILE_ASSET_PUBLISHING_ROLE_ARN), lookup: arn(S.DEFAULT_LOOKUP_ROLE_ARN),
    cloudFormationExecution: arn(S.DEFAULT_CLOUDFORMATION_ROLE_ARN),
  };
}

/** Resources CloudFormation names carry the plan's tags; a condition on them scopes a statement to this target. */
function tagCondition(tags: Readonly<Record<string, string>>): NonNullable<Grant['condition']> {
  return { StringEquals: Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:ResourceTag/${k}`, v])) };
}

/** `listRetained`: destroy reads the template and resources first, to report what the stack keeps (aws-lambda's log group). */
function stackGrants(stackArn: string, roles: BootstrapRoles, listRetained: boolean): Grant[] {
  return [
    {
      sid: 'AssumeCdkBootstrapRoles', actions: ['sts:AssumeRole'], resources: [roles.deploy, roles.filePublishing, roles.lookup],
      usedBy: 'deploy, diff: toolkit-lib uploads assets with the file-publishing role, runs CloudFormation with the deploy role and reads templates with the lookup role',
    },
    { sid: 'ReadStack', actions: ['cloudformation:DescribeStacks'], resources: [stackArn], usedBy: 'deploy (the version that serves), status, smoke, invoke, destroy' },
    {
      sid: 'DestroyStack', actions: ['cloudformation:DeleteStack', ...(listRetained ? ['cloudformation:GetTemplate', 'cloudformation:ListStackResources'] : [])], resources: [stackArn],
      usedBy: `destroy: deletes the stack (CloudFormation deletes its resources with the role the stack was deployed with)${listRetained ? ' and lists what it keeps' : ''}`,
    },
    { sid: 'CancelTimedOutUpdate', actions: ['cloudformation:CancelUpdateStack'], resources: [stackArn], usedBy: 'deploy, when a stack update runs past its timeout' },
  ];
}

function lambdaGrants(plan: AwsLambdaPlan, account: string): Grant[] {
  const partition = awsPartition(plan.region);
  return [{
    sid: 'InvokeForSmokeTest', actions: ['lambda:InvokeFunction'], resources: [`arn:${partition}:lambda:${plan.region}:${account}:function:*`],
    condition: tagCondition(plan.tags),
    usedBy: 'deploy (the smoke test invokes the new version by number), smoke, invoke (the live alias)',
  }];
}

function sageMakerGrants(plan: AwsSageMakerPlan, account: string): Grant[] {
  const base = `arn:${awsPartition(plan.region)}:sagemaker:${plan.region}:${account}`;
  // SageMaker ARNs carry names in lower case.
  const endpoint = `${base}:endpoint/${plan.endpointName.toLowerCase()}`;
  const tagged = tagCondition(plan.tags);
  return [
    { sid: 'ReadEndpoint', actions: ['sagemaker:DescribeEndpoint'], resources: [endpoint], usedBy: 'deploy (the endpoint while CloudFormation works), status, smoke, invoke, destroy' },
    { sid: 'InvokeEndpoint', actions: ['sagemaker:InvokeEndpoint'], resources: [endpoint], usedBy: 'deploy (the smoke test), smoke, invoke' },
    { sid: 'SwitchEndpointConfig', actions: ['sagemaker:UpdateEndpoint'], resources: [endpoint], usedBy: 'deploy: puts the endpoint back on the config that served when the new one fails, or onto the stack\'s config; rollback' },
    { sid: 'TagEndpoint', actions: ['sagemaker:AddTags', 'sagemaker:ListTags', 'sagemaker:DeleteTags'], resources: [endpoint], usedBy: 'deploy, rollback, status: the endpoint tag that names the config kept for rollback' },
    {
      sid: 'RetireEndpointConfigs', actions: ['sagemaker:UpdateEndpoint', 'sagemaker:DescribeEndpointConfig', 'sagemaker:DeleteEndpointConfig'], resources: [`${base}:endpoint-config/*`],
      condition: tagged, usedBy: 'deploy: reads the configs an endpoint used and deletes those that no longer serve (CloudFormation names them; the tags scope them)',
    },
    { sid: 'RetireModels', actions: ['sagemaker:DeleteModel'], resources: [`${base}:model/*`], condition: tagged, usedBy: 'deploy: deletes the models of retired configs' },
  ];
}

/** A name within IAM's 64 characters: `deploy-model-<resource name>`, shortened with a hash when longer. */
export function ciRoleName(resourceName: string): string {
  const name = `deploy-model-${resourceName}`;
  if (name.length <= 64) return name;
  return `${name.slice(0, 55).replace(/-+$/, '')}-${createHash('sha256').update(name).digest('hex').slice(0, 8)}`;
}

/** The role's trust policy: the CI provider's OIDC tokens for the repository and branch (and pull requests). */
export function awsTrustPolicy(identity: CiIdentity, account: string, region: string): AwsPolicyDocument {
  const host = oidcHost(identity);
  const audience = identity.provider === 'github' ? 'sts.amazonaws.com' : identity.gitlabUrl;
  const aud = { [`${host}:aud`]: audience };
  // GitLab's merge request subject is a pattern over branches (it also covers the deploying branch); GitHub's is one value.
  const condition: NonNullable<AwsPolicyStatement['Condition']> = identity.pullRequests && identity.provider === 'gitlab'
    ? { StringEquals: aud, StringLike: { [`${host}:sub`]: pullRequestSubject(identity) } }
    : { StringEquals: { ...aud, [`${host}:sub`]: [deploySubject(identity), ...(identity.pullRequests ? [pullRequestSubject(identity)] : [])] } };
  return {
    Version: '2012-10-17',
    Statement: [{
      Sid: identity.provider === 'github' ? 'GitHubActions' : 'GitLabCi',
      Effect: 'Allow',
      Principal: { Federated: `arn:${awsPartition(region)}:iam::${account}:oidc-provider/${host}` },
      Action: 'sts:AssumeRoleWithWebIdentity',
      Condition: condition,
    }],
  };
}

/**
 * The web site on AWS puts the previous site back by deploying the stack's previous template again
 * (src/kits/aws/redeploy-template.ts), with the CI role's own credentials and the stack's
 * CloudFormation role passed on.
 */
function webGrants(stackArn: string, roles: BootstrapRoles): Grant[] {
  return [
    {
      sid: 'RestorePreviousSite', resources: [stackArn],
      actions: ['cloudformation:GetTemplate', 'cloudformation:CreateChangeSet', 'cloudformation:DescribeChangeSet', 'cloudformation:ExecuteChangeSet', 'cloudformation:DeleteChangeSet'],
      usedBy: 'deploy: reads the deployed template first, and deploys it again when the new site fails its smoke test',
    },
    {
      sid: 'PassStackRoleToCloudFormation', actions: ['iam:PassRole'], resources: [roles.cloudFormationExecution],
      condition: { StringEquals: { 'iam:PassedToService': 'cloudformation.amazonaws.com' } },
      usedBy: 'deploy: the change set that restores the previous site keeps the stack\'s CloudFormation role',
    },
  ];
}

/** What differs between the stack targets: the stack and the calls made outside CloudFormation. */
interface StackTarget {
  readonly stack: Pick<WebStackPlan, 'stackName' | 'region'>;
  readonly services: string;
  readonly listRetained: boolean;
  grants(account: string, stackArn: string, roles: BootstrapRoles): Grant[];
  readonly note?: string;
}

function stackTarget(plan: AwsLambdaPlan | AwsSageMakerPlan | (WebPlan & { aws: WebStackPlan })): StackTarget {
  if (plan.type === 'aws-lambda') {
    return {
      stack: plan, services: 'CloudFormation and Lambda', listRetained: true, grants: (account) => lambdaGrants(plan, account),
      note: 'CloudFormation names the function, so InvokeFunction is scoped by the tags deploy-model puts on it (deploy-model:name, :stage, :target).',
    };
  }
  if (plan.type === 'aws-sagemaker') {
    return {
      stack: plan, services: 'CloudFormation and SageMaker', listRetained: false, grants: (account) => sageMakerGrants(plan, account),
      note: `The endpoint is named ${plan.endpointName}; CloudFormation names the endpoint configs and models, so those statements are scoped by the tags deploy-model puts on them.`,
    };
  }
  return {
    stack: plan.aws, services: 'CloudFormation', listRetained: false, grants: (_account, stackArn, roles) => webGrants(stackArn, roles),
    note: 'The site is uploaded to its bucket by the stack itself (a CloudFormation custom resource), so the CI role has no S3 or CloudFront permission; the smoke test loads the public CloudFront URL.',
  };
}

export async function awsPermissions(plan: AwsLambdaPlan | AwsSageMakerPlan | (WebPlan & { aws: WebStackPlan }), options: PermissionsOptions): Promise<TargetPermissions> {
  const { identity, ids } = options;
  const account = ids.awsAccountId;
  const target = stackTarget(plan);
  const { stackName, region } = target.stack;
  const partition = awsPartition(region);
  const roles = await bootstrapRoles(account, region);
  const stackArn = `arn:${partition}:cloudformation:${region}:${account}:stack/${stackName}/*`;
  const grants = [...stackGrants(stackArn, roles, target.listRetained), ...target.grants(account, stackArn, roles)];
  const policy: AwsPolicyDocument = { Version: '2012-10-17', Statement: statementsOf(grants) };
  const trust = awsTrustPolicy(identity, account, region);
  const roleName = ciRoleName(plan.resourceName);
  const args = `--target ${plan.targetName}${options.stage === 'dev' ? '' : ` --stage ${options.stage}`}`;
  const idArgs = identityArgs(identity, account === 'ACCOUNT_ID' ? [] : ['--account', account]);
  const clientId = identity.provider === 'github' ? 'sts.amazonaws.com' : identity.gitlabUrl;
  const setup = [
    `# Once per account: trust the CI provider's OIDC tokens (skip if the provider exists).`,
    `aws iam create-open-id-connect-provider --url ${oidcIssuer(identity)} --client-id-list ${clientId}`,
    `# Once per account and region: the CDK bootstrap roles the CI role assumes.`,
    `npx cdk bootstrap aws://${account}/${region}`,
    `# The CI role, trusted by the pipelines of ${identity.repository} on ${identity.branch}${identity.pullRequests ? ' and its pull requests' : ''}, with the least permissions.`,
    `npx deploy-model permissions ${args} --format trust ${idArgs} > trust-policy.json`,
    `npx deploy-model permissions ${args} --format policy ${idArgs} > policy.json`,
    `aws iam create-role --role-name ${roleName} --assume-role-policy-document file://trust-policy.json`,
    `aws iam put-role-policy --role-name ${roleName} --policy-name deploy-model --policy-document file://policy.json`,
    `# The pipeline assumes arn:${partition}:iam::${account}:role/${roleName}`,
  ];
  const placeholders = placeholdersIn([JSON.stringify(policy), JSON.stringify(trust)]);
  return {
    target: plan.targetName,
    type: plan.type,
    cloud: 'aws',
    summary: `An IAM role for CI that deploys stack ${stackName} in ${region}: it assumes the CDK bootstrap roles (qualifier ${roles.qualifier}) and calls ${target.services} itself.`,
    actions: actionsOf(grants),
    documents: [
      { id: 'policy', title: `IAM policy of the CI role (${roleName})`, format: 'json', content: policy },
      { id: 'trust', title: `Trust policy of the CI role: ${identity.provider === 'github' ? 'GitHub Actions' : 'GitLab CI'} OIDC`, format: 'json', content: trust },
    ],
    setup,
    notes: [
      `What the stack creates and changes is done by CloudFormation with the bootstrap's execution role (${roles.cloudFormationExecution.replace(/^.*:role\//, '')}), not by the CI role, so this policy has none of those permissions. \`cdk bootstrap\` gives that role AdministratorAccess unless \`--cloudformation-execution-policies\` names narrower policies.`,
      `The bootstrap roles trust their own account, so the sts:AssumeRole statement is all the CI role needs to use them; deploy-model synthesises with CDK's default qualifier ${roles.qualifier}.`,
      ...(target.note ? [target.note] : []),
      `Names include the stage (${options.stage}): generate the policy with --stage for each stage CI deploys.`,
      ...(placeholders.length ? [`Replace ${placeholders.join(', ')} (or pass ${placeholders.map((p) => (p === 'ACCOUNT_ID' ? '--account' : '--repo')).join(', ')}).`] : []),
    ],
  };
}
