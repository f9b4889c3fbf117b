/** The throwaway target's config entry: a type and nothing else to set. */
import { z } from 'zod';

export const throwawayTargetSchema = z.object({
  type: z.literal('throwaway').describe('Runs the model in this process; a target that exists only to show what a new target takes.'),
}).strict().describe('A throwaway target for tests: the model served in-process, its versions recorded in the state folder.');

export type ThrowawayTargetConfig = z.output<typeof throwawayTargetSchema>;
