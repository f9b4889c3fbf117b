import type { Command } from 'commander';
import { configJsonSchema } from '../../config/json-schema.js';

export function registerSchema(program: Command): void {
  program
    .command('schema')
    .description("Print the config's JSON Schema (generated from the same schema that validates configs)")
    .action(() => {
      process.stdout.write(`${JSON.stringify(configJsonSchema(), null, 2)}\n`);
    });
}
