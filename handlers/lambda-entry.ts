// The Lambda entry point: loads the model at init and exports the handler.
import { exampleShapesFromEnv } from './api-docs/api-routes.js';
import { createLambdaHandler } from './lambda/create-lambda-handler.js';
import { weightsFromEnv } from './lambda/weights-from-s3.js';
import { createCoreFromEnv } from './runtime-config.js';

/**
 * The Lambda entry point, bundled to `index.mjs`. The model is loaded at module init, outside the
 * request path (init also gets the full CPU of the function's memory size). A failure here throws,
 * so Lambda reports an init error carrying this message.
 */
const exampleShapes = exampleShapesFromEnv(process.env);
// Weights kept in S3 (`weights: 's3'`) are fetched into /tmp first, once per execution environment.
const core = await weightsFromEnv(process.env, (line) => console.log(line)).then(() => createCoreFromEnv(process.env)).catch((e: unknown) => {
  throw new Error(`deploy-model: the inference runtime could not start: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
});

export const handler = createLambdaHandler(core, { ...(exampleShapes ? { exampleShapes } : {}) });
