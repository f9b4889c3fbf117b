/**
 * The endpoint config kept for `deploy-model rollback`: promote keeps the config that served
 * before (and its model) and records its name in a tag of the endpoint; rollback puts the endpoint
 * back on it with UpdateEndpoint and removes the tag, so that a second rollback has none.
 */
import { AddTagsCommand, DeleteTagsCommand, ListTagsCommand, type SageMakerClient } from '@aws-sdk/client-sagemaker';
import { DeployModelError } from '../../errors.js';
import { awsReason } from '../../kits/aws/aws-errors.js';
import type { RestoreResult } from '../driver.js';
import { withSageMakerClients, type SageMakerConnectionOptions } from './_clients.js';
import { describeEndpoint, modelsOf, SERVING, switchEndpointConfig } from './_endpoint-state.js';
import type { SageMakerContext } from './build.js';
import { invocationsUrl } from './runtime-client.js';

/** The endpoint's tag naming the endpoint config that served before the last promoted deploy. */
export const PREVIOUS_CONFIG_TAG = 'deploy-model:previous-endpoint-config';

/** The config the tag names; undefined when there is none. */
export async function previousConfigOf(control: SageMakerClient, endpointArn: string | undefined): Promise<string | undefined> {
  if (!endpointArn) return undefined;
  const tags = await control.send(new ListTagsCommand({ ResourceArn: endpointArn }));
  return tags.Tags?.find((t) => t.Key === PREVIOUS_CONFIG_TAG)?.Value || undefined;
}

/** Records `configName` as the config to roll back to, or removes the record when undefined. */
export async function recordPreviousConfig(control: SageMakerClient, endpointArn: string, configName: string | undefined): Promise<void> {
  if (configName) await control.send(new AddTagsCommand({ ResourceArn: endpointArn, Tags: [{ Key: PREVIOUS_CONFIG_TAG, Value: configName }] }));
  else await control.send(new DeleteTagsCommand({ ResourceArn: endpointArn, TagKeys: [PREVIOUS_CONFIG_TAG] }));
}

/** `deploy-model rollback`: puts the endpoint back on the config that served before the last deploy. */
export async function restoreSageMakerPrevious(ctx: SageMakerContext, options: SageMakerConnectionOptions = {}): Promise<RestoreResult> {
  const { plan, io } = ctx;
  const { endpointName, region } = plan;
  return withSageMakerClients(region, options, async ({ control, pollMs, updateTimeoutMs }) => {
    const live = await describeEndpoint(control, endpointName, region);
    if (!live || !SERVING.has(live.status)) {
      throw new DeployModelError('NOT_DEPLOYED', `Target '${ctx.targetName}' (stage ${ctx.loaded.stage}) has nothing serving to roll back: ${live ? `endpoint ${endpointName} is ${live.status}` : `there is no endpoint ${endpointName} in ${region}`}. Run \`deploy-model deploy --target ${ctx.targetName}\` first.`, { details: { target: ctx.targetName, endpointName, status: live?.status } });
    }
    const previous = await previousConfigOf(control, live.arn).catch((e: unknown) => {
      throw new DeployModelError('SAGEMAKER_API_FAILED', `Could not read the tags of endpoint ${endpointName} in ${region}: ${awsReason(e)}. The credentials need sagemaker:ListTags.`, { cause: e, details: { endpointName } });
    });
    const exists = previous && previous !== live.configName && (await modelsOf(control, previous, region)).length > 0;
    if (!previous || !exists) {
      throw new DeployModelError('ROLLBACK_NO_PREVIOUS', `Target '${ctx.targetName}' has no earlier version to roll back to: endpoint ${endpointName} serves ${live.configName} and ${previous ? `the endpoint config its tag ${PREVIOUS_CONFIG_TAG} names, ${previous}, ${previous === live.configName ? 'is the one serving' : 'no longer exists'}` : `has no tag ${PREVIOUS_CONFIG_TAG} (a first deploy, or a rollback already made)`}. Deploy the earlier model or config to serve it again.`, { details: { target: ctx.targetName, endpointName, serving: live.configName, previous } });
    }
    io.info('DM_SAGEMAKER_RESTORE', `Putting endpoint ${endpointName} back from ${live.configName} on ${previous}`, { from: live.configName, to: previous });
    const back = await switchEndpointConfig(control, endpointName, previous, region, io, pollMs, updateTimeoutMs);
    if (back?.configName !== previous || back.status !== 'InService') {
      throw new DeployModelError('SAGEMAKER_ROLLBACK_FAILED',
        `Putting endpoint ${endpointName} back on ${previous} did not succeed: it is ${back?.status ?? 'gone'} on ${back?.configName ?? '-'}${back?.failureReason ? ` (FailureReason: ${back.failureReason})` : ''}. ` +
        `Fix: read why in ${plan.logGroupName} (\`aws logs tail ${plan.logGroupName} --region ${region}\`), then try again, or deploy a version that passes its smoke test.`,
        { details: { endpointName, previous, status: back?.status, serving: back?.configName, failureReason: back?.failureReason } });
    }
    // One step back only: the config it came from stays the stack's, and a second rollback has none.
    if (live.arn) await recordPreviousConfig(control, live.arn, undefined);
    return { from: live.configName, to: previous, endpoint: invocationsUrl(region, endpointName), details: { endpointName, endpointConfigName: previous } };
  });
}
