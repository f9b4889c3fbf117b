import { randomBytes } from 'node:crypto';
import type { FakeContext } from './_context.js';
import { lambdaProvisioners } from './_lambda-resources.js';
import { sageMakerProvisioners } from './_sagemaker-resources.js';

/** One resource the engine asks a provisioner to create, update or delete. */
export interface ProvisionRequest {
  readonly logicalId: string;
  readonly type: string;
  /** Properties with every intrinsic function resolved. */
  readonly properties: Record<string, any>;
  readonly stack: { readonly name: string; readonly id: string };
  readonly ctx: FakeContext;
}

export interface ProvisionedResource {
  /** What `Ref` returns. */
  readonly physicalId: string;
  /** What `Fn::GetAtt` returns, by attribute name. */
  readonly attributes?: Record<string, unknown>;
}

export interface ExistingResource {
  readonly physicalId: string;
  readonly properties: Record<string, any>;
  readonly attributes: Record<string, unknown>;
}

/**
 * Provisions one CloudFormation resource type in the fake. Throwing fails the resource with the
 * error's message as `ResourceStatusReason`, and the stack rolls back.
 */
export interface ResourceProvisioner {
  /**
   * Properties whose change replaces the resource (create new, then delete old); `'*'` when
   * every change does.
   * @default [] - every change is an in-place update
   */
  readonly replaceOn?: readonly string[] | '*';
  create(req: ProvisionRequest): Promise<ProvisionedResource>;
  /** @default - keeps the physical id and attributes */
  update?(req: ProvisionRequest, previous: ExistingResource): Promise<ProvisionedResource>;
  /** @default - nothing to clean up */
  delete?(req: ProvisionRequest, existing: ExistingResource): Promise<void>;
}

/**
 * A physical name the way CloudFormation generates one: `<stack>-<logicalId>-<13 random>`,
 * each part shortened so the whole fits `maxLength`.
 */
export function generatedName(stackName: string, logicalId: string, maxLength = 64): string {
  const suffix = randomBytes(10).toString('hex').toUpperCase().replace(/[^A-Z0-9]/g, '').slice(0, 13);
  const room = maxLength - suffix.length - 2;
  const stackPart = stackName.slice(0, Math.max(1, Math.floor(room / 2)));
  const logicalPart = logicalId.slice(0, room - stackPart.length);
  return `${stackPart}-${logicalPart}-${suffix}`;
}

export function arn(ctx: FakeContext, service: string, resource: string, region = ctx.region): string {
  return `arn:aws:${service}:${region}:${ctx.accountId}:${resource}`;
}

const iamRole: ResourceProvisioner = {
  replaceOn: ['RoleName', 'Path'],
  async create({ properties, stack, logicalId, ctx }) {
    const name = (properties.RoleName as string | undefined) ?? generatedName(stack.name, logicalId, 64);
    const role = {
      name,
      arn: `arn:aws:iam::${ctx.accountId}:role${(properties.Path as string | undefined) ?? '/'}${name}`,
      roleId: `AROA${randomBytes(8).toString('hex').toUpperCase()}`,
      assumeRolePolicy: properties.AssumeRolePolicyDocument,
    };
    ctx.state.iam.roles.set(name, role);
    return { physicalId: name, attributes: { Arn: role.arn, RoleId: role.roleId } };
  },
  async update({ properties, ctx }, previous) {
    const role = ctx.state.iam.roles.get(previous.physicalId);
    if (role) ctx.state.iam.roles.set(role.name, { ...role, assumeRolePolicy: properties.AssumeRolePolicyDocument });
    return previous;
  },
  async delete({ ctx }, existing) {
    ctx.state.iam.roles.delete(existing.physicalId);
  },
};

const iamPolicy: ResourceProvisioner = {
  replaceOn: ['PolicyName'],
  async create({ properties, stack, logicalId, ctx }) {
    const id = generatedName(stack.name, logicalId, 128);
    ctx.state.iam.policies.set(id, properties.PolicyDocument);
    return { physicalId: id, attributes: { Id: id } };
  },
  async update({ properties, ctx }, previous) {
    ctx.state.iam.policies.set(previous.physicalId, properties.PolicyDocument);
    return previous;
  },
  async delete({ ctx }, existing) {
    ctx.state.iam.policies.delete(existing.physicalId);
  },
};

const iamManagedPolicy: ResourceProvisioner = {
  replaceOn: ['ManagedPolicyName', 'Path'],
  async create({ properties, stack, logicalId, ctx }) {
    const name = (properties.ManagedPolicyName as string | undefined) ?? generatedName(stack.name, logicalId, 128);
    const policyArn = `arn:aws:iam::${ctx.accountId}:policy/${name}`;
    ctx.state.iam.policies.set(policyArn, properties.PolicyDocument);
    return { physicalId: policyArn, attributes: { PolicyArn: policyArn } };
  },
  async delete({ ctx }, existing) {
    ctx.state.iam.policies.delete(existing.physicalId);
  },
};

const logGroup: ResourceProvisioner = {
  replaceOn: ['LogGroupName'],
  async create({ properties, stack, logicalId, ctx }) {
    const name = (properties.LogGroupName as string | undefined) ?? generatedName(stack.name, logicalId, 512);
    return { physicalId: name, attributes: { Arn: arn(ctx, 'logs', `log-group:${name}:*`) } };
  },
};

const cdkMetadata: ResourceProvisioner = {
  async create({ stack, logicalId }) {
    return { physicalId: `${stack.id.split('/').pop()}-${logicalId}` };
  },
};

/** The provisioners every fake starts with; `startAwsFake({ provisioners })` adds or replaces. */
export function defaultProvisioners(): Map<string, ResourceProvisioner> {
  return new Map<string, ResourceProvisioner>([
    ['AWS::IAM::Role', iamRole],
    ['AWS::IAM::Policy', iamPolicy],
    ['AWS::IAM::ManagedPolicy', iamManagedPolicy],
    ['AWS::Logs::LogGroup', logGroup],
    ['AWS::CDK::Metadata', cdkMetadata],
    ...lambdaProvisioners(),
    ...Object.entries(sageMakerProvisioners()),
  ]);
}

/**
 * Types without a provisioner are created as no-ops and recorded in
 * `state.cloudformation.unmodelled`; `Fn::GetAtt` on them answers a placeholder string.
 */
export const unmodelledProvisioner: ResourceProvisioner = {
  async create({ stack, logicalId, type, ctx }) {
    const physicalId = generatedName(stack.name, logicalId, 128);
    ctx.state.cloudformation.unmodelled.push({ stackName: stack.name, logicalId, type, physicalId });
    return { physicalId };
  },
};
