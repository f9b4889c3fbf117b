/** The `web` target: the model in the browser with onnxruntime-web, a static bundle served on 127.0.0.1 or from S3 + CloudFront. */
import type { TargetDriver } from '../driver.js';
import { defineTarget } from '../target-module.js';
import { plan, type WebPlan } from './plan.js';
import { webTargetSchema, type WebTargetConfig } from './schema.js';
import { validate } from './validate.js';

export type { WebTargetConfig, WebTargetInput, WebHost, WebModelFormat } from './schema.js';
export type { WebPlan, WebFile, WebFileSource, WebStackPlan } from './plan.js';
export type { WebBuild, BuiltWebFile } from './build.js';
// What the stack in infra/ shares with the other hosts of the bundle (light: no CDK here).
export { CONTENT_TYPES, IMMUTABLE_FOLDERS } from './headers.js';

export const webTarget = defineTarget({
  type: 'web',
  schema: webTargetSchema,
  validate,
  plan,
  driver: async (): Promise<TargetDriver<WebTargetConfig, WebPlan>> => (await import('./driver.js')).webDriver,
});
