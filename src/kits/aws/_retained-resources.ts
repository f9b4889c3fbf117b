/** What a stack's deletion policies keep in the account when the stack is deleted. */
import { GetTemplateCommand, ListStackResourcesCommand, type CloudFormationClient } from '@aws-sdk/client-cloudformation';
import type { IoHelper } from '../../io/io-host.js';
import { awsReason } from './aws-errors.js';

/** A resource that CloudFormation leaves in the account when it deletes the stack. */
export interface RetainedResource {
  /** CloudFormation type, e.g. `AWS::Logs::LogGroup`. */
  readonly type: string;
  readonly logicalId: string;
  /** Its name or id in the account, e.g. the log group's name. */
  readonly physicalId: string;
}

/** Both keep the resource when the stack is deleted (RetainExceptOnCreate deletes only on a failed create). */
const KEPT_ON_DELETE = new Set(['Retain', 'RetainExceptOnCreate']);

interface TemplateJson { Resources?: Record<string, { Type?: string; DeletionPolicy?: string }> }

/**
 * The stack's resources whose `DeletionPolicy` keeps them, with their physical ids, read before
 * the stack is deleted (GetTemplate, ListStackResources). Best effort: without the permissions,
 * or for a template that is not JSON, it reports nothing rather than failing the destroy.
 */
export async function retainedResources(client: CloudFormationClient, stackId: string, io: IoHelper): Promise<RetainedResource[]> {
  try {
    const body = (await client.send(new GetTemplateCommand({ StackName: stackId }))).TemplateBody ?? '{}';
    let template: TemplateJson;
    try {
      template = JSON.parse(body) as TemplateJson;
    } catch {
      return [];
    }
    const kept = Object.entries(template.Resources ?? {}).filter(([, r]) => KEPT_ON_DELETE.has(r.DeletionPolicy ?? ''));
    if (kept.length === 0) return [];
    const physical = new Map<string, string>();
    let nextToken: string | undefined;
    do {
      const page = await client.send(new ListStackResourcesCommand({ StackName: stackId, NextToken: nextToken }));
      for (const r of page.StackResourceSummaries ?? []) {
        if (r.LogicalResourceId && r.PhysicalResourceId) physical.set(r.LogicalResourceId, r.PhysicalResourceId);
      }
      nextToken = page.NextToken;
    } while (nextToken);
    return kept
      .filter(([logicalId]) => physical.has(logicalId))
      .map(([logicalId, r]) => ({ type: r.Type ?? 'unknown', logicalId, physicalId: physical.get(logicalId)! }));
  } catch (e) {
    io.debug('DM_AWS_RETAINED_UNKNOWN', `Could not list the resources stack ${stackId} keeps when deleted: ${awsReason(e)}`, { stackId });
    return [];
  }
}
