/**
 * The container target's logs: the image runs wherever it is run (a cluster from the generated
 * manifests, a host with docker or podman); a deploy runs it here only for its smoke test. So
 * `logs` says where they are and gives the commands for the manifests' labels.
 */
import { logsElsewhere } from '../../kits/logs/logs-elsewhere.js';
import type { LogLine, LogsOptions } from '../../kits/logs/log-line.js';
import type { ContainerContext } from './build.js';

export function containerLogs(ctx: ContainerContext, options: LogsOptions): AsyncIterable<LogLine> {
  const name = ctx.config.name;
  const since = options.since ? ` --since-time=${options.since.toISOString().replace(/\.\d{3}Z$/, 'Z')}` : '';
  return logsElsewhere({
    targetName: ctx.targetName, type: 'container',
    where: `where its image runs: a deploy runs the image on this machine only for the smoke test and removes that container, so the logs are those of the pods made from ${ctx.workDir}/k8s/ or of a container you run`,
    commands: [
      `kubectl logs -l app.kubernetes.io/name=${name} --all-containers --prefix${since}    # add -f to follow`,
      'docker logs CONTAINER    # or podman logs CONTAINER, where you run the image yourself',
    ],
  });
}
