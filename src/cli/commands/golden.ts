/** `deploy-model golden`: records golden outputs with onnxruntime-node for `smoke.golden` to name. */
import path from 'node:path';
import type { Command } from 'commander';
import { makeContext, type GlobalOptions } from '../context.js';
import { configOptions } from '../common-options.js';
import { renderTable } from '../render-table.js';
import { smokeRequest, type V2Request } from '../../smoke/smoke-input.js';

type Opts = GlobalOptions & { out?: string; input?: string[] };

export function registerGolden(program: Command): void {
  configOptions(program.command('golden'))
    .description("Record golden outputs: onnxruntime-node's answers on this CPU to the smoke input and each --input, for smoke.golden")
    .addHelpText('after', `
Every smoke test (deploy, smoke, each traffic step) then compares the target's answers with them,
within a tolerance chosen from how the target runs the model (smoke.tolerance overrides it).
Examples:
  deploy-model golden --out golden.json                         the smoke input only
  deploy-model golden --out golden.json -i cat.json -i dog.json  several requests`)
    .option('-o, --out <file>', "where to write them (default: smoke.golden when it is a path, else golden.json beside the config)")
    .option('-i, --input <file>', 'another request to record: a JSON file as smoke.input takes (repeatable)', (value: string, prev: string[] = []) => [...prev, value])
    .action(async (opts: Opts) => {
      const cli = makeContext(opts);
      const project = await cli.toolkit.load({ configFile: opts.config, stage: opts.stage });
      const { config, rootDir } = project.loaded;
      const configured = config.smoke.golden && config.smoke.golden !== 'auto' && config.smoke.golden !== 'off' ? path.resolve(rootDir, config.smoke.golden) : undefined;
      const file = opts.out ? path.resolve(opts.out) : configured ?? path.join(rootDir, 'golden.json');
      const requests: V2Request[] = [];
      for (const input of opts.input ?? []) requests.push(await smokeRequest(project.signature, { model: config.model, smoke: { ...config.smoke, input: path.resolve(input) } }, process.cwd()));
      const golden = await cli.toolkit.recordGolden(project, file, requests);
      const cases = golden.cases.map((c, i) => ({ case: i + 1, sha256: c.sha256, outputs: c.outputs.map((o) => ({ name: o.name, datatype: o.datatype, shape: o.shape })) }));
      if (cli.json) cli.outJson({ file, model: golden.model, producer: golden.producer, cases });
      else {
        cli.out(renderTable(['CASE', 'OUTPUTS', 'SHA256'], cases.map((c) => [String(c.case), c.outputs.map((o) => `${o.name} ${o.datatype} [${o.shape.join(', ')}]`).join('; '), c.sha256.slice(0, 16)])));
        cli.note(`\nWrote ${path.relative(process.cwd(), file) || file} (onnxruntime-node ${golden.producer.version}, ${golden.producer.arch}).${configured === file ? '' : ` Point smoke.golden at it: smoke: { golden: './${path.relative(rootDir, file)}' }`}`);
      }
    });
}
