/** Sends what the fake's SageMaker containers print to its CloudWatch Logs, as SageMaker does. */
import type { SageMakerFake } from './_sagemaker-store.js';
import { cloudWatchLogsFake, sageMakerLogStreamName } from './logs.js';
import type { FakeState } from './state.js';

/**
 * Sends what each endpoint's container prints (`sm.log`) to CloudWatch Logs as SageMaker does:
 * `/aws/sagemaker/Endpoints/<endpoint>`, one stream per instance (`AllTraffic/i-<hex>`), each line
 * an event at the time it was written. `sm.logs` keeps the lines as before.
 */
export function sendContainerLogsToCloudWatch(state: FakeState, sm: SageMakerFake): void {
  const keep = sm.log.bind(sm);
  sm.log = (endpoint, line) => {
    keep(endpoint, line);
    const variant = sm.endpointConfigs.get(sm.endpoints.get(endpoint)?.configName ?? '')?.variants[0]?.VariantName ?? 'AllTraffic';
    cloudWatchLogsFake(state).put(`/aws/sagemaker/Endpoints/${endpoint}`, sageMakerLogStreamName(variant, endpoint), line);
  };
}
