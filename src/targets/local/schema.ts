import { z } from 'zod';

export const localTargetSchema = z
  .object({
    type: z.literal('local'),
    /**
     * Loopback port the local Function URL listens on.
     * @default - a free port chosen at deploy time
     */
    port: z.number().int().min(1024).max(65535).optional()
      .describe('Loopback port the local Function URL listens on. Default: a free port chosen at deploy time.'),
    /**
     * Memory size passed to the function as AWS_LAMBDA_FUNCTION_MEMORY_SIZE.
     * @default 2048
     */
    memoryMb: z.number().int().min(128).max(10240).default(2048)
      .describe('Memory size the local function reports (AWS_LAMBDA_FUNCTION_MEMORY_SIZE). Default: 2048.'),
    /**
     * Per-request timeout, as on Lambda.
     * @default 30
     */
    timeoutSeconds: z.number().int().min(1).max(900).default(30)
      .describe('Per-request timeout, as on Lambda. Default: 30.'),
  })
  .strict()
  .describe('Runs the built Lambda artifacts on this machine under a local Lambda Runtime API, exposed on 127.0.0.1 like a Function URL. No cloud, no credentials.');

export type LocalTargetConfig = z.infer<typeof localTargetSchema>;
