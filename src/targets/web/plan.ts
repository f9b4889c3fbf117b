// The web target's plan: the bundle's files and headers, and the AWS stack where it has one.
import path from 'node:path';
import { transformSync } from 'esbuild';
import type { ProjectConfig } from '../../config/schema.js';
import { checkedStackName } from '../../kits/aws/stack-name.js';
import { clientTypes, type ClientTypes } from '../../kits/on-device/render-signature-types.js';
import { basePlan } from '../base-plan.js';
import { resourceName } from '../resource-name.js';
import type { PlanInput, RolloutStep, TargetPlanBase } from '../target-module.js';
import { fileHeaders, siteHeaders } from './headers.js';
import { ORT_WEB_ENTRIES, ORT_WEB_FILES, ORT_WEB_VERSION, type OrtWebEntry } from './ort-web-dist.js';
import { PAGE_SCRIPT } from './_page-script.js';
import { renderClient } from './render-client.js';
import { renderHostConfig } from './render-host-config.js';
import { renderIndexHtml } from './render-index-html.js';
import type { CLOUDFRONT_PRICE_CLASSES, WebHost, WebModelFormat, WebTargetConfig } from './schema.js';
import { webProblems, type WebProblem } from './web-problems.js';

/** Where a file of the bundle comes from. */
export type WebFileSource =
  /** A file of the pinned onnxruntime-web's dist/, by name; the build finds the installed package. */
  | { kind: 'ort-web'; name: string }
  | { kind: 'model'; file: string }
  | { kind: 'model-to-ort'; file: string }
  /** `name` is the location the model gives, relative to its folder. */
  | { kind: 'external-data'; name: string; file: string }
  | { kind: 'generated'; content: string }
  /** The smoke request (smoke.input, which may name a file), written at build. */
  | { kind: 'smoke-input' }
  /** onnxruntime-node's outputs on the smoke request, computed at build. */
  | { kind: 'reference-outputs' };

export interface WebFile {
  /** Path in the served folder (`site/`), with forward slashes. */
  path: string;
  source: WebFileSource;
  /** Null when only the build knows (a converted model, external data, the smoke data). */
  bytes: number | null;
  headers: Record<string, string>;
}

/** The CloudFormation stack of a web target on AWS (`host: 'aws'`). */
export interface WebStackPlan {
  /** `<name>-<stage>-<target>`, checked against CloudFormation's rules. */
  readonly stackName: string;
  readonly region: string;
  readonly priceClass: (typeof CLOUDFRONT_PRICE_CLASSES)[number];
}

export interface WebPlan extends TargetPlanBase {
  readonly type: 'web';
  /** The config's name: the page's title and the v2 `model_name`. */
  readonly name: string;
  readonly host: WebHost;
  readonly region?: string;
  readonly port?: number;
  /** The stack, on AWS only. */
  readonly aws?: WebStackPlan;
  /**
   * What the bundle's smoke input (and onnxruntime-node's answer to it) is derived from: part of
   * the plan so that changing it builds the bundle again. A file named by `smoke.input` is read at build.
   */
  readonly smokeInput: { readonly input: ProjectConfig['smoke']['input']; readonly shapes: NonNullable<ProjectConfig['model']['inputs']> };
  readonly ortVersion: string;
  readonly entry: OrtWebEntry;
  readonly threads: number;
  readonly crossOriginIsolated: boolean;
  readonly webgpu: boolean;
  readonly tolerance: number;
  readonly modelFormat: WebModelFormat;
  /** The model file in the bundle. */
  readonly modelFile: string;
  /** Headers every response carries. */
  readonly siteHeaders: Record<string, string>;
  /** Every served file, sorted by path. */
  readonly files: WebFile[];
  /** The typed client's TypeScript, written beside the site (`client.ts`) for apps to import. */
  readonly clientSource: string;
  /** Each input's and output's type in the client. */
  readonly client: ClientTypes;
  /**
   * Raw bytes: the runtime, the model (null when converted to .ort at build), every file whose
   * size is known now, and the files only the build sizes.
   */
  readonly sizes: { ortBytes: number; modelBytes: number | null; knownBytes: number; sizedAtBuild: string[] };
  /** What the signature and the config alone tell (validate adds onnxruntime-web's own verdict). */
  readonly problems: WebProblem[];
}

