/**
 * The long options `tritonserver` takes, and how each value is read, from triton-inference-server/
 * server `src/command_line_parser.cc` (`TritonParser::SetupOptions`, the option table, and the
 * `switch` in `TritonParser::Parse`), checked on branches r24.09 to r25.09: the same options in
 * all of them but the three with `since`.
 *
 * Value kinds, as `Parse` reads them:
 * - `none`: takes no value (`Option::ArgNone`);
 * - `bool`: `ParseOption<bool>`, true/on/1 or false/off/0 in any case;
 * - `int`, `int64`: `ParseOption<int>` / `<int64_t>`, i.e. `std::stoi` / `std::stoll`: leading
 *   digits are read and the rest ignored, no digits or out of range is an error;
 * - `double`: `ParseOption<double>` (`std::stod`);
 * - `int-bool`: `ParseIntBoolOption`, true/false or an int;
 * - a list of words: the option's own check (`invalid argument for --<name>`);
 * - `string`: taken as given;
 * - `structured`: `<key>=<value>` forms the stand-in takes without checking them.
 */
export type TritonValueKind = 'none' | 'bool' | 'int' | 'int64' | 'double' | 'int-bool' | 'string' | 'structured' | { words: readonly string[]; caseInsensitive: boolean };

export interface TritonOptionSpec {
  value: TritonValueKind;
  /** Options sharing an id are one option under two names (`--model-store` is `--model-repository`). */
  id?: string;
  /** The first release whose parser has it. */
  since?: string;
}

const b = { value: 'bool' } as const;
const i = { value: 'int' } as const;
const s = { value: 'string' } as const;
const x = { value: 'structured' } as const;

export const TRITON_OPTIONS: Readonly<Record<string, TritonOptionSpec>> = {
  // Server and model repository (SetupOptions: server_options_, model_repo_options_)
  help: { value: 'none' },
  id: s,
  'exit-timeout-secs': i,
  'model-store': { value: 'string', id: 'model-repository' },
  'model-repository': { value: 'string', id: 'model-repository' },
  'exit-on-error': b,
  'disable-auto-complete-config': { value: 'none' },
  'strict-readiness': b,
  'model-control-mode': { value: { words: ['none', 'poll', 'explicit'], caseInsensitive: true } },
  'repository-poll-secs': i,
  'load-model': s,
  'model-config-name': s,
  'model-load-thread-count': i,
  'model-load-retry-count': i,
  'model-namespacing': b,
  'enable-peer-access': b,
  // HTTP (http_options_)
  'allow-http': b,
  'http-address': s,
  'http-port': i,
  'reuse-http-port': b,
  'http-header-forward-pattern': s,
  'http-thread-count': i,
  'http-max-input-size': { value: 'int64', since: '25.06' },
  'http-restricted-api': x,
  // GRPC (grpc_options_)
  'allow-grpc': b,
  'grpc-address': s,
  'grpc-port': i,
  'reuse-grpc-port': b,
  'grpc-header-forward-pattern': s,
  'grpc-infer-thread-count': { value: 'int', since: '25.04' },
  'grpc-infer-allocation-pool-size': i,
  'grpc-max-response-pool-size': { value: 'int', since: '25.03' },
  'grpc-use-ssl': b,
  'grpc-use-ssl-mutual': b,
  'grpc-server-cert': s,
  'grpc-server-key': s,
  'grpc-root-cert': s,
  'grpc-infer-response-compression-level': { value: { words: ['none', 'low', 'medium', 'high'], caseInsensitive: true } },
  'grpc-keepalive-time': i,
  'grpc-keepalive-timeout': i,
  'grpc-keepalive-permit-without-calls': b,
  'grpc-http2-max-pings-without-data': i,
  'grpc-http2-min-recv-ping-interval-without-data': i,
  'grpc-http2-max-ping-strikes': i,
  'grpc-max-connection-age': i,
  'grpc-max-connection-age-grace': i,
  'grpc-restricted-protocol': x,
  // Logging (logging_options_)
  'log-verbose': { value: 'int-bool' },
  'log-info': b,
  'log-warning': b,
  'log-error': b,
  'log-format': { value: { words: ['default', 'ISO8601'], caseInsensitive: false } },
  'log-file': s,
  // SageMaker and Vertex AI front ends (sagemaker_options_, vertex_options_)
  'allow-sagemaker': b,
  'sagemaker-port': i,
  'sagemaker-safe-port-range': x,
  'sagemaker-thread-count': i,
  'allow-vertex-ai': b,
  'vertex-ai-port': i,
  'vertex-ai-thread-count': i,
  'vertex-ai-default-model': s,
  // Metrics, tracing, cache, rate limiting, memory, backends (metric_options_ and the rest)
  'allow-metrics': b,
  'allow-gpu-metrics': b,
  'allow-cpu-metrics': b,
  'metrics-address': s,
  'metrics-port': i,
  'metrics-interval-ms': i,
  'metrics-config': x,
  'trace-config': x,
  'cache-config': x,
  'cache-directory': s,
  'rate-limit': { value: { words: ['execution_count', 'off'], caseInsensitive: true } },
  'rate-limit-resource': x,
  'pinned-memory-pool-byte-size': { value: 'int64' },
  'cuda-memory-pool-byte-size': x,
  'cuda-virtual-address-size': x,
  'min-supported-compute-capability': { value: 'double' },
  'buffer-manager-thread-count': i,
  'host-policy': x,
  'model-load-gpu-limit': x,
  'backend-directory': s,
  'backend-config': x,
  'repoagent-directory': s,
  // DEPRECATED group
  'strict-model-config': b,
  'response-cache-byte-size': { value: 'int64' },
  'trace-file': s,
  'trace-level': x,
  'trace-rate': i,
  'trace-count': i,
  'trace-log-frequency': i,
};

/** The options a release's parser has. `release` is `YY.MM`; undefined means the newest known. */
export function tritonOptionsOf(release?: string): Record<string, TritonOptionSpec> {
  return Object.fromEntries(Object.entries(TRITON_OPTIONS).filter(([, o]) => !o.since || !release || release >= o.since));
}
