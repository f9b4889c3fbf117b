// The model statistics route, in the shape of Triton's statistics extension.
import type { PoolStats } from '../pool/types.js';

/**
 * `GET /v2/models/{name}/stats` in the shape of Triton's statistics extension (the fields the
 * pool measures), plus a `deploy_model` section with the pool's own figures: workers, the
 * batching in effect, the queue now and the requests refused.
 */
export function modelStatistics(modelName: string, stats: PoolStats): unknown {
  return {
    model_stats: [{
      name: modelName,
      version: '1',
      inference_count: stats.inferenceCount,
      execution_count: stats.executionCount,
      inference_stats: {
        success: stats.success,
        fail: stats.fail,
        queue: stats.queue,
        compute_infer: stats.computeInfer,
      },
      batch_stats: stats.batches.map((b) => ({ batch_size: b.batchSize, compute_infer: b.computeInfer })),
    }],
    deploy_model: {
      workers: stats.workers,
      intra_op_threads: stats.intraOpThreads,
      batching: stats.batching,
      queued: stats.queued,
      running: stats.running,
      rejected: stats.rejected,
      batches: stats.batches.map((b) => ({ batch_size: b.batchSize, runs: b.count, requests: b.requests })),
    },
  };
}