/** Folder of the runtime in the bundle: versioned, so it can be cached for good. */
export const ortFolder = (version: string): string => `ort/${version}/`;

const compile = (source: string): string => transformSync(source, { loader: 'ts', format: 'esm', target: 'es2022', charset: 'utf8' }).code;

/** What each rollout hook does for each kind of host. */
function rolloutSteps(target: WebTargetConfig, resourceName: string): RolloutStep[] {
  const smoke: RolloutStep = { phase: 'smoke', action: 'open the page in headless Chromium, run the smoke input there, and compare the outputs with onnxruntime-node\'s' };
  if (target.host === 'aws') {
    return [
      { phase: 'stage', action: `deploy stack ${resourceName}: upload onnxruntime-web and the model, then the page, to the bucket behind CloudFront (the new page serves from then on)` },
      smoke,
      { phase: 'promote', action: 'nothing more: CloudFront serves the new page once the stack is deployed' },
      { phase: 'rollback', action: `deploy the previous template of ${resourceName} again, which puts the previous page and model back (a first deploy has none: the page stays)` },
    ];
  }
  if (target.host === 'local') {
    return [
      { phase: 'stage', action: 'serve the new bundle on 127.0.0.1 on a port of its own, beside the version that serves' },
      smoke,
      { phase: 'promote', action: 'swap it in behind the deployment\'s URL and stop its own server' },
      { phase: 'rollback', action: 'stop its server; the previous version keeps serving' },
    ];
  }
  return [
    { phase: 'stage', action: 'serve the bundle on 127.0.0.1 for the smoke test' },
    smoke,
    { phase: 'promote', action: `nothing to upload: publish the site folder to ${target.host}` },
    { phase: 'rollback', action: 'stop the local server' },
  ];
}

/**
 * What the web target writes, resolved once: the three onnxruntime-web files, the model (by content
 * hash, so it caches for good), the typed client, the index page and its script, the smoke data,
 * the host's header file, and the headers of every file. Pure: the same input gives an equal plan.
 */
