/** One entry point over the target types: the permissions of a planned target, and the document `--format` picks. */
import { DeployModelError } from '../errors.js';
import type { TargetPlanBase } from '../targets/target-module.js';
import type { AwsLambdaPlan } from '../targets/aws-lambda/index.js';
import type { AwsSageMakerPlan } from '../targets/aws-sagemaker/index.js';
import type { AzureMlPlan } from '../targets/azure-ml/index.js';
import type { ContainerPlan } from '../targets/container/index.js';
import type { GcpVertexPlan } from '../targets/gcp-vertex/index.js';
import type { LocalPlan } from '../targets/local/index.js';
import type { RnPlan } from '../targets/react-native/index.js';
import type { WebPlan, WebStackPlan } from '../targets/web/index.js';
import { awsPermissions } from './aws-permissions.js';
import { azureMlPermissions } from './azure-ml-permissions.js';
import { gcpVertexPermissions } from './gcp-vertex-permissions.js';
import { containerPermissions, localPermissions, reactNativePermissions, webHostPermissions } from './local-permissions.js';
import type { PermissionDocument, PermissionsOptions, TargetPermissions } from './types.js';

type Generator = (plan: TargetPlanBase, options: PermissionsOptions) => TargetPermissions | Promise<TargetPermissions>;

/**
 * The target types `deploy-model permissions` covers. A registered type missing here is refused
 * with PERMISSIONS_UNSUPPORTED (test/cli/permissions-coverage.test.ts lists each registered type).
 */
const GENERATORS: Readonly<Record<string, Generator>> = {
  local: (plan) => localPermissions(plan as LocalPlan),
  'aws-lambda': (plan, options) => awsPermissions(plan as AwsLambdaPlan, options),
  'aws-sagemaker': (plan, options) => awsPermissions(plan as AwsSageMakerPlan, options),
  'gcp-vertex': (plan, options) => gcpVertexPermissions(plan as GcpVertexPlan, options),
  'azure-ml': (plan, options) => azureMlPermissions(plan as AzureMlPlan, options),
  container: (plan) => containerPermissions(plan as ContainerPlan),
  web: (plan, options) => ((plan as WebPlan).aws ? awsPermissions(plan as WebPlan & { aws: WebStackPlan }, options) : webHostPermissions(plan as WebPlan)),
  'react-native': (plan) => reactNativePermissions(plan as RnPlan),
};

export const PERMISSION_TARGET_TYPES: readonly string[] = Object.keys(GENERATORS);

/** The permissions of one planned target; PERMISSIONS_UNSUPPORTED for a type not covered. */
export async function targetPermissions(plan: TargetPlanBase, options: PermissionsOptions): Promise<TargetPermissions> {
  const generate = GENERATORS[plan.type];
  if (!generate) {
    throw new DeployModelError('PERMISSIONS_UNSUPPORTED',
      `Target '${plan.targetName}' is of type ${plan.type}, which \`deploy-model permissions\` does not cover (it covers ${PERMISSION_TARGET_TYPES.join(', ')}). Fix: grant what the ${plan.type} target's docs list by hand, or run permissions for a target of a covered type.`,
      { details: { target: plan.targetName, type: plan.type, covered: PERMISSION_TARGET_TYPES } });
  }
  return generate(plan, options);
}

/** The formats besides the documents' own ids. */
export const REPORT_FORMATS = ['text', 'json', 'setup'] as const;

/**
 * The document `--format <id>` names. A target with no cloud identity has none: asking for one is
 * PERMISSIONS_NONE; an id the target does not have is PERMISSIONS_FORMAT_UNKNOWN.
 */
export function permissionDocument(report: TargetPermissions, id: string): PermissionDocument {
  const found = report.documents.find((d) => d.id === id);
  if (found) return found;
  if (report.documents.length === 0) {
    throw new DeployModelError('PERMISSIONS_NONE',
      `Target '${report.target}' (${report.type}) needs no cloud permissions, so there is no ${id} document to print: ${report.summary} Fix: run \`deploy-model permissions --target ${report.target}\` without --format to see what it needs.`,
      { kind: 'usage', details: { target: report.target, type: report.type, format: id } });
  }
  const known = [...REPORT_FORMATS, ...report.documents.map((d) => d.id)];
  throw new DeployModelError('PERMISSIONS_FORMAT_UNKNOWN',
    `--format ${id}: target '${report.target}' (${report.type}) has no such output. Fix: pass one of ${known.join(', ')}.`,
    { kind: 'usage', details: { target: report.target, format: id, known } });
}
