/**
 * A deployed stack's template, read before a deploy and deployed again after it: how a target puts
 * the previous version back when the new one fails its smoke test (the web target's S3 + CloudFront
 * site, whose files are uploaded by the stack itself). Needs no cloud assembly.
 */
import {
  CreateChangeSetCommand, DeleteChangeSetCommand, DescribeChangeSetCommand, DescribeStacksCommand, ExecuteChangeSetCommand, GetTemplateCommand,
} from '@aws-sdk/client-cloudformation';
import { DeployModelError } from '../../errors.js';
import type { IoHelper } from '../../io/io-host.js';
import { awsReason, isCredentialsError, noCredentials } from './aws-errors.js';
import { cloudFormationClient, describeWith } from './describe-stack.js';
import { overrideNote } from './endpoint-override.js';
import { stackPollingInterval } from './stack-polling.js';

/** CloudFormation takes a template body of at most this many bytes; larger ones must be uploaded to S3 first. */
export const TEMPLATE_BODY_MAX_BYTES = 51_200;

const DEFAULT_POLL_MS = 2000;

/** The template the stack was last deployed with (`GetTemplate`, original stage); undefined when there is no stack. */
export async function readStackTemplate(options: { stackName: string; region: string }): Promise<string | undefined> {
  const { stackName, region } = options;
  const client = cloudFormationClient(region);
  try {
    const res = await client.send(new GetTemplateCommand({ StackName: stackName, TemplateStage: 'Original' }));
    return res.TemplateBody;
  } catch (e) {
    if ((e as Error).name === 'ValidationError' && /does not exist/.test((e as Error).message)) return undefined;
    if (isCredentialsError(e)) throw noCredentials(region, `read the template of stack ${stackName}`, e);
    throw new DeployModelError('AWS_TEMPLATE_UNREADABLE', `Could not read the template of stack ${stackName} in ${region}: ${awsReason(e)}. The credentials need cloudformation:GetTemplate.${overrideNote('CloudFormation')}`, { cause: e, details: { stackName, region } });
  } finally {
    client.destroy();
  }
}

export interface RedeployTemplateOptions {
  readonly stackName: string;
  readonly region: string;
  /** A template the stack had before (from `readStackTemplate`); its assets must still be in the account. */
  readonly templateBody: string;
  readonly io: IoHelper;
  /** @default - `DEPLOY_MODEL_STACK_POLL_MS`, else 2000 */
  readonly pollingIntervalMs?: number;
}

/**
 * Updates the stack to `templateBody` through a change set, keeping its parameters, tags, and
 * CloudFormation role, and waits until the update settles. Returns false when the stack already
 * had that template (nothing to change).
 */
export async function redeployTemplate(options: RedeployTemplateOptions): Promise<boolean> {
  const { stackName, region, templateBody, io } = options;
  if (Buffer.byteLength(templateBody) > TEMPLATE_BODY_MAX_BYTES) {
    throw new DeployModelError('AWS_TEMPLATE_TOO_LARGE', `The previous template of stack ${stackName} is ${Buffer.byteLength(templateBody)} bytes, over the ${TEMPLATE_BODY_MAX_BYTES} bytes CloudFormation takes inline, so it cannot be deployed again from here: check out the previous version of the project and deploy it.`, { details: { stackName, region } });
  }
  const client = cloudFormationClient(region);
  const pollMs = stackPollingInterval(options.pollingIntervalMs) ?? DEFAULT_POLL_MS;
  const wait = () => new Promise((resolve) => setTimeout(resolve, pollMs));
  const failed = (reason: string, cause?: unknown) => new DeployModelError('AWS_REDEPLOY_FAILED', `Deploying the previous template of stack ${stackName} in ${region} again failed: ${reason}. The stack keeps what CloudFormation left it with (\`deploy-model status\` shows it); deploy the previous version of the project to put it back.${overrideNote('CloudFormation')}`, { cause, details: { stackName, region } });
  try {
    const stack = (await client.send(new DescribeStacksCommand({ StackName: stackName }))).Stacks?.[0];
    if (!stack) throw failed('the stack does not exist');
    const changeSetName = `deploy-model-restore-${Date.now()}`;
    io.info('DM_AWS_STACK_RESTORE', `Deploying the previous template of stack ${stackName} again`, { stackName, region });
    await client.send(new CreateChangeSetCommand({
      StackName: stackName, ChangeSetName: changeSetName, ChangeSetType: 'UPDATE', TemplateBody: templateBody,
      Parameters: (stack.Parameters ?? []).map((p) => ({ ParameterKey: p.ParameterKey, UsePreviousValue: true })),
      Capabilities: ['CAPABILITY_IAM', 'CAPABILITY_NAMED_IAM', 'CAPABILITY_AUTO_EXPAND'],
      ...(stack.RoleARN ? { RoleARN: stack.RoleARN } : {}),
      ...(stack.Tags?.length ? { Tags: stack.Tags } : {}),
    }));
    for (;;) {
      const cs = await client.send(new DescribeChangeSetCommand({ StackName: stackName, ChangeSetName: changeSetName }));
      if (cs.Status === 'CREATE_COMPLETE') break;
      if (cs.Status === 'FAILED') {
        await client.send(new DeleteChangeSetCommand({ StackName: stackName, ChangeSetName: changeSetName })).catch(() => undefined);
        if (/didn't contain changes|No updates are to be performed/i.test(cs.StatusReason ?? '')) return false;
        throw failed(cs.StatusReason ?? 'the change set failed');
      }
      await wait();
    }
    await client.send(new ExecuteChangeSetCommand({ StackName: stackName, ChangeSetName: changeSetName }));
    for (;;) {
      await wait();
      const now = await describeWith(client, stackName, region);
      const status = now?.status ?? 'DELETE_COMPLETE';
      if (status === 'UPDATE_COMPLETE') break;
      if (status.endsWith('_FAILED') || status === 'UPDATE_ROLLBACK_COMPLETE' || status.startsWith('DELETE')) throw failed(`${status}${now?.statusReason ? `: ${now.statusReason}` : ''}`);
      io.debug('DM_AWS_STACK_RESTORE_WAIT', `Stack ${stackName}: ${status}`, { stackName, status });
    }
    io.info('DM_AWS_STACK_RESTORED', `Stack ${stackName} has its previous template again`, { stackName, region });
    return true;
  } catch (e) {
    if (e instanceof DeployModelError) throw e;
    if (isCredentialsError(e)) throw noCredentials(region, `update stack ${stackName}`, e);
    throw failed(awsReason(e), e);
  } finally {
    client.destroy();
  }
}