export function plan(input: PlanInput<WebTargetConfig>): WebPlan {
  const { target, signature, config } = input;
  const entry: OrtWebEntry = target.webgpu ? 'webgpu' : 'wasm';
  const crossOriginIsolated = target.threads > 1;
  const ortDir = ortFolder(ORT_WEB_VERSION);
  const stem = `model/${signature.sha256.slice(0, 12)}`;
  const modelFile = target.modelFormat === 'ort' ? `${stem}-${ORT_WEB_VERSION}.ort` : `${stem}.onnx`;
  const modelDir = path.dirname(signature.file);
  // An .ort file holds its initializers itself; an .onnx keeps its external data beside it.
  const externalData = target.modelFormat === 'ort' ? [] : signature.externalData.map((name) => ({ name, file: path.resolve(modelDir, name), path: `${stem}.data/${name}` }));
  // External data is sized at build; its weights are counted in initializerBytes.
  const modelBytes = signature.bytes + (signature.externalData.length ? signature.initializerBytes : 0);

  const clientSource = renderClient({
    name: config.name, modelFile, modelFormat: target.modelFormat, sha256: signature.sha256,
    externalData: externalData.map((d) => ({ name: d.name, file: d.path })),
    ortVersion: ORT_WEB_VERSION, ortModule: `${ortDir}${ORT_WEB_ENTRIES[entry].module}`, ortDir, threads: target.threads, webgpu: target.webgpu,
    tolerance: target.tolerance, inputs: signature.inputs, outputs: signature.outputs,
  });
  const generated = (content: string): Pick<WebFile, 'source' | 'bytes'> => ({ source: { kind: 'generated', content }, bytes: Buffer.byteLength(content) });
  const manifest = {
    name: config.name, ortVersion: ORT_WEB_VERSION, entry, threads: target.threads, webgpu: target.webgpu,
    modelFile, modelSha256: signature.sha256, modelFormat: target.modelFormat,
  };

  const files: Omit<WebFile, 'headers'>[] = [
    ...ORT_WEB_FILES[entry].map((f) => ({ path: `${ortDir}${f.name}`, source: { kind: 'ort-web' as const, name: f.name }, bytes: f.bytes })),
    target.modelFormat === 'ort'
      ? { path: modelFile, source: { kind: 'model-to-ort' as const, file: signature.file }, bytes: null }
      : { path: modelFile, source: { kind: 'model' as const, file: signature.file }, bytes: signature.bytes },
    ...externalData.map((d) => ({ path: d.path, source: { kind: 'external-data' as const, name: d.name, file: d.file }, bytes: null })),
    { path: 'index.html', ...generated(renderIndexHtml({ name: config.name, ortVersion: ORT_WEB_VERSION, modelFile, modelBytes, threads: target.threads, webgpu: target.webgpu })) },
    { path: 'client.js', ...generated(compile(clientSource)) },
    { path: 'app.js', ...generated(compile(PAGE_SCRIPT)) },
    { path: 'smoke-input.json', source: { kind: 'smoke-input' }, bytes: null },
    { path: 'smoke-expected.json', source: { kind: 'reference-outputs' }, bytes: null },
    { path: 'deploy-model.json', ...generated(`${JSON.stringify(manifest, null, 2)}\n`) },
  ];
  const byPath = (a: { path: string }, b: { path: string }) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
  const withHeaders: WebFile[] = files.map((f) => ({ ...f, headers: fileHeaders(f.path, crossOriginIsolated) })).sort(byPath);
  const hostConfig = renderHostConfig({ host: target.host, crossOriginIsolated, files: withHeaders });
  if (hostConfig) {
    withHeaders.push({ path: hostConfig.path, ...generated(hostConfig.content), headers: fileHeaders(hostConfig.path, crossOriginIsolated) });
    withHeaders.sort(byPath);
  }

  const base = basePlan(input, []);
  return {
    ...base,
    rollout: { ...base.rollout, steps: rolloutSteps(target, base.resourceName) },
    type: 'web',
    name: config.name,
    host: target.host,
    ...(target.region ? { region: target.region } : {}),
    ...(target.port === undefined ? {} : { port: target.port }),
    ...(target.host === 'aws' && target.region ? { aws: { stackName: webStackName(input), region: target.region, priceClass: target.priceClass } } : {}),
    smokeInput: { input: config.smoke.input, shapes: config.model.inputs ?? {} },
    ortVersion: ORT_WEB_VERSION,
    entry,
    threads: target.threads,
    crossOriginIsolated,
    webgpu: target.webgpu,
    tolerance: target.tolerance,
    modelFormat: target.modelFormat,
    modelFile,
    siteHeaders: siteHeaders(crossOriginIsolated),
    files: withHeaders,
    clientSource,
    client: clientTypes(signature),
    sizes: {
      ortBytes: ORT_WEB_FILES[entry].reduce((a, f) => a + f.bytes, 0),
      modelBytes: target.modelFormat === 'ort' ? null : modelBytes,
      knownBytes: withHeaders.reduce((a, f) => a + (f.bytes ?? 0), 0),
      sizedAtBuild: withHeaders.filter((f) => f.bytes === null).map((f) => f.path),
    },
    problems: webProblems({ targetName: input.targetName, signature, target, modelBytes }),
  };
}

/** The stack's name: the target's resource name, when CloudFormation accepts it (else STACK_NAME_INVALID with the fix). */
export function webStackName(input: Pick<PlanInput<WebTargetConfig>, 'config' | 'stage' | 'targetName'>): string {
  return checkedStackName(resourceName(input.config.name, input.stage, input.targetName), { name: input.config.name, stage: input.stage, targetName: input.targetName });
}

/** The bundle path of a file as a path on disk under `siteDir`. */
export function sitePath(siteDir: string, bundlePath: string): string {
  return path.join(siteDir, ...bundlePath.split('/'));
}
