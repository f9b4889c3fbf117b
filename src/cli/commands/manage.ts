// The status, destroy and invoke commands.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { DeployModelError, EXIT } from '../../errors.js';
import { makeContext, type GlobalOptions } from '../context.js';
import { configOptions, targetOption } from '../common-options.js';
import { renderTable } from '../render-table.js';
import { formatBytes } from '../format.js';
import { generateSmokeRequest, inferShape, type V2Request } from '../../smoke/smoke-input.js';
import { v2Datatype } from '../../model/dtypes.js';

type Opts = GlobalOptions & { target?: string[] };

export function registerManage(program: Command): void {
  const artifactCommand = (name: 'build' | 'synth', description: string, column: string) =>
    targetOption(configOptions(program.command(name)))
      .description(description)
      .action(async (opts: Opts) => {
        const cli = makeContext(opts);
        const project = await cli.toolkit.load({ configFile: opts.config, stage: opts.stage });
        const results = await cli.toolkit[name](project, opts.target);
        if (cli.json) cli.outJson({ targets: cli.host.withWarnings(Object.entries(results).map(([target, r]) => ({ name: target, type: project.loaded.config.targets[target]!.type, cached: Boolean(r.cached), artifacts: r.artifacts }))) });
        else cli.out(renderTable(['TARGET', column, 'SIZE', 'FILE'], Object.entries(results).flatMap(([target, r]) => r.artifacts.map((a) => [target, a.kind, formatBytes(a.bytes), path.relative(process.cwd(), a.file)]))));
      });
  artifactCommand('build', "Build each target's artifacts (handler bundle, layer, model package) without deploying", 'ARTIFACT');
  artifactCommand('synth', 'Write the infrastructure (CloudFormation assembly, build context, manifests) with no credentials and no network', 'OUTPUT');

  targetOption(configOptions(program.command('status')))
    .description('Show what is deployed for each target (read from the deployment itself, no local state needed for clouds)')
    .action(async (opts: Opts) => {
      const cli = makeContext(opts);
      const project = await cli.toolkit.load({ configFile: opts.config, stage: opts.stage });
      const rows = await cli.toolkit.status(project, opts.target);
      if (cli.json) cli.outJson({ targets: rows });
      else {
        const table = renderTable(['TARGET', 'TYPE', 'STATE', 'ENDPOINT', 'VERSION'], rows.map((r) => [r.name, r.type, r.error ? cli.style.red('unknown') : r.state, r.endpoint ?? '-', r.version ?? '-']));
        const errors = rows.filter((r) => r.error).map((r) => cli.style.red(`${r.name}: ${r.error!.code}: ${r.error!.message}`));
        cli.out([table, ...(errors.length ? ['', ...errors] : [])].join('\n'));
      }
      // Each target is reported; a status that could not be read fails the command.
      if (rows.some((r) => r.error)) process.exitCode = EXIT.failure;
    });

  targetOption(configOptions(program.command('destroy')))
    .description('Remove deployed targets (stops local deployments); asks first unless --yes')
    .option('-y, --yes', 'do not ask for confirmation')
    .action(async (opts: Opts & { yes?: boolean }) => {
      const cli = makeContext(opts);
      const project = await cli.toolkit.load({ configFile: opts.config, stage: opts.stage });
      const names = opts.target?.length ? opts.target : Object.keys(project.loaded.config.targets);
      // What runs on this machine or is published by hand is stopped or left without asking.
      const cloud = names.filter((n) => {
        const target = project.loaded.config.targets[n];
        return target?.type !== 'local' && target?.type !== 'react-native' && !(target?.type === 'web' && target.host !== 'aws');
      });
      if (cloud.length && !opts.yes) {
        const ok = await cli.host.confirm(`Destroy ${cloud.join(', ')} (stage ${project.loaded.stage})? This deletes cloud resources.`, false);
        if (!ok) {
          throw new DeployModelError('DESTROY_NOT_CONFIRMED', `Nothing destroyed. Pass --yes to destroy ${cloud.join(', ')} without a prompt.`, { kind: 'usage' });
        }
      }
      const results = await cli.toolkit.destroy(project, names);
      if (cli.json) cli.outJson({ targets: results });
      else {
        cli.out(results.map((r) => [
          `${r.name}: ${r.removed ? 'removed' : 'nothing deployed'}`,
          ...(r.retained ?? []).map((k) => `  kept ${k.type} ${k.physicalId}${k.deleteWith ? `; delete it with: ${k.deleteWith}` : ''}`),
        ].join('\n')).join('\n'));
      }
    });

  configOptions(program.command('invoke'))
    .description('Send one request to a deployed target and print the response')
    .requiredOption('-t, --target <name>', 'the target to call')
    .option('-i, --input <file>', 'JSON file: a v2 request ({"inputs": [...]}) or {"name": nested array}; default: generated from the signature')
    .action(async (opts: GlobalOptions & { target: string; input?: string }) => {
      const cli = makeContext(opts);
      const project = await cli.toolkit.load({ configFile: opts.config, stage: opts.stage });
      let request: V2Request;
      if (opts.input) {
        let raw: unknown;
        try {
          raw = JSON.parse(await readFile(path.resolve(opts.input), 'utf8'));
        } catch (e) {
          throw new DeployModelError('INVOKE_INPUT_INVALID', `--input ${opts.input} is not a readable JSON file: ${(e as Error).message}`, { kind: 'usage', cause: e });
        }
        request = Array.isArray((raw as { inputs?: unknown }).inputs)
          ? (raw as V2Request)
          : { inputs: Object.entries(raw as Record<string, unknown>).map(([name, value]) => {
              const spec = project.signature.inputs.find((i) => i.name === name);
              const { shape, data } = inferShape(value, `--input ${name}`);
              return { name, shape, data, datatype: spec && spec.dtype !== 'unsupported' ? v2Datatype(spec.dtype) : 'FP32' };
            }) };
      } else {
        request = generateSmokeRequest(project.signature, project.loaded.config.model.inputs);
      }
      const call = await cli.toolkit.invoke(project, opts.target, request);
      if (cli.json) cli.outJson({ status: call.status, latencyMs: Math.round(call.latencyMs * 10) / 10, body: call.body });
      else cli.out(`HTTP ${call.status} in ${Math.round(call.latencyMs)} ms\n${JSON.stringify(call.body, null, 2)}`);
      if (call.status !== 200) process.exitCode = EXIT.failure;
    });
}
