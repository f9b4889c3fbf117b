/** `deploy-model schema`: the config's JSON Schema. */
import type { Command } from 'commander';

export function registerSchema(program: Command): void {
  program
    .command('schema')
    .description("Print the config's JSON Schema (generated from the same schema that validates configs)")
    .action(async () => {
      const { configJsonSchema } = await import('../../config/json-schema.js');
      process.stdout.write(`${JSON.stringify(configJsonSchema(), null, 2)}\n`);
    });
}
