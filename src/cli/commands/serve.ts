/** `deploy-model serve`: a local target in the foreground. */
import type { Command } from 'commander';
import { DeployModelError } from '../../errors.js';
import { makeContext, type GlobalOptions } from '../context.js';
import { configOptions } from '../common-options.js';

export function registerServe(program: Command): void {
  configOptions(program.command('serve'))
    .description('Run a local target in the foreground until Ctrl-C (for development)')
    .option('-t, --target <name>', 'the local target to serve (default: the first local target)')
    .option('-p, --port <port>', 'port on 127.0.0.1 (default: the target port, else a free one)', (v) => Number.parseInt(v, 10))
    .action(async (opts: GlobalOptions & { target?: string; port?: number }) => {
      const cli = makeContext(opts);
      const project = await cli.toolkit.load({ configFile: opts.config, stage: opts.stage });
      const name = opts.target ?? Object.entries(project.loaded.config.targets).find(([, t]) => t.type === 'local')?.[0];
      if (!name) {
        throw new DeployModelError('SERVE_NO_LOCAL_TARGET', `${project.loaded.configFile} has no target of type 'local'. Add \`local: { type: 'local' }\` to targets, or pass --target.`, { kind: 'usage' });
      }
      const type = project.loaded.config.targets[name]?.type;
      if (type !== undefined && type !== 'local') {
        throw new DeployModelError('SERVE_NOT_LOCAL', `Target '${name}' is of type '${type}'; serve runs local targets only. Use deploy for it.`, { kind: 'usage' });
      }
      const [ctx] = await cli.toolkit.contexts(project, [name]);
      const { serveLocalTarget } = await import('../../targets/local/serve.js');
      const running = await serveLocalTarget(ctx as Parameters<typeof serveLocalTarget>[0], { port: opts.port });
      cli.note(`Serving ${project.loaded.config.name} at ${running.url} (Ctrl-C to stop)`);
      cli.note(`  curl -s ${new URL(`v2/models/${encodeURIComponent(project.loaded.config.name)}`, running.url.endsWith('/') ? running.url : `${running.url}/`).href}`);
      await new Promise<void>((resolve) => {
        const stop = () => { void running.stop().then(resolve); };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
