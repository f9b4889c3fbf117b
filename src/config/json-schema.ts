// The JSON Schema of the config file.
import { z } from 'zod';
import { configSchema } from './schema.js';

/** The JSON Schema of what users write (defaults are optional there). */
export function configJsonSchema(): Record<string, unknown> {
  return {
    title: 'deploy-model config',
    ...z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }),
  } as Record<string, unknown>;
}
